import { describe, expect, it } from 'vitest';
import { countObserved, endOf, fillGaps, lastObserved, seriesFromPoints, valueAt } from '../../../src/forecast/series.js';

const STEP = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12);

describe('seriesFromPoints', () => {
  it('places points on the grid, inclusive of the end, with NaN for gaps', () => {
    const series = seriesFromPoints(
      [
        [T0, 1],
        [T0 + STEP, 2],
        [T0 + 3 * STEP, 4],
      ],
      T0,
      T0 + 4 * STEP,
      STEP,
    );
    expect(series.start).toBe(T0);
    expect(series.stepMs).toBe(STEP);
    expect(series.values).toEqual([1, 2, NaN, 4, NaN]);
  });

  it('snaps slightly late points to the nearest slot, averages duplicates and drops outsiders', () => {
    const series = seriesFromPoints(
      [
        [T0 - 10 * STEP, 99],
        [T0 + 2_000, 3],
        [T0 - 1_000, 5],
        [T0 + STEP, NaN],
        [T0 + 2 * STEP, 7],
        [T0 + 9 * STEP, 99],
      ],
      T0,
      T0 + 2 * STEP,
      STEP,
    );
    expect(series.values).toEqual([4, NaN, 7]);
  });

  it('rejects a non-positive step or an end before the start', () => {
    expect(() => seriesFromPoints([], T0, T0 + STEP, 0)).toThrow(RangeError);
    expect(() => seriesFromPoints([], T0, T0 - STEP, STEP)).toThrow(RangeError);
  });
});

describe('fillGaps', () => {
  it('interpolates interior gaps linearly and extends the edges', () => {
    expect(fillGaps([NaN, 2, NaN, NaN, 5, NaN])).toEqual([2, 2, 3, 4, 5, 5]);
  });

  it('repeats the previous period across a gap, joined to both neighbours', () => {
    // Period 3 pattern 0, 10, 20 on a level that rises by 1 per period.
    const values = [0, 10, 20, 1, 11, 21, 2, NaN, NaN, 3, 13, 23];
    const filled = fillGaps(values, 3);
    expect(filled[7]).toBeCloseTo(12, 12);
    expect(filled[8]).toBeCloseTo(22, 12);
  });

  it('repeats the last period over a missing tail, and gives zeros for an all-missing array', () => {
    expect(fillGaps([1, 5, 9, 1, 5, NaN, NaN], 3)).toEqual([1, 5, 9, 1, 5, 9, 1]);
    expect(fillGaps([NaN, NaN])).toEqual([0, 0]);
  });

  it('leaves the input untouched', () => {
    const values = [1, NaN, 3];
    fillGaps(values);
    expect(values).toEqual([1, NaN, 3]);
  });
});

describe('reading a series', () => {
  const series = { start: T0, stepMs: STEP, values: [1, NaN, 3, NaN] };

  it('finds the last observed point', () => {
    expect(lastObserved(series)).toEqual({ index: 2, timestamp: T0 + 2 * STEP, value: 3 });
    expect(lastObserved({ ...series, values: [NaN] })).toBeUndefined();
  });

  it('reads the value at a time, NaN outside the series or in a gap', () => {
    expect(valueAt(series, T0 + 2 * STEP + 10_000)).toBe(3);
    expect(valueAt(series, T0 + STEP)).toBeNaN();
    expect(valueAt(series, T0 - STEP)).toBeNaN();
    expect(valueAt(series, T0 + 4 * STEP)).toBeNaN();
  });

  it('counts observed points and knows where a forecast starts', () => {
    expect(countObserved(series.values)).toBe(2);
    expect(endOf(series)).toBe(T0 + 4 * STEP);
  });
});

describe('fillGaps with a gap longer than the period', () => {
  it('continues the season across the whole gap and leaves nothing missing', () => {
    const period = 4;
    const values = [0, 1, 2, 3, 0, 1, 2, 3, NaN, NaN, NaN, NaN, NaN, NaN, 2, 3, 0, 1];
    const filled = fillGaps(values, period);
    expect(filled.every(Number.isFinite)).toBe(true);
    expect(filled.slice(8, 14)).toEqual([0, 1, 2, 3, 0, 1]);
  });
});
