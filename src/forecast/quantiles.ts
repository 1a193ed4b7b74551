// Forecast quantiles from a model's own in-sample errors: the empirical distribution of its
// one-step residuals, widened per horizon step by a model-specific spread factor.
import type { Forecast, QuantileForecast } from './types.js';

export function sortedFinite(values: Iterable<number>): number[] {
  const out: number[] = [];
  for (const v of values) if (Number.isFinite(v)) out.push(v);
  return out.sort((a, b) => a - b);
}

/** Quantile of an ascending array, linearly interpolated between order statistics. */
/**
 * At most `points` order statistics of a sorted sample, evenly spaced in rank and including the
 * extremes: empiricalQuantile over the sketch stays within one sketch step of the full sample's, and a
 * model's saved state does not grow with its history.
 */
export function quantileSketch(sorted: readonly number[], points = 1001): number[] {
  if (sorted.length <= points) return sorted.slice();
  return Array.from({ length: points }, (_, k) => empiricalQuantile(sorted, k / (points - 1)));
}

export function empiricalQuantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const position = q * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
}

export function assertQuantileLevels(levels: readonly number[]): void {
  for (const q of levels) {
    if (!(q > 0 && q < 1)) throw new RangeError(`quantile levels must lie in (0, 1), got ${q}`);
  }
}

export interface BandInput {
  mean: readonly number[];
  /**
   * One-step in-sample residuals (actual - fitted), finite and sorted ascending (sortedFinite). Models
   * sort them once per fit: a fitted model predicts many times.
   */
  sortedResiduals: readonly number[];
  /** Per forecast step, how much wider than one step ahead the error distribution is (>= 0). */
  spread: readonly number[];
  levels: readonly number[];
  nonNegative: boolean;
}

/**
 * Quantile q at step h is mean[h] + spread[h] * Q_q(residuals). Levels below 0.5 never sit above
 * the mean and levels above 0.5 never below it, so every band around the median contains the
 * mean even when the residuals are skewed; this keeps the values monotone in q.
 */
export function quantileBands(input: BandInput): QuantileForecast[] {
  assertQuantileLevels(input.levels);
  const sorted = input.sortedResiduals;
  return input.levels.map((q) => {
    let offset = empiricalQuantile(sorted, q);
    if (q < 0.5) offset = Math.min(offset, 0);
    if (q > 0.5) offset = Math.max(offset, 0);
    const values = input.mean.map((m, h) => {
      const value = m + input.spread[h] * offset;
      return input.nonNegative ? Math.max(0, value) : value;
    });
    return { q, values };
  });
}

export function clampMean(mean: number[], nonNegative: boolean): number[] {
  return nonNegative ? mean.map((v) => Math.max(0, v)) : mean;
}

export function allNonNegative(values: readonly number[]): boolean {
  for (const v of values) if (v < 0) return false;
  return true;
}

/**
 * A model's forecast from its raw mean: the mean clamped at zero for non-negative histories, and the
 * quantile bands from its sorted residuals widened by `spread`.
 */
export function bandedForecast(input: {
  model: string;
  start: number;
  stepMs: number;
  mean: number[];
  sortedResiduals: readonly number[];
  spread: readonly number[];
  levels: readonly number[];
  nonNegative: boolean;
}): Forecast {
  const mean = clampMean(input.mean, input.nonNegative);
  return {
    model: input.model,
    start: input.start,
    stepMs: input.stepMs,
    mean,
    quantiles: quantileBands({ mean, sortedResiduals: input.sortedResiduals, spread: input.spread, levels: input.levels, nonNegative: input.nonNegative }),
  };
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error below 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const r = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const r = p - 0.5;
  const s = r * r;
  return ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r) / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1);
}
