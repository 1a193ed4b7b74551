// Checks shared by every model before fitting.
import { countObserved, hasObserved } from './series.js';
import { InsufficientHistoryError, type Forecaster, type Series } from './types.js';

/** Throws InsufficientHistoryError when `series` has fewer observed points than the model needs. */
export function requireHistory(forecaster: Forecaster, series: Series): void {
  if (!(series.stepMs > 0)) throw new RangeError(`series stepMs must be positive, got ${series.stepMs}`);
  const need = forecaster.minHistoryPoints(series.stepMs);
  if (!hasObserved(series.values, need)) {
    const have = countObserved(series.values);
    throw new InsufficientHistoryError(have, need, `${forecaster.name} needs at least ${need} observed points, have ${have}`);
  }
}

export function requireSteps(steps: number): void {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, got ${steps}`);
}

export class NotFittedError extends Error {
  constructor(model: string, message = 'fit() must be called before predict()') {
    super(`${model}: ${message}`);
    this.name = 'NotFittedError';
  }
}
