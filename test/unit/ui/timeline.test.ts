import { describe, expect, it } from 'vitest';
import { demandChart } from '../../../src/ui/demand.js';
import { RingBuffer } from '../../../src/ui/ring-buffer.js';
import { Timeline, type TimelineEntry } from '../../../src/ui/timeline.js';

const T0 = Date.UTC(2026, 2, 2, 12);
const MIN = 60_000;

function entry(time: number, over: Partial<TimelineEntry> = {}): TimelineEntry {
  return { time, replicas: 2, desired: 2, demand: [], explanation: 'held', ...over };
}

describe('RingBuffer', () => {
  it('keeps the newest items, oldest first, once full', () => {
    const ring = new RingBuffer<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.length).toBe(3);
    expect(ring.last()).toBe(7);
  });

  it('drops stale items from the oldest end and replaces the newest', () => {
    const ring = new RingBuffer<number>(4);
    for (const x of [1, 2, 3, 4, 5]) ring.push(x);
    expect(ring.toArrayTail(2)).toEqual([4, 5]);
    expect(ring.toArrayTail(9)).toEqual([2, 3, 4, 5]);
    ring.dropWhile((x) => x < 4);
    expect(ring.toArray()).toEqual([4, 5]);
    ring.replaceLast(9);
    ring.push(10);
    expect(ring.toArray()).toEqual([4, 9, 10]);
    ring.dropWhile(() => true);
    expect(ring.toArray()).toEqual([]);
    expect(ring.last()).toBeUndefined();
    expect(() => ring.replaceLast(1)).toThrow(/empty/);
  });

  it('refuses a capacity that is not a whole number at least 1', () => {
    expect(() => new RingBuffer(0)).toThrow(/capacity/);
    expect(() => new RingBuffer(2.5)).toThrow(/capacity/);
  });
});

describe('Timeline', () => {
  it('keeps a run of equal counts as its first and last point, and every change at its time', () => {
    const timeline = new Timeline();
    for (let t = 0; t <= 10 * MIN; t += 10_000) timeline.record('shop/web', entry(T0 + t, { desired: t < 5 * MIN ? 2 : 7 }));
    expect(timeline.get('shop/web')!.replicas.map((p) => [p.time - T0, p.desired])).toEqual([
      [0, 2],
      [5 * MIN - 10_000, 2],
      [5 * MIN, 7],
      [10 * MIN, 7],
    ]);
  });

  it('keeps at most maxPoints points, none older than the window, in ascending time', () => {
    const timeline = new Timeline({ windowMs: 60 * MIN, maxPoints: 100 });
    // A count that changes on every reconcile, every 10 s for 3 hours.
    for (let t = 0; t <= 3 * 60 * MIN; t += 10_000) timeline.record('shop/web', entry(T0 + t, { desired: t / 10_000 }));
    const points = timeline.get('shop/web')!.replicas;
    expect(points.length).toBe(100);
    expect(points.at(-1)!.time).toBe(T0 + 3 * 60 * MIN);
    const times = points.map((p) => p.time);
    expect(times).toEqual([...times].sort((a, b) => a - b));

    const sparse = new Timeline({ windowMs: 60 * MIN, maxPoints: 100 });
    for (let t = 0; t <= 3 * 60 * MIN; t += 5 * MIN) sparse.record('shop/web', entry(T0 + t, { desired: t / MIN }));
    expect(sparse.get('shop/web')!.replicas[0]!.time).toBeGreaterThanOrEqual(T0 + 2 * 60 * MIN);
  });

  it('adds no point when the clock steps back, so times keep ascending', () => {
    const timeline = new Timeline();
    timeline.record('shop/web', entry(T0 + 10 * MIN));
    timeline.record('shop/web', entry(T0 + 5 * MIN));
    expect(timeline.get('shop/web')!.replicas.map((p) => p.time)).toEqual([T0 + 10 * MIN]);
  });

  it('keeps scale events with their explanation, bounded in number and length', () => {
    const timeline = new Timeline({ maxEvents: 2, maxExplanationLength: 10 });
    for (let i = 0; i < 5; i++) timeline.record('shop/web', entry(T0 + i * MIN, { scaled: { from: i, to: i + 1 }, explanation: `scaled because ${'x'.repeat(100)}` }));
    timeline.record('shop/web', entry(T0 + 10 * MIN));
    const events = timeline.get('shop/web')!.events;
    expect(events.map((e) => [e.from, e.to])).toEqual([[3, 4], [4, 5]]);
    expect(events[0]!.explanation).toBe('scaled bec');
  });

  it('records at most maxScalers scalers, and has room again once one is forgotten', () => {
    const timeline = new Timeline({ maxScalers: 2 });
    expect(timeline.record('a/one', entry(T0))).toBe(true);
    expect(timeline.record('a/two', entry(T0))).toBe(true);
    expect(timeline.record('a/three', entry(T0))).toBe(false);
    expect(timeline.get('a/three')).toBeUndefined();
    expect(timeline.isFull()).toBe(true);
    // A scaler already recorded keeps being recorded.
    expect(timeline.record('a/one', entry(T0 + MIN))).toBe(true);
    timeline.forget('a/two');
    expect(timeline.get('a/two')).toBeUndefined();
    expect(timeline.record('a/three', entry(T0 + MIN))).toBe(true);
    expect(timeline.size).toBe(2);
  });

  it('tells subscribers about every record and forget until they unsubscribe', () => {
    const timeline = new Timeline();
    const heard: string[] = [];
    const unsubscribe = timeline.subscribe((key) => heard.push(key));
    timeline.record('shop/web', entry(T0));
    timeline.forget('shop/web');
    timeline.forget('shop/never-recorded');
    unsubscribe();
    timeline.record('shop/web', entry(T0));
    expect(heard).toEqual(['shop/web', 'shop/web']);
  });
});

