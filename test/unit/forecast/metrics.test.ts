import { describe, expect, it } from 'vitest';
import { coverage, mae, mase, seasonalNaiveScale, smape } from '../../../src/forecast/accuracy.js';

const HOUR = 3_600_000;

describe('accuracy metrics', () => {
  it('mae skips points missing on either side', () => {
    expect(mae([1, 2, 3, NaN], [2, 2, 5, 7])).toBeCloseTo(1, 12);
    expect(mae([NaN], [1])).toBeNaN();
  });

  it('mase divides the forecast MAE by the in-sample scale', () => {
    expect(mase([10, 20, 30], [12, 17, 30], 2)).toBeCloseTo(5 / 3 / 2, 12);
    expect(mase([10], [12], 0)).toBeNaN();
  });

  it('seasonalNaiveScale uses lag 1 below two days of history', () => {
    // 1-hour steps, 5 points: |2-1| + |4-2| + |7-4| + |11-7| = 10 over 4 pairs.
    expect(seasonalNaiveScale([1, 2, 4, 7, 11], HOUR)).toBeCloseTo(2.5, 12);
  });

  it('seasonalNaiveScale uses a one-day lag from two days of history on', () => {
    // 12-hour steps, a day is 2 steps: pairs (1,5), (2,7), (5,6) -> 4 + 5 + 1 over 3.
    expect(seasonalNaiveScale([1, 2, 5, 7, 6], 12 * HOUR)).toBeCloseTo(10 / 3, 12);
    // A perfectly daily series has a zero scale.
    expect(seasonalNaiveScale([1, 9, 1, 9, 1, 9], 12 * HOUR)).toBe(0);
  });

  it('smape is in percent, symmetric, and zero where both sides are zero', () => {
    // |100-110| * 2 / 210 = 9.5238...%, and 0 for (0, 0).
    expect(smape([100, 0], [110, 0])).toBeCloseTo((100 * (20 / 210)) / 2, 10);
    expect(smape([0], [5])).toBeCloseTo(200, 12);
    expect(smape([3], [5])).toBeCloseTo(smape([5], [3]), 12);
  });

  it('coverage is the share of actual points at or below the quantile', () => {
    expect(coverage([1, 2, 3, 4, NaN], [1, 1, 5, 5, 0])).toBeCloseTo(3 / 4, 12);
  });
});
