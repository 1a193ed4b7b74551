// Least-squares linear trend over the most recent window of the series, extrapolated.
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import { allNonNegative, bandedForecast, quantileSketch, sortedFinite } from './quantiles.js';
import { encodeFloat64, StateFields } from './state-codec.js';
import type { Forecast, Forecaster, ForecasterState, Series } from './types.js';

export interface LinearOptions {
  /** How much recent history the trend is fitted on. */
  windowMs?: number;
}

export const DEFAULT_LINEAR_WINDOW_MS = 2 * 3_600_000;
/** The window never holds fewer grid steps than this, so coarse steps still get a usable fit. */
const MIN_WINDOW_STEPS = 12;
const MIN_OBSERVED_POINTS = 3;

interface Fitted {
  stepMs: number;
  /** Time of the last point of the fitted series: x = 0. */
  lastTime: number;
  intercept: number; // value at x = 0, the last grid index of the series
  slope: number; // per step
  xMean: number;
  sxx: number;
  observed: number;
  sortedResiduals: number[];
  inSampleRmse: number;
  nonNegative: boolean;
}

/** Layout version of exportState(); bump it whenever the layout changes. */
const STATE_FORMAT = 1;

export class LinearForecaster implements Forecaster {
  readonly name = 'Linear';
  private readonly windowMs: number;
  private fitted: Fitted | undefined;

  constructor(options: LinearOptions = {}) {
    this.windowMs = options.windowMs ?? DEFAULT_LINEAR_WINDOW_MS;
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
  }

  minHistoryPoints(): number {
    return MIN_OBSERVED_POINTS;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const values = series.values;
    const n = values.length;
    let windowSteps = Math.min(n, Math.max(MIN_WINDOW_STEPS, Math.round(this.windowMs / series.stepMs)));
    // Widen the window over gaps until it holds enough observations.
    while (windowSteps < n && countFinite(values, n - windowSteps) < MIN_OBSERVED_POINTS) windowSteps++;

    // x is measured in steps relative to the last grid point, so x = h is h steps ahead.
    let count = 0;
    let xSum = 0;
    let ySum = 0;
    for (let i = n - windowSteps; i < n; i++) {
      if (!Number.isFinite(values[i])) continue;
      count++;
      xSum += i - (n - 1);
      ySum += values[i];
    }
    const xMean = xSum / count;
    const yMean = ySum / count;
    let sxx = 0;
    let sxy = 0;
    for (let i = n - windowSteps; i < n; i++) {
      if (!Number.isFinite(values[i])) continue;
      const dx = i - (n - 1) - xMean;
      sxx += dx * dx;
      sxy += dx * (values[i] - yMean);
    }
    const slope = sxx > 0 ? sxy / sxx : 0;
    const intercept = yMean - slope * xMean;
    const residuals: number[] = [];
    for (let i = n - windowSteps; i < n; i++) {
      if (Number.isFinite(values[i])) residuals.push(values[i] - (intercept + slope * (i - (n - 1))));
    }
    const sse = residuals.reduce((sum, e) => sum + e * e, 0);
    this.fitted = {
      stepMs: series.stepMs,
      lastTime: series.start + (n - 1) * series.stepMs,
      intercept,
      slope,
      xMean,
      sxx,
      observed: count,
      sortedResiduals: quantileSketch(sortedFinite(residuals)),
      inSampleRmse: Math.sqrt(sse / Math.max(1, residuals.length)),
      nonNegative: allNonNegative(values.filter(Number.isFinite)),
    };
  }

  /** Nothing is learned beyond the data itself, so updating is re-fitting. */
  update(series: Series): void {
    this.fit(series);
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const mean: number[] = [];
    const spread: number[] = [];
    for (let h = 1; h <= steps; h++) {
      mean.push(fitted.intercept + fitted.slope * h);
      // Prediction-interval factor of ordinary least squares: the trend's own uncertainty grows
      // with the distance from the window's centre.
      const leverage = fitted.sxx > 0 ? (h - fitted.xMean) ** 2 / fitted.sxx : 0;
      spread.push(Math.sqrt(1 + 1 / fitted.observed + leverage));
    }
    return bandedForecast({
      model: this.name,
      start: fitted.lastTime + fitted.stepMs,
      stepMs: fitted.stepMs,
      mean,
      sortedResiduals: fitted.sortedResiduals,
      spread,
      levels: quantiles,
      nonNegative: fitted.nonNegative,
    });
  }

  /** The fitted line and its residuals: update() re-fits, so this only needs to carry predict(). */
  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      windowMs: this.windowMs,
      stepMs: fitted.stepMs,
      lastTime: fitted.lastTime,
      intercept: fitted.intercept,
      slope: fitted.slope,
      xMean: fitted.xMean,
      sxx: fitted.sxx,
      observed: fitted.observed,
      sortedResiduals: encodeFloat64(fitted.sortedResiduals),
      inSampleRmse: fitted.inSampleRmse,
      nonNegative: fitted.nonNegative,
    };
  }

  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    fields.sameOption('windowMs', this.windowMs);
    const observed = fields.number('observed', { integer: true, min: MIN_OBSERVED_POINTS });
    this.fitted = {
      stepMs: fields.number('stepMs', { integer: true, min: 1 }),
      lastTime: fields.number('lastTime'),
      intercept: fields.number('intercept'),
      slope: fields.number('slope'),
      xMean: fields.number('xMean', { max: 0 }),
      sxx: fields.number('sxx', { min: 0 }),
      observed,
      sortedResiduals: Array.from(fields.float64s('sortedResiduals', { length: observed, ascending: true })),
      inSampleRmse: fields.number('inSampleRmse', { min: 0 }),
      nonNegative: fields.boolean('nonNegative'),
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      windowMs: this.windowMs,
      observedPoints: fitted.observed,
      slopePerStep: fitted.slope,
      level: fitted.intercept,
      inSampleRmse: fitted.inSampleRmse,
    };
  }
}

function countFinite(values: readonly number[], from: number): number {
  let count = 0;
  for (let i = from; i < values.length; i++) if (Number.isFinite(values[i])) count++;
  return count;
}