describe('demandChart', () => {
  const step = MIN;
  const history = { start: T0 - 600 * step, stepMs: step, values: Array.from({ length: 600 }, (_, i) => (i === 590 ? NaN : 100 + i)) };
  const forecast = {
    model: 'Linear',
    start: T0,
    stepMs: step,
    mean: [700, 710, 720],
    quantiles: [
      { q: 0.05, values: [600, 605, 610] },
      { q: 0.9, values: [780, 790, 800] },
      { q: 0.95, values: [800, 810, 820] },
    ],
  };

  it('puts the observed history, then the forecast with its band, on one ascending time axis', () => {
    const chart = demandChart({ metric: 'rps', quantile: 0.9, now: T0, history, forecast }, { historyMs: 10 * step, maxPoints: 1000 });
    // History within the last 10 minutes (the newest point is a minute before now), then 3 forecast points.
    expect(chart.times).toEqual([...Array.from({ length: 10 }, (_, i) => T0 - (10 - i) * step), T0, T0 + step, T0 + 2 * step]);
    expect(chart.observed.slice(0, 10)).toEqual([690, 691, 692, 693, 694, 695, 696, 697, 698, 699].map((v, i) => (i === 0 ? NaN : v)));
    expect(chart.observed.slice(10)).toEqual([NaN, NaN, NaN]);
    expect(chart.planning.slice(10)).toEqual([780, 790, 800]);
    expect(chart.lower.slice(10)).toEqual([600, 605, 610]);
    expect(chart.upper.slice(10)).toEqual([800, 810, 820]);
    expect(chart.planningSource).toBe('quantile');
  });

  it('reads the mean when the model lacks the planning quantile', () => {
    const chart = demandChart({ metric: 'rps', quantile: 0.75, now: T0, forecast });
    expect(chart.planning).toEqual([700, 710, 720]);
    expect(chart.planningSource).toBe('mean');
  });

  it('merges long charts into at most maxPoints buckets that keep the peaks', () => {
    const chart = demandChart({ metric: 'rps', quantile: 0.9, now: T0, history, forecast }, { historyMs: 600 * step, maxPoints: 50 });
    expect(chart.times.length).toBeLessThanOrEqual(50);
    expect(Math.max(...chart.observed.filter(Number.isFinite))).toBe(699);
    expect(Math.max(...chart.upper.filter(Number.isFinite))).toBe(820);
    expect(Math.min(...chart.lower.filter(Number.isFinite))).toBe(600);
    for (const values of [chart.observed, chart.lower, chart.planning, chart.upper]) expect(values.length).toBe(chart.times.length);
  });

  it('reads only the window of a long history, not all of it', () => {
    const long = { start: T0 - 100_000 * step, stepMs: step, values: new Array<number>(100_000).fill(5) };
    const chart = demandChart({ metric: 'rps', quantile: 0.9, now: T0, history: long }, { historyMs: 30 * step, maxPoints: 1000 });
    expect(chart.times.length).toBe(30);
  });
});
