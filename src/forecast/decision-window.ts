// The forecast scored where the scaler reads it: its peak over the decision window
// [now + lead, now + lead + interval], compared with the peak that actually came (issue 15).
// The planner plans on windowPeak() at its quantile, so a model can be good over a 30-minute
// horizon and still be bad where the decision is made.
import { windowPeak } from '../decision/window.js';
import type { Forecast, Series } from './types.js';

/** One fold's peaks over one decision window. */
export interface WindowPeaks {
  /** Highest actual value among the points windowPeak() would read from a forecast on the same grid. */
  actual: number;
  /** windowPeak() of the forecast mean (what MASE scores). */
  mean: number;
  /** windowPeak() at the planning quantile (what the planner sizes replicas on). */
  quantile: number;
}

/** Scores over the folds for one lead time; every field but `folds` is NaN when no fold was scored. */
export interface WindowScore {
  leadMs: number;
  /** Mean over folds of |actual peak - mean peak| / the fold's MASE scale. */
  mase: number;
  /** Share of folds whose actual peak is at or below the quantile peak (ideal: the quantile). */
  coverage: number;
  /** Mean over folds of max(0, quantile peak - actual peak) / scale: what the band costs. */
  overForecast: number;
  /** Mean over folds of max(0, actual peak - quantile peak) / scale: how far short the plan fell. */
  underForecast: number;
  /** Folds that were scored for this lead time. */
  folds: number;
}

/**
 * The decision window of a decision made at `nowMs` (the time of the last observed point, the
 * earliest instant a scaler can act on it).
 */
export function decisionWindow(nowMs: number, leadMs: number, intervalMs: number): { from: number; to: number } {
  return { from: nowMs + leadMs, to: nowMs + leadMs + intervalMs };
}

/**
 * The peaks over [from, to] of a forecast and of what happened on the forecast's grid (`actual`
 * starts where the forecast starts). Both sides use windowPeak()'s rule, including its fallback to
 * the first point when the window ends before it: the actual is compared at exactly the points the
 * planner reads. Undefined when the window is not scorable: the actual does not reach the end of
 * the window, the window's actual points are all gaps, or the forecast has no usable point there.
 */
export function windowPeaks(forecast: Forecast, actual: Series, quantile: number, from: number, to: number): WindowPeaks | undefined {
  const { start, stepMs, values } = actual;
  if (!(stepMs > 0) || !Number.isFinite(start) || !(to >= from)) return undefined;
  // Index of the last actual point whose step starts at or before `to`; it must exist.
  const lastIndex = Math.floor((to - start) / stepMs);
  if (lastIndex >= values.length) return undefined;
  const actualPeak = windowPeak({ model: 'actual', start, stepMs, mean: values, quantiles: [] }, quantile, from, to);
  if (!actualPeak) return undefined;
  // windowPeak() steps over gaps to the next finite point; a window of gaps is unscored, not
  // scored against a point outside it.
  const insideWindow = actualPeak.at <= to && actualPeak.at + stepMs > from;
  if (actualPeak.position === 'within' && !insideWindow) return undefined;
  const mean = windowPeak({ ...forecast, quantiles: [] }, quantile, from, to);
  const upper = windowPeak(forecast, quantile, from, to);
  if (!mean || !upper) return undefined;
  return { actual: actualPeak.value, mean: mean.value, quantile: upper.value };
}

/** One fold's peaks with its MASE scale (the in-sample seasonal-naive MAE of its history). */
export interface ScaledPeaks extends WindowPeaks {
  scale: number;
}

/**
 * Window scores over folds. Coverage counts every fold; the scaled errors skip folds whose scale is
 * not positive (a flat history), as MASE does.
 */
export function scoreWindows(leadMs: number, folds: readonly ScaledPeaks[]): WindowScore {
  let covered = 0;
  let counted = 0;
  const errors: number[] = [];
  const over: number[] = [];
  const under: number[] = [];
  for (const f of folds) {
    if (!Number.isFinite(f.actual) || !Number.isFinite(f.mean) || !Number.isFinite(f.quantile)) continue;
    counted++;
    if (f.actual <= f.quantile) covered++;
    if (!(f.scale > 0) || !Number.isFinite(f.scale)) continue;
    errors.push(Math.abs(f.actual - f.mean) / f.scale);
    over.push(Math.max(0, f.quantile - f.actual) / f.scale);
    under.push(Math.max(0, f.actual - f.quantile) / f.scale);
  }
  return {
    leadMs,
    mase: mean(errors),
    coverage: counted > 0 ? covered / counted : NaN,
    overForecast: mean(over),
    underForecast: mean(under),
    folds: counted,
  };
}

/** Forecast points needed to cover every window of a decision made at the last observed point. */
export function windowSteps(leadTimesMs: readonly number[], intervalMs: number, stepMs: number): number {
  if (leadTimesMs.length === 0) return 0;
  return Math.ceil((Math.max(...leadTimesMs) + intervalMs) / stepMs);
}

function mean(values: readonly number[]): number {
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}
