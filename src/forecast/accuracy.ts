// Forecast accuracy metrics (SPEC section 6). Points where either side is NaN are skipped.
import { DAY_MS } from './season.js';

/** Mean absolute error over the points where both series are finite; NaN when there are none. */
export function mae(actual: readonly number[], forecast: readonly number[]): number {
  let sum = 0;
  let count = 0;
  const n = Math.min(actual.length, forecast.length);
  for (let i = 0; i < n; i++) {
    const error = actual[i] - forecast[i];
    if (Number.isFinite(error)) {
      sum += Math.abs(error);
      count++;
    }
  }
  return count > 0 ? sum / count : NaN;
}

/**
 * The MASE denominator: in-sample MAE of the seasonal-naive forecast with a one-day season, or
 * with lag 1 when the history is shorter than two days.
 */
export function seasonalNaiveScale(history: readonly number[], stepMs: number): number {
  const daySteps = Math.round(DAY_MS / stepMs);
  const lag = daySteps >= 1 && history.length >= 2 * daySteps ? daySteps : 1;
  return mae(history.slice(lag), history.slice(0, history.length - lag));
}

/** Mean absolute scaled error; NaN when the scale is not positive (a flat history). */
export function mase(actual: readonly number[], forecast: readonly number[], insampleScale: number): number {
  if (!(insampleScale > 0)) return NaN;
  return mae(actual, forecast) / insampleScale;
}

/** Symmetric MAPE in percent (0..200); a point where both values are 0 counts as 0 error. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  let sum = 0;
  let count = 0;
  const n = Math.min(actual.length, forecast.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i];
    const f = forecast[i];
    if (!Number.isFinite(a) || !Number.isFinite(f)) continue;
    const denominator = Math.abs(a) + Math.abs(f);
    sum += denominator > 0 ? (2 * Math.abs(a - f)) / denominator : 0;
    count++;
  }
  return count > 0 ? (100 * sum) / count : NaN;
}

/** Share of actual points at or below the forecast quantile (ideal: the quantile level). */
export function coverage(actual: readonly number[], quantileValues: readonly number[]): number {
  let covered = 0;
  let count = 0;
  const n = Math.min(actual.length, quantileValues.length);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(actual[i]) || !Number.isFinite(quantileValues[i])) continue;
    if (actual[i] <= quantileValues[i]) covered++;
    count++;
  }
  return count > 0 ? covered / count : NaN;
}
