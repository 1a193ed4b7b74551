import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backtest, predictionSteps } from '../../../src/forecast/backtest.js';
import { decisionWindow, scoreWindows, windowPeaks, windowSteps, type ScaledPeaks } from '../../../src/forecast/decision-window.js';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import type { Forecast, Forecaster, Series } from '../../../src/forecast/types.js';
import { FIVE_MINUTES, MINUTE, START, dailySine, makeSeries, uniform } from './fixtures.js';

const SECONDS_30 = 30_000;

function forecastOf(start: number, stepMs: number, mean: number[], upper = mean, q = 0.9): Forecast {
  return { model: 'test', start, stepMs, mean, quantiles: [{ q, values: upper }] };
}

/**
 * A model that knows the series: at each fitted origin it returns what happened, through `distort`
 * (given the step ahead, 0-based, and the true value). The quantile is the distorted mean + `shift`.
 */
function oracle(series: Series, distort: (ahead: number, truth: number, index: number) => number, shift = 0): () => Forecaster {
  return () => {
    let origin = 0;
    return {
      name: 'oracle',
      minHistoryPoints: () => 1,
      fit: (history) => {
        origin = Math.round((history.start - series.start) / series.stepMs) + history.values.length;
      },
      update: () => {},
      predict: (steps, quantiles) => {
        const mean = Array.from({ length: steps }, (_, k) => distort(k, series.values[origin + k] ?? NaN, origin + k));
        return {
          model: 'oracle',
          start: series.start + origin * series.stepMs,
          stepMs: series.stepMs,
          mean,
          quantiles: quantiles.map((q) => ({ q, values: mean.map((v) => v + shift) })),
        };
      },
      describe: () => ({}),
      exportState: () => {
        throw new Error('not exported');
      },
      importState: () => {
        throw new Error('not imported');
      },
    };
  };
}

describe('windowPeaks', () => {
  // A decision at the last observed point t = START; the forecast and the actual start one step later.
  const t = START;

  it('reads the points whose steps overlap the window, on both sides', () => {
    const start = t + MINUTE;
    const forecast = forecastOf(start, MINUTE, [10, 20, 30, 40, 50], [11, 25, 33, 44, 55]);
    const actual: Series = { start, stepMs: MINUTE, values: [12, 19, 31, 60, 45] };
    // [t + 2m, t + 2m30s] overlaps only the point at t + 2m (index 1).
    const w = decisionWindow(t, 2 * MINUTE, SECONDS_30);
    expect(windowPeaks(forecast, actual, 0.9, w.from, w.to)).toEqual({ actual: 19, mean: 20, quantile: 25 });
    // [t + 2m, t + 4m] overlaps indices 1..3.
    expect(windowPeaks(forecast, actual, 0.9, t + 2 * MINUTE, t + 4 * MINUTE)).toEqual({ actual: 60, mean: 40, quantile: 44 });
  });

  it('on a grid coarser than the lead time, scores the first point, as the planner reads it', () => {
    const start = t + FIVE_MINUTES;
    const forecast = forecastOf(start, FIVE_MINUTES, [10, 20, 30]);
    const actual: Series = { start, stepMs: FIVE_MINUTES, values: [7, 21, 33] };
    const early = decisionWindow(t, 2 * MINUTE, SECONDS_30);
    expect(windowPeaks(forecast, actual, 0.9, early.from, early.to)).toEqual({ actual: 7, mean: 10, quantile: 10 });
    const later = decisionWindow(t, 10 * MINUTE, SECONDS_30);
    expect(windowPeaks(forecast, actual, 0.9, later.from, later.to)).toEqual({ actual: 21, mean: 20, quantile: 20 });
  });

  it('leaves unscored a window the actual does not reach, or whose actual points are all gaps', () => {
    const start = t + MINUTE;
    const forecast = forecastOf(start, MINUTE, [1, 2, 3, 4, 5, 6]);
    const short: Series = { start, stepMs: MINUTE, values: [1, 2, 3] };
    expect(windowPeaks(forecast, short, 0.9, t + 3 * MINUTE, t + 4 * MINUTE)).toBeUndefined();
    const gaps: Series = { start, stepMs: MINUTE, values: [1, NaN, NaN, 4, 5, 6] };
    expect(windowPeaks(forecast, gaps, 0.9, t + 2 * MINUTE, t + 2 * MINUTE + SECONDS_30)).toBeUndefined();
    // A partial gap is scored on the points that are there.
    expect(windowPeaks(forecast, gaps, 0.9, t + 2 * MINUTE, t + 4 * MINUTE)).toEqual({ actual: 4, mean: 4, quantile: 4 });
  });

  it('falls back to the mean when the forecast lacks the quantile, and rejects a broken grid', () => {
    const start = t + MINUTE;
    const forecast = forecastOf(start, MINUTE, [5, 6], [9, 9], 0.5);
    const actual: Series = { start, stepMs: MINUTE, values: [5, 6] };
    expect(windowPeaks(forecast, actual, 0.9, t + MINUTE, t + MINUTE)).toEqual({ actual: 5, mean: 5, quantile: 5 });
    expect(windowPeaks(forecast, { ...actual, stepMs: 0 }, 0.9, t, t + MINUTE)).toBeUndefined();
    expect(windowPeaks(forecast, actual, 0.9, t + MINUTE, t)).toBeUndefined();
    expect(windowPeaks(forecastOf(start, MINUTE, [NaN, NaN]), actual, 0.9, t + MINUTE, t + MINUTE)).toBeUndefined();
  });
});

