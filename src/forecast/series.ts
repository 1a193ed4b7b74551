// Helpers for regular time series (see Series in types.ts): building one from raw points,
// filling gaps, and reading values back by time.
import type { Series } from './types.js';

/**
 * Places `[timestampMs, value]` points onto the grid start, start + step, ... up to and including
 * `endMs`. Each point goes to its nearest grid slot; several points in one slot are averaged.
 * Slots without a point, and points that are not finite, become NaN.
 */
export function seriesFromPoints(
  points: ReadonlyArray<readonly [number, number]>,
  startMs: number,
  endMs: number,
  stepMs: number,
): Series {
  if (!(stepMs > 0)) throw new RangeError(`stepMs must be positive, got ${stepMs}`);
  if (endMs < startMs) throw new RangeError(`endMs (${endMs}) is before startMs (${startMs})`);
  const length = Math.floor((endMs - startMs) / stepMs) + 1;
  const sums = new Array<number>(length).fill(0);
  const counts = new Array<number>(length).fill(0);
  for (const [timestamp, value] of points) {
    if (!Number.isFinite(value)) continue;
    const slot = Math.round((timestamp - startMs) / stepMs);
    if (slot < 0 || slot >= length) continue;
    sums[slot] += value;
    counts[slot] += 1;
  }
  const values = sums.map((sum, i) => (counts[i] > 0 ? sum / counts[i] : NaN));
  return { start: startMs, stepMs, values };
}

export function countObserved(values: readonly number[]): number {
  let count = 0;
  for (const v of values) if (Number.isFinite(v)) count++;
  return count;
}

/** Whether `values` holds at least `need` finite points; stops counting there (replays check this every minute). */
export function hasObserved(values: readonly number[], need: number): boolean {
  if (need <= 0) return true;
  let count = 0;
  for (let i = values.length - 1; i >= 0; i--) if (Number.isFinite(values[i]) && ++count >= need) return true;
  return false;
}

/**
 * Returns a copy of `values` without NaN. Interior gaps are interpolated linearly between their
 * neighbours; when `period` (in steps) is given and a full period of earlier data exists, the gap
 * instead repeats the previous period's shape, shifted so it joins both neighbours. Leading gaps
 * take the first observed value, trailing gaps repeat the last period (or the last value).
 * An array with no observed value is returned as zeros.
 */
export function fillGaps(values: readonly number[], period = 0): number[] {
  const filled = values.slice();
  const n = filled.length;
  const first = filled.findIndex(Number.isFinite);
  if (first < 0) return filled.map(() => 0);
  for (let i = 0; i < first; i++) filled[i] = filled[first];

  let i = first + 1;
  while (i < n) {
    if (Number.isFinite(filled[i])) {
      i++;
      continue;
    }
    const left = i - 1;
    let right = i;
    while (right < n && !Number.isFinite(filled[right])) right++;
    const seasonal = period > 1 && left - period >= 0;
    if (right >= n) {
      for (let t = i; t < n; t++) filled[t] = seasonal ? filled[t - period] : filled[left];
    } else {
      // Offsets of the gap's edges from the previous period, interpolated across the gap.
      const leftOffset = seasonal ? filled[left] - filled[left - period] : 0;
      // A gap longer than a period has no observed value a period before its right edge: continue
      // the season with the left edge's offset (the edge may then step).
      const rightOffset = !seasonal ? 0 : right - period >= i ? leftOffset : filled[right] - filled[right - period];
      for (let t = i; t < right; t++) {
        const w = (t - left) / (right - left);
        filled[t] = seasonal
          ? filled[t - period] + leftOffset + w * (rightOffset - leftOffset)
          : filled[left] + w * (filled[right] - filled[left]);
      }
    }
    i = right;
  }
  return filled;
}

export interface Observation {
  index: number;
  timestamp: number;
  value: number;
}

/** The most recent non-missing point, or undefined when the series has none. */
export function lastObserved(series: Series): Observation | undefined {
  for (let i = series.values.length - 1; i >= 0; i--) {
    const value = series.values[i];
    if (Number.isFinite(value)) return { index: i, timestamp: series.start + i * series.stepMs, value };
  }
  return undefined;
}

/** The value in the grid slot nearest to `timestampMs`; NaN outside the series or in a gap. */
export function valueAt(series: Series, timestampMs: number): number {
  const slot = Math.round((timestampMs - series.start) / series.stepMs);
  if (slot < 0 || slot >= series.values.length) return NaN;
  return series.values[slot];
}

/** Timestamp of the slot after the last one: where a forecast of this series starts. */
export function endOf(series: Series): number {
  return series.start + series.values.length * series.stepMs;
}
