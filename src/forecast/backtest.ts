// Rolling-origin backtest (SPEC section 6): fit on the history before each origin, forecast
// `horizonSteps` ahead, score against what happened, move the origin.
import { coverage, mase, seasonalNaiveScale, smape } from './accuracy.js';
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
}

export interface BacktestResult {
  horizonSteps: number;
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
  const models: ModelScore[] = Object.entries(makeForecaster).map(([name, make]) => {
    const scores = { mase: [] as number[], smape: [] as number[], coverage: [] as number[], fit: [] as number[], predict: [] as number[] };
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
        const forecast = forecaster.predict(options.horizonSteps, [options.quantile]);
        const predictEnd = now();
        scores.mase.push(mase(actual, forecast.mean, seasonalNaiveScale(history.values, series.stepMs)));
        scores.smape.push(smape(actual, forecast.mean));
        scores.coverage.push(coverage(actual, forecast.quantiles[0].values));
        scores.fit.push((predictStart - fitStart) / 1000);
        scores.predict.push(predictEnd - predictStart);
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
    };
  });
  return { horizonSteps: options.horizonSteps, origins: origins.map((i) => series.start + i * series.stepMs), models };
}

/** Mean of the finite values; NaN when there are none. */
export function finiteMean(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
}