describe('scoreWindows', () => {
  it('scales errors like MASE, counts coverage per fold and splits over- from under-forecast', () => {
    const folds: ScaledPeaks[] = [
      { actual: 10, mean: 8, quantile: 12, scale: 2 },
      { actual: 10, mean: 14, quantile: 9, scale: 4 },
    ];
    expect(scoreWindows(120_000, folds)).toEqual({ leadMs: 120_000, mase: (1 + 1) / 2, coverage: 0.5, overForecast: (1 + 0) / 2, underForecast: (0 + 0.25) / 2, folds: 2 });
  });

  it('counts a flat-history fold for coverage but not for the scaled errors; no folds is NaN', () => {
    const s = scoreWindows(0, [{ actual: 3, mean: 3, quantile: 3, scale: 0 }]);
    expect(s).toMatchObject({ coverage: 1, folds: 1 });
    expect(s.mase).toBeNaN();
    const empty = scoreWindows(0, []);
    expect(empty.folds).toBe(0);
    expect(empty.coverage).toBeNaN();
    expect(empty.mase).toBeNaN();
  });

  it('keeps coverage within [0, 1] and the errors non-negative, whatever the peaks', () => {
    const value = fc.oneof(fc.double({ noDefaultInfinity: false }), fc.constant(NaN));
    fc.assert(
      fc.property(fc.array(fc.record({ actual: value, mean: value, quantile: value, scale: value }), { maxLength: 40 }), (folds) => {
        const s = scoreWindows(1, folds);
        if (s.folds > 0) {
          expect(s.coverage).toBeGreaterThanOrEqual(0);
          expect(s.coverage).toBeLessThanOrEqual(1);
        } else {
          expect(s.coverage).toBeNaN();
        }
        for (const x of [s.mase, s.overForecast, s.underForecast]) if (!Number.isNaN(x)) expect(x).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});

describe('predictionSteps', () => {
  it('keeps the horizon when it covers every window, and reaches further when one needs it', () => {
    expect(predictionSteps(FIVE_MINUTES, 6, [2 * MINUTE, 10 * MINUTE], SECONDS_30)).toBe(6);
    expect(predictionSteps(FIVE_MINUTES, 6, [60 * MINUTE], SECONDS_30)).toBe(13);
    expect(windowSteps([60 * MINUTE], SECONDS_30, FIVE_MINUTES)).toBe(13);
    expect(predictionSteps(FIVE_MINUTES, 6, [], SECONDS_30)).toBe(6);
  });

  it('rejects hostile lead times, intervals and steps with a RangeError', () => {
    expect(() => predictionSteps(MINUTE, 6, [NaN], SECONDS_30)).toThrow(RangeError);
    expect(() => predictionSteps(MINUTE, 6, [-1], SECONDS_30)).toThrow(RangeError);
    expect(() => predictionSteps(MINUTE, 6, [MINUTE], Infinity)).toThrow(RangeError);
    expect(() => predictionSteps(0, 6, [MINUTE], SECONDS_30)).toThrow(RangeError);
    expect(() => predictionSteps(1000, 6, [365 * 24 * 60 * MINUTE], SECONDS_30)).toThrow(/more than 10000/);
  });
});

describe('backtest decision windows', () => {
  const options = { horizonSteps: 30, warmupSteps: 200, folds: 12, quantile: 0.9, leadTimesMs: [2 * MINUTE, 10 * MINUTE], intervalMs: SECONDS_30 };

  it('gives a perfect forecast window MASE 0 and coverage 1 on any series', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom(MINUTE, FIVE_MINUTES), (seed, stepMs) => {
        const next = uniform(seed);
        const series = makeSeries(400, stepMs, (i) => 50 + 20 * Math.sin(i / 7) + 10 * next());
        const result = backtest(series, { perfect: oracle(series, (_, truth) => truth) }, options);
        for (const w of result.models[0]!.windows) {
          expect(w.folds).toBe(result.origins.length);
          expect(w.mase).toBe(0);
          expect(w.coverage).toBe(1);
          expect(w.underForecast).toBe(0);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('raises window coverage monotonically as the quantile forecast is shifted up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.double({ min: -30, max: 30, noNaN: true }), { minLength: 2, maxLength: 6 }), (seed, shifts) => {
        const series = makeSeries(400, MINUTE, (i) => 50 + 20 * Math.sin(i / 9));
        // Noise fixed per point, so every shift sees the same mean forecast.
        const noise = Array.from({ length: 400 }, uniform(seed));
        const distort = (_: number, truth: number, index: number) => truth + 20 * ((noise[index] ?? 0.5) - 0.5);
        const coverageAt = (shift: number) => backtest(series, { m: oracle(series, distort, shift) }, options).models[0]!.windows.map((w) => w.coverage);
        const sorted = [...shifts].sort((a, b) => a - b);
        const coverages = sorted.map(coverageAt);
        for (let k = 1; k < coverages.length; k++) {
          for (let lead = 0; lead < options.leadTimesMs.length; lead++) expect(coverages[k]![lead]!).toBeGreaterThanOrEqual(coverages[k - 1]![lead]!);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('tells apart a model exact at short range and wrong further out, where the 30-minute MASE cannot', () => {
    const series = makeSeries(400, MINUTE, (i) => 100 + 10 * Math.sin(i / 5));
    // Exact for the first 2 steps (up to now + 2m, the 2-minute window), 40 too high beyond: wrong
    // on 28 of the 30 horizon points.
    const shortSighted = oracle(series, (ahead, truth) => (ahead < 2 ? truth : truth + 40));
    // 8 too high at every step: a smaller horizon error, but wrong at 2 minutes.
    const steady = oracle(series, (_, truth) => truth + 8);
    const [short, flat] = backtest(series, { shortSighted, steady }, options).models;
    expect(short!.mase).toBeGreaterThan(flat!.mase);
    const [shortAt2m, shortAt10m] = short!.windows;
    const [flatAt2m, flatAt10m] = flat!.windows;
    expect(shortAt2m!.leadMs).toBe(2 * MINUTE);
    expect(shortAt2m!.mase).toBe(0);
    expect(flatAt2m!.mase).toBeGreaterThan(0);
    expect(shortAt10m!.mase).toBeGreaterThan(flatAt10m!.mase);
    // The 10-minute window sees a 40-unit error: 40 / 8 times the steady model's.
    expect(shortAt10m!.mase / flatAt10m!.mase).toBeCloseTo(5, 9);
    expect(shortAt10m!.overForecast).toBeCloseTo(shortAt10m!.mase, 9);
  });

  it('reaches past the horizon when a window needs it, and leaves the horizon scores exactly as they were', () => {
    const series = dailySine(6, 30, 4);
    const models = {
      'seasonal-naive': () => new SeasonalNaiveForecaster({ seasonality: 'Auto' }),
      'holt-winters': () => new HoltWintersForecaster({ seasonality: 'Auto' }),
      linear: () => new LinearForecaster(),
    };
    const base = { horizonSteps: 6, warmupSteps: 3 * 288, folds: 6, quantile: 0.9, historySteps: 2 * 288 };
    const before = backtest(series, models, base);
    const after = backtest(series, models, { ...base, leadTimesMs: [2 * MINUTE, 45 * MINUTE], intervalMs: SECONDS_30 });
    expect(before.predictSteps).toBe(6);
    expect(after.predictSteps).toBe(10);
    expect(after.origins).toEqual(before.origins);
    for (let k = 0; k < before.models.length; k++) {
      const [b, a] = [before.models[k]!, after.models[k]!];
      expect([a.mase, a.smape, a.coverage, a.folds]).toEqual([b.mase, b.smape, b.coverage, b.folds]);
      expect(b.windows).toEqual([]);
      expect(a.windows.map((w) => w.leadMs)).toEqual([2 * MINUTE, 45 * MINUTE]);
      expect(a.windows[0]!.folds).toBe(a.folds);
      // The last origin leaves only the 30-minute horizon of actuals: its 45-minute window is unscored.
      expect(a.windows[1]!.folds).toBe(a.folds - 1);
      expect(Number.isFinite(a.windows[1]!.mase)).toBe(true);
    }
  });

  it('asks each model for the steps the furthest window needs', () => {
    const series = makeSeries(300, MINUTE, (i) => 10 + (i % 17));
    const asked: number[] = [];
    const inner = oracle(series, (_, truth) => truth);
    const recording = (): Forecaster => {
      const f = inner();
      return { ...f, predict: (steps, q) => (asked.push(steps), f.predict(steps, q)) };
    };
    backtest(series, { recording }, { horizonSteps: 5, warmupSteps: 100, folds: 2, quantile: 0.9, leadTimesMs: [10 * MINUTE], intervalMs: 90_000 });
    expect(asked).toEqual([12, 12]);
  });
});
