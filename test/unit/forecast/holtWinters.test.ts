import { describe, expect, it } from 'vitest';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { horizonSpread } from '../../../src/forecast/holtWintersModel.js';
import { DAY_MS, HOUR_MS } from '../../../src/forecast/season.js';
import { IncompatibleStateError, type ForecasterState } from '../../../src/forecast/types.js';
import { MINUTE, gaussian, makeSeries } from './fixtures.js';

describe('HoltWintersForecaster', () => {
  it('fits 7 days of 1-minute data with a daily season in well under 2 seconds', () => {
    const next = gaussian(21);
    const perDay = 1440;
    const series = makeSeries(7 * perDay, MINUTE, (i) => 500 + 0.01 * i + 200 * Math.sin((2 * Math.PI * i) / perDay) + 20 * next());
    const forecaster = new HoltWintersForecaster();
    const started = performance.now();
    forecaster.fit(series);
    const elapsedMs = performance.now() - started;
    expect(forecaster.describe().seasonSteps).toBe(perDay);
    expect(elapsedMs).toBeLessThan(2000);
  });

  it('learns parameters in range and a season that tracks the data', () => {
    const next = gaussian(2);
    const series = makeSeries(4 * 288, 5 * MINUTE, (i) => 100 + 30 * Math.sin((2 * Math.PI * i) / 288) + 3 * next());
    const forecaster = new HoltWintersForecaster();
    forecaster.fit(series);
    const described = forecaster.describe();
    for (const key of ['alpha', 'beta', 'gamma', 'phi'] as const) {
      expect(described[key]).toBeGreaterThanOrEqual(0);
      expect(described[key]).toBeLessThanOrEqual(1);
    }
    expect(described.seasonMs).toBe(DAY_MS);
    // One-step error close to the noise level, far below the season's amplitude.
    expect(described.inSampleRmse).toBeLessThan(5);
  });

  it('honours seasonality None and an explicit period', () => {
    const series = makeSeries(3 * 288, 5 * MINUTE, (i) => 100 + 30 * Math.sin((2 * Math.PI * i) / 288));
    const none = new HoltWintersForecaster({ seasonality: 'None' });
    none.fit(series);
    expect(none.describe().seasonSteps).toBe(0);
    const hourly = new HoltWintersForecaster({ seasonality: [HOUR_MS] });
    hourly.fit(series);
    expect(hourly.describe().seasonSteps).toBe(12);
    expect(hourly.minHistoryPoints(5 * MINUTE)).toBe(24);
    expect(new HoltWintersForecaster({ seasonality: [DAY_MS] }).minHistoryPoints(5 * MINUTE)).toBe(576);
  });

  it('widens its band with the horizon on a noisy series', () => {
    const next = gaussian(8);
    let level = 1000;
    const walk = makeSeries(3 * 288, 5 * MINUTE, () => (level += 5 * next()));
    const forecaster = new HoltWintersForecaster({ seasonality: 'None' });
    forecaster.fit(walk);
    const forecast = forecaster.predict(12, [0.1, 0.9]);
    const width = (h: number): number => forecast.quantiles[1].values[h] - forecast.quantiles[0].values[h];
    expect(width(11)).toBeGreaterThan(1.5 * width(0));
  });
});

describe('horizonSpread', () => {
  it('is 1 one step ahead and grows like sqrt(h) for a random walk (alpha 1, no trend)', () => {
    const spread = horizonSpread({ alpha: 1, beta: 0, gamma: 0, phi: 0.9 }, 0, 4);
    expect(spread[0]).toBe(1);
    expect(spread[1]).toBeCloseTo(Math.SQRT2, 12);
    expect(spread[3]).toBeCloseTo(2, 12);
  });

  it('adds the seasonal term once a full season has passed', () => {
    const withSeason = horizonSpread({ alpha: 0.5, beta: 0, gamma: 0.4, phi: 0.9 }, 2, 4);
    // c_1 = 0.5, c_2 = 0.5 + 0.4 * 0.5 = 0.7, c_3 = 0.5.
    expect(withSeason[1] ** 2).toBeCloseTo(1 + 0.25, 12);
    expect(withSeason[2] ** 2).toBeCloseTo(1 + 0.25 + 0.49, 12);
    expect(withSeason[3] ** 2).toBeCloseTo(1 + 0.25 + 0.49 + 0.25, 12);
  });
});

