// From the network's quantile outputs (a fixed set of levels on the 5-minute grid) to the levels and
// the step a caller asks for, keeping every forecast monotone in the level.
import { GRID_STEP_MS } from './grid.js';

/**
 * Sorts each horizon's values across the levels (the rearrangement of Chernozhukov et al.: a
 * quantile curve that crosses is replaced by its sorted version, which is never worse in pinball
 * loss). `values[l * horizons + h]` is level l at horizon h.
 */
export function rearrange(values: Float64Array, levels: number, horizons: number): void {
  const column = new Float64Array(levels);
  for (let h = 0; h < horizons; h++) {
    for (let l = 0; l < levels; l++) column[l] = values[l * horizons + h];
    column.sort();
    for (let l = 0; l < levels; l++) values[l * horizons + h] = column[l];
  }
}

/**
 * Resamples grid horizons (value at now + h * GRID_STEP_MS for h = 1..horizons, `now` given as
 * the value at h = 0) to `steps` points at now + j * stepMs. Points between two grid horizons are
 * interpolated linearly; points past the last horizon hold its value.
 */
export function toSeriesSteps(grid: ArrayLike<number>, now: number, stepMs: number, steps: number): number[] {
  const horizons = grid.length;
  const out = new Array<number>(steps);
  for (let j = 1; j <= steps; j++) {
    const position = (j * stepMs) / GRID_STEP_MS;
    if (position >= horizons) {
      out[j - 1] = grid[horizons - 1];
      continue;
    }
    const below = Math.floor(position);
    const w = position - below;
    const low = below === 0 ? now : grid[below - 1];
    out[j - 1] = w === 0 ? low : low + w * (grid[below] - low);
  }
  return out;
}

/**
 * The value at level q from values at the ascending `levels` (monotone in the level at every point):
 * linear in q between two trained levels, and beyond the outermost ones linear in the normal
 * quantile z(q), continuing the outermost segment's slope. Never extrapolates inward.
 */
export function valueAtLevel(levels: readonly number[], values: readonly number[], q: number): number {
  const n = levels.length;
  if (q <= levels[0]) return tail(levels[0], levels[1], values[0], values[1], q);
  if (q >= levels[n - 1]) return tail(levels[n - 1], levels[n - 2], values[n - 1], values[n - 2], q);
  let i = 1;
  while (levels[i] < q) i++;
  const w = (q - levels[i - 1]) / (levels[i] - levels[i - 1]);
  return values[i - 1] + w * (values[i] - values[i - 1]);
}

function tail(edgeLevel: number, innerLevel: number, edge: number, inner: number, q: number): number {
  const zEdge = normalQuantile(edgeLevel);
  const slope = (edge - inner) / (zEdge - normalQuantile(innerLevel));
  return edge + Math.max(0, slope) * (normalQuantile(q) - zEdge);
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
