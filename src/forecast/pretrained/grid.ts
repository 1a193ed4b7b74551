// The pretrained model sees every series on one fixed grid (5-minute slots ending at the series'
// last slot), whatever the series' own step: finer series are averaged into the slots, coarser ones
// interpolated between their observations. This is what makes one set of weights serve 1-minute and
// 30-minute metrics alike.
import type { Series } from '../types.js';

export const GRID_STEP_MS = 5 * 60_000;

/** Coarser observations are interpolated only across gaps up to this long; longer gaps stay missing. */
const MAX_INTERPOLATED_GAP_MS = 2 * 3_600_000;

/**
 * Values on the grid: values[k] is the slot ending at endTime - (length - 1 - k) * GRID_STEP_MS, so
 * the last slot ends at the series' last slot time. Missing slots are NaN.
 */
export interface Grid {
  endTime: number;
  values: Float64Array;
}

/**
 * The last `slots` grid slots of `series`. A slot with the series' step at most GRID_STEP_MS holds the
 * mean of the observed points in (slot end - GRID_STEP_MS, slot end]; with a coarser step, the value
 * interpolated at the slot end between the observations around it. Cost: O(slots + points read).
 */
export function toGrid(series: Series, slots: number): Grid {
  const { start, stepMs, values } = series;
  const endTime = start + (values.length - 1) * stepMs;
  const out = new Float64Array(Math.max(0, slots)).fill(NaN);
  if (values.length === 0 || out.length === 0) return { endTime, values: out };
  const gridStart = endTime - out.length * GRID_STEP_MS; // exclusive lower edge of the first slot
  const firstIndex = Math.max(0, Math.floor((gridStart - start) / stepMs) - 1);
  if (stepMs <= GRID_STEP_MS) averageInto(out, series, firstIndex, gridStart);
  else interpolateInto(out, series, firstIndex, endTime);
  return { endTime, values: out };
}

function averageInto(out: Float64Array, series: Series, firstIndex: number, gridStart: number): void {
  const sums = new Float64Array(out.length);
  const counts = new Uint32Array(out.length);
  for (let i = firstIndex; i < series.values.length; i++) {
    const v = series.values[i];
    if (!Number.isFinite(v)) continue;
    const t = series.start + i * series.stepMs;
    const slot = Math.ceil((t - gridStart) / GRID_STEP_MS) - 1;
    if (slot < 0 || slot >= out.length) continue;
    // Mean by running update: a sum of huge values could overflow where their mean does not.
    counts[slot]++;
    sums[slot] += (v - sums[slot]) / counts[slot];
  }
  for (let k = 0; k < out.length; k++) if (counts[k] > 0) out[k] = sums[k];
}

function interpolateInto(out: Float64Array, series: Series, firstIndex: number, endTime: number): void {
  const { start, stepMs, values } = series;
  let previous = -1; // index of the last observation at or before the slot end
  let next = firstIndex;
  let after = -1; // the first observation after the slot end, found once per run of slots
  for (let k = 0; k < out.length; k++) {
    const t = endTime - (out.length - 1 - k) * GRID_STEP_MS;
    while (next < values.length && start + next * stepMs <= t) {
      if (Number.isFinite(values[next])) previous = next;
      next++;
    }
    if (previous < 0) continue;
    const tPrevious = start + previous * stepMs;
    if (tPrevious === t) {
      out[k] = values[previous];
      continue;
    }
    if (after < next) {
      after = next;
      while (after < values.length && !Number.isFinite(values[after])) after++;
    }
    if (after >= values.length) continue;
    const tAfter = start + after * stepMs;
    if (tAfter - tPrevious > MAX_INTERPOLATED_GAP_MS) continue;
    const w = (t - tPrevious) / (tAfter - tPrevious);
    out[k] = values[previous] + w * (values[after] - values[previous]);
  }
}
