// From the network's quantile outputs (a fixed set of levels on the 5-minute grid) to the levels and
// the step a caller asks for, keeping every forecast monotone in the level.
import { normalQuantile } from '../quantiles.js';
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

