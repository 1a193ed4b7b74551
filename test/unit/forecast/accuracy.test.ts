// Holt-Winters against the seasonal-naive baseline on real traces with daily cycles
// (rolling-origin backtest, 30-minute horizon, 7 days of history per fold as `forecast.history`).
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backtest } from '../../../src/forecast/backtest.js';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { loadTrace, resample } from '../../../src/traces/csv.js';

const TRACES = resolve(process.cwd(), '../shared/data/traces/dev');
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const DAILY_TRACES = [
  { file: 'nab-twitter-volume-aapl.csv', stepMs: 5 * MINUTE },
  { file: 'nab-twitter-volume-goog.csv', stepMs: 5 * MINUTE },
  { file: 'nab-twitter-volume-amzn.csv', stepMs: 5 * MINUTE },
  { file: 'nab-nyc-taxi.csv', stepMs: 30 * MINUTE },
  { file: 'azure-2019-vm-cpu.csv', stepMs: 5 * MINUTE },
  { file: 'google-2019-cluster-cpu.csv', stepMs: 5 * MINUTE },
  { file: 'alibaba-2018-cluster-cpu.csv', stepMs: 5 * MINUTE },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

describe('forecast accuracy on real traces', () => {
  it('Holt-Winters beats seasonal-naive on median MASE at a 30-minute horizon', async () => {
    const scores: { trace: string; holtWinters: number; seasonalNaive: number }[] = [];
    for (const { file, stepMs } of DAILY_TRACES) {
      const { series } = resample(await loadTrace(`${TRACES}/${file}`), stepMs);
      const result = backtest(
        series,
        { holtWinters: () => new HoltWintersForecaster(), seasonalNaive: () => new SeasonalNaiveForecaster() },
        {
          horizonSteps: (30 * MINUTE) / stepMs,
          warmupSteps: (4 * DAY) / stepMs,
          historySteps: (7 * DAY) / stepMs,
          folds: 24,
          quantile: 0.9,
        },
      );
      const [holtWinters, seasonalNaive] = result.models;
      expect(holtWinters.failures).toBe(0);
      expect(seasonalNaive.failures).toBe(0);
      scores.push({ trace: file, holtWinters: holtWinters.mase, seasonalNaive: seasonalNaive.mase });
    }
    const hw = median(scores.map((s) => s.holtWinters));
    const naive = median(scores.map((s) => s.seasonalNaive));
    expect(hw, JSON.stringify(scores)).toBeLessThan(naive);
    // Not a fluke of one trace: HW wins on most of them.
    expect(scores.filter((s) => s.holtWinters < s.seasonalNaive).length).toBeGreaterThanOrEqual(6);
  });
});
