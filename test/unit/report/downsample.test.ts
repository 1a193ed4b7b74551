import { describe, expect, it } from 'vitest';
import { downsampleEnvelope, downsampleMinMax, exceedanceSpans } from '../../../src/report/svg/downsample.js';
import type { TimeSeriesData } from '../../../src/simulate/types.js';
import { random } from './fixtures.js';

const MINUTE = 60_000;

function noisy(length: number, seed: number): TimeSeriesData {
  const rnd = random(seed);
  return { start: 0, stepMs: MINUTE, values: Array.from({ length }, () => rnd() * 100) };
}

describe('downsampleMinMax', () => {
  it('keeps every bucket minimum and maximum, in time order, with at most two points per bucket', () => {
    const series = noisy(100_000, 3);
    series.values[31_337] = 1_000; // a spike
    series.values[77_777] = -500; // a dip
    const t1 = series.values.length * MINUTE;
    const buckets = 500;
    const points = downsampleMinMax(series, 0, t1, buckets);
    expect(points.length).toBeLessThanOrEqual(2 * buckets);
    const ys = points.map((p) => p.y);
    expect(ys).toContain(1_000);
    expect(ys).toContain(-500);
    expect(points.every((p, i) => i === 0 || p.x > points[i - 1].x)).toBe(true);
    const perBucket = series.values.length / buckets;
    for (let b = 0; b < buckets; b += 37) {
      const slice = series.values.slice(b * perBucket, (b + 1) * perBucket);
      expect(ys).toContain(Math.max(...slice));
      expect(ys).toContain(Math.min(...slice));
    }
  });

  it('returns short series unchanged and restricted to the window', () => {
    const series: TimeSeriesData = { start: 0, stepMs: MINUTE, values: [1, 5, 2, 8, 3] };
    expect(downsampleMinMax(series, 0, 10 * MINUTE, 100).map((p) => p.y)).toEqual([1, 5, 2, 8, 3]);
    expect(downsampleMinMax(series, MINUTE, 3 * MINUTE, 100)).toEqual([
      { x: MINUTE, y: 5 },
      { x: 2 * MINUTE, y: 2 },
      { x: 3 * MINUTE, y: 8 },
    ]);
  });

  it('turns a bucket without finite values into a gap', () => {
    const series = noisy(10_000, 5);
    for (let i = 5_000; i < 6_000; i++) series.values[i] = NaN;
    const points = downsampleMinMax(series, 0, 10_000 * MINUTE, 100);
    expect(points.some((p) => Number.isNaN(p.y))).toBe(true);
    expect(points.filter((p) => p.x >= 5_100 * MINUTE && p.x < 5_900 * MINUTE).every((p) => Number.isNaN(p.y))).toBe(true);
  });
});

describe('downsampleEnvelope', () => {
  it('never draws the band narrower than the data', () => {
    const lower = noisy(20_000, 7);
    const upper: TimeSeriesData = { ...lower, values: lower.values.map((v, i) => v + 10 + (i === 12_345 ? 900 : 0)) };
    const band = downsampleEnvelope(lower, upper, 0, 20_000 * MINUTE, 400);
    expect(band.length).toBeLessThanOrEqual(400);
    expect(Math.max(...band.map((p) => p.hi))).toBe(Math.max(...upper.values));
    expect(Math.min(...band.map((p) => p.lo))).toBe(Math.min(...lower.values));
  });
});

describe('exceedanceSpans', () => {
  const capacity: TimeSeriesData = { start: 0, stepMs: MINUTE, values: new Array(20).fill(10) };

  it('gives exact minute spans when there are fewer minutes than pixels', () => {
    const demand: TimeSeriesData = { start: 0, stepMs: MINUTE, values: new Array(20).fill(5) };
    demand.values[3] = demand.values[4] = 11;
    demand.values[10] = 12;
    expect(exceedanceSpans(demand, capacity, 0, 20 * MINUTE, 100)).toEqual([
      { start: 3 * MINUTE, end: 5 * MINUTE, share: 1 },
      { start: 10 * MINUTE, end: 11 * MINUTE, share: 1 },
    ]);
  });

  it('shades a long run by the share of exceeded minutes per bucket', () => {
    const long = 10_000;
    const demand: TimeSeriesData = { start: 0, stepMs: MINUTE, values: new Array(long).fill(5) };
    const cap: TimeSeriesData = { start: 0, stepMs: MINUTE, values: new Array(long).fill(10) };
    demand.values[15] = 11; // one minute out of the first bucket's 100
    for (let i = 5_000; i < 5_100; i++) demand.values[i] = 11; // a whole bucket
    const spans = exceedanceSpans(demand, cap, 0, long * MINUTE, 100);
    expect(spans).toHaveLength(2);
    expect(spans[0]).toMatchObject({ start: 0, share: 0.25 });
    expect(spans[1]).toMatchObject({ start: 5_000 * MINUTE, end: 5_100 * MINUTE, share: 1 });
  });
});
