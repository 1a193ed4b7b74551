import { describe, expect, it } from 'vitest';
import { niceStep, niceTicks, timeTicks } from '../../../src/report/svg/ticks.js';
import { tickFormatter } from '../../../src/report/format.js';

const mantissa = (step: number): number => Number((step / 10 ** Math.floor(Math.log10(step))).toFixed(6));

describe('niceTicks', () => {
  it('uses steps of 1, 2 or 5 times a power of ten', () => {
    for (const [lo, hi] of [[0, 87], [0, 0.0031], [13, 9_876_543], [-40, 12], [0.5, 0.51], [197_200, 384_293]]) {
      const axis = niceTicks(lo, hi, 6);
      expect([1, 2, 5]).toContain(mantissa(axis.step));
      expect(axis.min).toBeLessThanOrEqual(lo);
      expect(axis.max).toBeGreaterThanOrEqual(hi);
      expect(axis.ticks.length).toBeGreaterThanOrEqual(2);
      expect(axis.ticks.length).toBeLessThanOrEqual(13);
    }
  });

  it('produces exact round values without floating-point noise', () => {
    expect(niceTicks(0, 87, 5).ticks).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0.13, 0.91, 5).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0.1, 0.3, 2).ticks).toEqual([0.1, 0.2, 0.3]);
  });

  it('widens a degenerate domain instead of dividing by zero', () => {
    expect(niceTicks(0, 0, 5).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    const around = niceTicks(50, 50, 4);
    expect(around.min).toBeLessThan(50);
    expect(around.max).toBeGreaterThan(50);
  });

  it('niceStep rounds up to the next nice number', () => {
    expect(niceStep(100, 10)).toBe(10);
    expect(niceStep(110, 10)).toBe(20);
    expect(niceStep(300, 10)).toBe(50);
    expect(niceStep(0.07, 10)).toBeCloseTo(0.01, 12);
  });

  it('formats tick labels with the decimals the step needs and k / M on wide axes', () => {
    const format = tickFormatter(niceTicks(150_000, 400_000, 5));
    expect(format(250_000)).toBe('250k');
    expect(tickFormatter(niceTicks(0, 0.9, 5))(0.4)).toBe('0.4');
    expect(tickFormatter(niceTicks(0, 3_000, 5))(2_500)).toBe('2,500');
    expect(tickFormatter(niceTicks(0, 4e6, 4))(1e6)).toBe('1M');
  });
});

describe('timeTicks', () => {
  const start = Date.UTC(2024, 2, 4, 0, 0);
  const HOUR = 3_600_000;

  it('puts daily ticks on UTC midnights for a two-week span, with the year on the first', () => {
    const ticks = timeTicks(start, start + 14 * 24 * HOUR, 8);
    expect(ticks.stepMs).toBe(2 * 24 * HOUR);
    for (const t of ticks.ticks) expect(t % (24 * HOUR)).toBe(0);
    expect(ticks.labels[0]).toEqual(['Mar 4', '2024']);
    expect(ticks.labels[1]).toEqual(['Mar 6']);
  });

  it('labels sub-day ticks with the clock and adds the date where the day changes', () => {
    const ticks = timeTicks(start + 20 * HOUR + 7 * 60_000, start + 26 * HOUR, 6);
    expect(ticks.stepMs).toBe(HOUR);
    expect(ticks.labels.map((l) => l[0])).toEqual(['21:00', '22:00', '23:00', '00:00', '01:00', '02:00']);
    expect(ticks.labels[0]).toEqual(['21:00', 'Mar 4']);
    expect(ticks.labels[1]).toEqual(['22:00']);
    expect(ticks.labels[3]).toEqual(['00:00', 'Mar 5']);
  });

  it('aligns weekly ticks to Mondays', () => {
    const ticks = timeTicks(start, start + 100 * 24 * HOUR, 8);
    expect(ticks.stepMs).toBe(14 * 24 * HOUR);
    for (const t of ticks.ticks) expect(new Date(t).getUTCDay()).toBe(1);
  });
});
