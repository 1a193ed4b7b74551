import { describe, expect, it } from 'vitest';
import { backtest, foldOrigins } from '../../../src/forecast/backtest.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import type { Forecaster } from '../../../src/forecast/types.js';
import { FIVE_MINUTES, START, makeSeries } from './fixtures.js';

describe('foldOrigins', () => {
  it('spreads origins from the warm-up to the last full horizon', () => {
    expect(foldOrigins(100, { horizonSteps: 10, warmupSteps: 50, folds: 5 })).toEqual([50, 60, 70, 80, 90]);
    expect(foldOrigins(100, { horizonSteps: 10, warmupSteps: 50, folds: 1 })).toEqual([90]);
  });

  it('rejects a series too short for warm-up plus horizon', () => {
    expect(() => foldOrigins(50, { horizonSteps: 10, warmupSteps: 45, folds: 2 })).toThrow(RangeError);
  });
});

describe('backtest', () => {
  const trend = makeSeries(200, FIVE_MINUTES, (i) => 10 + i);

  it('scores each model per fold: a perfect trend model has zero error', () => {
    let clock = 0;
    const result = backtest(
      trend,
      { linear: () => new LinearForecaster(), naive: () => new SeasonalNaiveForecaster({ seasonality: 'None' }) },
      { horizonSteps: 6, warmupSteps: 100, folds: 3, quantile: 0.9, now: () => (clock += 5) },
    );
    expect(result.origins).toEqual([100, 147, 194].map((i) => START + i * FIVE_MINUTES));
    const [linear, naive] = result.models;
    expect(linear.name).toBe('linear');
    expect(linear.mase).toBeCloseTo(0, 9);
    expect(linear.smape).toBeCloseTo(0, 9);
    expect(linear.folds).toBe(3);
    // Each call of now() advances 5 ms: fit and predict each take 5 ms.
    expect(linear.fitSeconds).toBeCloseTo(0.005, 12);
    expect(linear.predictMillis).toBeCloseTo(5, 12);
    // Lag-1 naive lags the trend by h steps; the in-sample lag-1 MAE is 1, so MASE = mean(1..6).
    expect(naive.mase).toBeCloseTo(3.5, 9);
    expect(naive.coverage).toBeGreaterThanOrEqual(0);
  });

  it('limits the fitted history when historySteps is set, and records failures', () => {
    const seen: number[] = [];
    const recording = (): Forecaster => {
      const inner = new LinearForecaster();
      return {
        name: 'recording',
        minHistoryPoints: () => inner.minHistoryPoints(),
        fit: (series) => {
          seen.push(series.values.length);
          inner.fit(series);
        },
        update: (series) => inner.update(series),
        predict: (steps, q) => inner.predict(steps, q),
        describe: () => inner.describe(),
        exportState: () => inner.exportState(),
        importState: (state) => inner.importState(state),
      };
    };
    const failing = (): Forecaster => ({
      name: 'failing',
      minHistoryPoints: () => 1,
      fit: () => {
        throw new Error('boom');
      },
      update: () => {
        throw new Error('boom');
      },
      exportState: () => {
        throw new Error('unreachable');
      },
      importState: () => {
        throw new Error('unreachable');
      },
      predict: () => {
        throw new Error('unreachable');
      },
      describe: () => ({}),
    });
    const result = backtest(trend, { recording, failing }, { horizonSteps: 6, warmupSteps: 100, folds: 2, quantile: 0.5, historySteps: 40 });
    expect(seen).toEqual([40, 40]);
    expect(result.models[1]).toMatchObject({ name: 'failing', folds: 0, failures: 2, lastError: 'boom' });
    expect(result.models[1].mase).toBeNaN();
  });
});