describe('HoltWintersForecaster.update', () => {
  it('keeps the fitted season and parameters and only filters the new points', () => {
    const next = gaussian(31);
    const full = makeSeries(4 * 288, 5 * MINUTE, (i) => 100 + 30 * Math.sin((2 * Math.PI * i) / 288) + 3 * next());
    const forecaster = new HoltWintersForecaster();
    forecaster.fit({ ...full, values: full.values.slice(0, 3 * 288) });
    const before = forecaster.describe();
    forecaster.update(full);
    const after = forecaster.describe();
    for (const key of ['alpha', 'beta', 'gamma', 'phi', 'seasonSteps'] as const) expect(after[key]).toBe(before[key]);
    const next24h = forecaster.predict(288, [0.5]);
    expect(next24h.start).toBe(full.start + full.values.length * full.stepMs);
    // The season stays in phase with the clock across the update: the forecast follows the sine.
    next24h.mean.forEach((m, h) => expect(Math.abs(m - (100 + 30 * Math.sin((2 * Math.PI * (4 * 288 + h)) / 288)))).toBeLessThan(8));
  });
});

describe('HoltWintersForecaster.update over a sliding window', () => {
  it('forecasts the same whether updated point by point or once, while the window slides', () => {
    const next = gaussian(7);
    const day = 288;
    const all = makeSeries(5 * day, 5 * MINUTE, (i) => 100 + 30 * Math.sin((2 * Math.PI * i) / day) + 3 * next());
    const window = (end: number) => ({ start: all.start + (end - 3 * day) * all.stepMs, stepMs: all.stepMs, values: all.values.slice(end - 3 * day, end) });
    const stepwise = new HoltWintersForecaster({ seasonality: [86_400_000] });
    const once = new HoltWintersForecaster({ seasonality: [86_400_000] });
    stepwise.fit(window(3 * day));
    once.fit(window(3 * day));
    for (let end = 3 * day + 1; end <= 5 * day; end++) stepwise.update(window(end));
    once.update(window(5 * day));
    const a = stepwise.predict(24, [0.9]);
    const b = once.predict(24, [0.9]);
    expect(a.start).toBe(b.start);
    a.mean.forEach((m, h) => expect(m).toBeCloseTo(b.mean[h]!, 9));
    expect(a.quantiles[0]!.values).toEqual(b.quantiles[0]!.values);
  });

  it('exports 7 days of 1-minute state compactly, and it forecasts exactly as the original after an update', () => {
    const next = gaussian(5);
    const perDay = 1440;
    const series = makeSeries(7 * perDay + 60, MINUTE, (i) => 500 + 200 * Math.sin((2 * Math.PI * i) / perDay) + 20 * next());
    const history = { ...series, values: series.values.slice(0, 7 * perDay) };
    const original = new HoltWintersForecaster();
    original.fit(history);
    const json = JSON.stringify(original.exportState());
    // Mostly the one-step residuals behind the quantiles (6 days of them) and one day of season.
    expect(json.length).toBeLessThan(200 * 1024);
    const copy = new HoltWintersForecaster();
    copy.importState(JSON.parse(json) as ForecasterState);
    expect(copy.describe()).toEqual(original.describe());
    original.update(series);
    copy.update(series);
    expect(copy.predict(120, [0.1, 0.5, 0.9])).toEqual(original.predict(120, [0.1, 0.5, 0.9]));
  });

  it('rejects a state fitted under other seasonality options', () => {
    const series = makeSeries(4 * 288, 5 * MINUTE, (i) => 100 + 30 * Math.sin((2 * Math.PI * i) / 288));
    const auto = new HoltWintersForecaster();
    auto.fit(series);
    const weekly = new HoltWintersForecaster({ seasonality: [7 * DAY_MS] });
    expect(() => weekly.importState(auto.exportState())).toThrow(IncompatibleStateError);
    expect(() => weekly.importState(auto.exportState())).toThrow(/seasonality/);
  });
});
