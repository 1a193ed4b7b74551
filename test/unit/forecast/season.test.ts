import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS, WEEK_MS, detectSeason, seasonalAutocorrelation } from '../../../src/forecast/season.js';
import { loadTrace, resample } from '../../../src/traces/csv.js';
import { FIVE_MINUTES, MINUTE, dailySine, gaussian, makeSeries } from './fixtures.js';

const TRACES = resolve(process.cwd(), '../shared/data/traces/dev');

describe('detectSeason', () => {
  it('finds the daily season of a real cluster trace', async () => {
    const { series } = resample(await loadTrace(`${TRACES}/alibaba-2018-cluster-cpu.csv`), FIVE_MINUTES);
    const season = detectSeason(series.values, FIVE_MINUTES, 'Auto');
    expect(season.periodMs).toBe(DAY_MS);
    expect(season.periodSteps).toBe(288);
  });

  it('finds a daily season in a noisy synthetic series with a trend and gaps', () => {
    const base = dailySine(5, 20, 5);
    const values = base.values.map((v, i) => (i % 97 === 0 ? NaN : v + 0.02 * i));
    expect(detectSeason(values, FIVE_MINUTES, 'Auto').periodMs).toBe(DAY_MS);
  });

  it('finds no season in white noise', () => {
    const next = gaussian(3);
    const noise = makeSeries(3 * 1440, MINUTE, () => 50 + 10 * next());
    const season = detectSeason(noise.values, MINUTE, 'Auto');
    expect(season.periodSteps).toBe(0);
    expect(season.scores.map((s) => s.periodMs)).toEqual([HOUR_MS, DAY_MS]);
  });

  it('finds no season in a random walk', () => {
    const next = gaussian(5);
    let level = 100;
    const walk = makeSeries(3 * 288, FIVE_MINUTES, () => (level += next()));
    expect(detectSeason(walk.values, FIVE_MINUTES, 'Auto').periodSteps).toBe(0);
  });

  it('only considers periods the history covers at least twice', () => {
    const oneAndAHalfDays = dailySine(1.5);
    const season = detectSeason(oneAndAHalfDays.values, FIVE_MINUTES, 'Auto');
    expect(season.scores.map((s) => s.periodMs)).toEqual([HOUR_MS]);
    expect(season.periodSteps).toBe(0);
  });

  it("'None' gives no season and an explicit list is used even when weak", () => {
    const series = dailySine(3, 30, 2);
    expect(detectSeason(series.values, FIVE_MINUTES, 'None').periodSteps).toBe(0);
    const next = gaussian(9);
    const noise = makeSeries(3 * 288, FIVE_MINUTES, () => next());
    expect(detectSeason(noise.values, FIVE_MINUTES, [DAY_MS]).periodSteps).toBe(288);
    // Not covered twice: ignored.
    expect(detectSeason(noise.values, FIVE_MINUTES, [WEEK_MS]).periodSteps).toBe(0);
  });

  it('prefers the stronger of two explicit periods', () => {
    const series = dailySine(4, 30, 1);
    expect(detectSeason(series.values, FIVE_MINUTES, [HOUR_MS, DAY_MS]).periodMs).toBe(DAY_MS);
  });
});

describe('seasonalAutocorrelation', () => {
  it('is near 1 for a clean season and near 0 for noise', () => {
    expect(seasonalAutocorrelation(dailySine(3).values, 288)).toBeGreaterThan(0.95);
    const next = gaussian(4);
    const noise = Array.from({ length: 3 * 288 }, () => next());
    expect(Math.abs(seasonalAutocorrelation(noise, 288))).toBeLessThan(0.15);
  });
});
