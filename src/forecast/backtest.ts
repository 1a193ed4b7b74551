// Rolling-origin backtest (SPEC section 6): fit on the history before each origin, forecast
// `horizonSteps` ahead, score against what happened, move the origin. Beside the horizon scores,
// each decision window (lead time + interval, see decision-window.ts) is scored on the same folds.
import { MAX_HORIZON_POINTS } from '../api/limits.js';
import { coverage, mase, seasonalNaiveScale, smape } from './accuracy.js';
import { decisionWindow, scoreWindows, windowPeaks, windowSteps, type ScaledPeaks, type WindowScore } from './decision-window.js';
import type { Forecaster, Series } from './types.js';

export interface BacktestOptions {
  horizonSteps: number;
  /** The first origin lies at least this many steps into the series. */
  warmupSteps: number;
  /** How many origins, spread evenly from the warm-up to the last one that leaves a full horizon. */
  folds: number;
  /** The planning quantile whose coverage is reported. */
  quantile: number;
  /** Fit on at most this many steps before each origin (like `forecast.history`); default all. */
  historySteps?: number;
  /** Lead times whose decision windows are scored (none by default). */
  leadTimesMs?: readonly number[];
  /** The scaler's interval: each decision window is [now + lead, now + lead + interval]. */
  intervalMs?: number;
  /** Millisecond clock for the timings; defaults to performance.now. */
  now?: () => number;
}

export interface ModelScore {
  name: string;
  /** Means over the folds the model could forecast. */
  mase: number;
  smape: number;
  coverage: number;
  fitSeconds: number;
  predictMillis: number;
  /** Folds scored, and folds where fit or predict threw (with the last error message). */
  folds: number;
  failures: number;
  lastError?: string;
  /** One score per lead time, in the order of `leadTimesMs`. */
  windows: WindowScore[];
}

export interface BacktestResult {
  horizonSteps: number;
  /** Steps each forecast was asked for: the horizon, or more when a decision window reaches further. */
  predictSteps: number;
  /** Timestamps (ms) of the origins: the first forecast point of each fold. */
  origins: number[];
  models: ModelScore[];
}

/** Origin indices: `folds` points spread evenly over [warmupSteps, length - horizonSteps]. */
export function foldOrigins(length: number, options: Pick<BacktestOptions, 'horizonSteps' | 'warmupSteps' | 'folds'>): number[] {
  const { horizonSteps, warmupSteps, folds } = options;
  if (!Number.isInteger(horizonSteps) || horizonSteps < 1) throw new RangeError(`horizonSteps must be a positive integer, got ${horizonSteps}`);
  if (!Number.isInteger(folds) || folds < 1) throw new RangeError(`folds must be a positive integer, got ${folds}`);
  const first = Math.max(1, warmupSteps);
  const last = length - horizonSteps;
  if (last < first) {
    throw new RangeError(`series of ${length} steps is too short for ${warmupSteps} warm-up steps and a ${horizonSteps}-step horizon`);
  }
  if (folds === 1) return [last];
  const origins = new Set<number>();
  for (let k = 0; k < folds; k++) origins.add(Math.round(first + (k * (last - first)) / (folds - 1)));
  return [...origins].sort((a, b) => a - b);
}

export function backtest(
  series: Series,
  makeForecaster: Record<string, () => Forecaster>,
  options: BacktestOptions,
): BacktestResult {
  const now = options.now ?? (() => performance.now());
  const origins = foldOrigins(series.values.length, options);
  const leadTimesMs = options.leadTimesMs ?? [];
  const intervalMs = options.intervalMs ?? 0;
  const predictSteps = predictionSteps(series.stepMs, options.horizonSteps, leadTimesMs, intervalMs);
  const models: ModelScore[] = Object.entries(makeForecaster).map(([name, make]) => {
    const scores = { mase: [] as number[], smape: [] as number[], coverage: [] as number[], fit: [] as number[], predict: [] as number[] };
    const windows = leadTimesMs.map(() => [] as ScaledPeaks[]);
    let failures = 0;
    let lastError: string | undefined;
    for (const origin of origins) {
      const from = options.historySteps ? Math.max(0, origin - options.historySteps) : 0;
      const history: Series = {
        start: series.start + from * series.stepMs,
        stepMs: series.stepMs,
        values: series.values.slice(from, origin),
      };
      const actual = series.values.slice(origin, origin + options.horizonSteps);
      try {
        const forecaster = make();
        const fitStart = now();
        forecaster.fit(history);
        const predictStart = now();
        const forecast = forecaster.predict(predictSteps, [options.quantile]);
        const predictEnd = now();
        // The horizon scores read the first horizonSteps points only, as before the windows existed.
        const mean = forecast.mean.slice(0, options.horizonSteps);
        const upper = forecast.quantiles[0].values.slice(0, options.horizonSteps);
        const scale = seasonalNaiveScale(history.values, series.stepMs);
        scores.mase.push(mase(actual, mean, scale));
        scores.smape.push(smape(actual, mean));
        scores.coverage.push(coverage(actual, upper));
        scores.fit.push((predictStart - fitStart) / 1000);
        scores.predict.push(predictEnd - predictStart);
        const future: Series = { start: series.start + origin * series.stepMs, stepMs: series.stepMs, values: series.values.slice(origin, origin + predictSteps) };
        // The decision is made when the last history point arrives.
        const decidedAt = future.start - series.stepMs;
        leadTimesMs.forEach((leadMs, k) => {
          const window = decisionWindow(decidedAt, leadMs, intervalMs);
          const peaks = windowPeaks(forecast, future, options.quantile, window.from, window.to);
          if (peaks) windows[k]!.push({ ...peaks, scale });
        });
      } catch (error) {
        failures++;
        lastError = error instanceof Error ? error.message : String(error);
      }
    }
    return {
      name,
      mase: finiteMean(scores.mase),
      smape: finiteMean(scores.smape),
      coverage: finiteMean(scores.coverage),
      fitSeconds: finiteMean(scores.fit),
      predictMillis: finiteMean(scores.predict),
      folds: scores.fit.length,
      failures,
      ...(lastError === undefined ? {} : { lastError }),
      windows: leadTimesMs.map((leadMs, k) => scoreWindows(leadMs, windows[k]!)),
    };
  });
  return { horizonSteps: options.horizonSteps, predictSteps, origins: origins.map((i) => series.start + i * series.stepMs), models };
}

/**
 * Steps to predict: the horizon, or enough to reach the end of the furthest decision window. Lead
 * times and the interval must be finite and not negative; the windows may need at most
 * MAX_HORIZON_POINTS steps, the cap of a forecast horizon.
 */
export function predictionSteps(stepMs: number, horizonSteps: number, leadTimesMs: readonly number[], intervalMs: number): number {
  if (leadTimesMs.length === 0) return horizonSteps;
  for (const ms of [...leadTimesMs, intervalMs]) {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`lead times and the interval must be finite durations >= 0, got ${ms}`);
  }
  if (!(stepMs > 0 && Number.isFinite(stepMs))) throw new RangeError(`the series step must be a positive duration, got ${stepMs}`);
  const steps = windowSteps(leadTimesMs, intervalMs, stepMs);
  if (steps > MAX_HORIZON_POINTS) {
    throw new RangeError(`the decision windows need ${steps} forecast steps of ${stepMs} ms, more than ${MAX_HORIZON_POINTS}`);
  }
  return Math.max(horizonSteps, steps);
}

/** Mean of the finite values; NaN when there are none. */
export function finiteMean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}
