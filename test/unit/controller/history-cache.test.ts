import { describe, expect, it } from 'vitest';
import { HistoryCache, type RangeSource } from '../../../src/controller/history-cache.js';
import type { Series } from '../../../src/forecast/types.js';

const STEP = 60_000;
const HISTORY = 60 * STEP;
/** A step-aligned instant; `now` values below sit a little past it, as a reconcile would. */
const T = Date.UTC(2026, 2, 2, 14, 0);

interface Call {
  query: string;
  start: number;
  end: number;
  step: number;
}

/**
 * Prometheus stand-in: samples by timestamp; answers on the requested grid, NaN where it has no
 * sample (as the real client's queryRangeSeries does), and records every call.
 */
class FakeSource implements RangeSource {
  readonly calls: Call[] = [];
  readonly samples = new Map<number, number>();

  async queryRangeSeries(query: string, start: number, end: number, step: number): Promise<Series> {
    this.calls.push({ query, start, end, step });
    const values: number[] = [];
    for (let t = start; t <= end; t += step) values.push(this.samples.get(t) ?? NaN);
    return { start, stepMs: step, values };
  }

  /** One sample per step from `from` to `to`, valued by minute index relative to T. */
  fill(from: number, to: number, step = STEP): void {
    for (let t = from; t <= to; t += step) this.samples.set(t, (t - T) / STEP);
  }
}

function valueAt(s: Series, t: number): number | undefined {
  const i = (t - s.start) / s.stepMs;
  return Number.isInteger(i) && i >= 0 && i < s.values.length ? s.values[i] : undefined;
}

function lastTime(s: Series): number {
  return s.start + (s.values.length - 1) * s.stepMs;
}

describe('HistoryCache', () => {
  it('first load queries the whole window, aligned to the step', async () => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T);
    const cache = new HistoryCache();

    const s = await cache.load('ns/a/rps', source, 'q', T + 25_000, HISTORY, STEP);

    expect(source.calls).toEqual([{ query: 'q', start: T - HISTORY + STEP, end: T, step: STEP }]);
    expect(s.start).toBe(T - HISTORY + STEP);
    expect(s.stepMs).toBe(STEP);
    expect(s.values).toHaveLength(HISTORY / STEP);
    expect(lastTime(s)).toBe(T);
    expect(s.values.at(-1)).toBe(0);
    expect(s.values[0]).toBe(-59);
  });

  it('a later load queries only the tail, overlapping the last 5 points', async () => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T + 10 * STEP);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T + 25_000, HISTORY, STEP);

    const s = await cache.load('k', source, 'q', T + 2 * STEP + 25_000, HISTORY, STEP);

    expect(source.calls).toHaveLength(2);
    expect(source.calls[1]).toEqual({ query: 'q', start: T - 5 * STEP, end: T + 2 * STEP, step: STEP });
    expect(lastTime(s)).toBe(T + 2 * STEP);
    expect(s.values.at(-1)).toBe(2);
  });

  it('the window slides: points that fell out of the history are dropped', async () => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T + 10 * STEP);
    const cache = new HistoryCache();
    const first = await cache.load('k', source, 'q', T, HISTORY, STEP);

    const later = await cache.load('k', source, 'q', T + 3 * STEP, HISTORY, STEP);

    expect(later.values).toHaveLength(first.values.length);
    expect(later.start).toBe(first.start + 3 * STEP);
    expect(valueAt(later, first.start)).toBeUndefined();
    // Every point is on the grid and holds the sample for its own time.
    later.values.forEach((v, i) => expect(v).toBe((later.start + i * STEP - T) / STEP));
  });

  it('keeps cached points older than the overlap without re-reading them', async () => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T + 10 * STEP);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    source.samples.set(T - 30 * STEP, 999); // changed in the source, but outside the re-read span
    const s = await cache.load('k', source, 'q', T + STEP, HISTORY, STEP);

    expect(valueAt(s, T - 30 * STEP)).toBe(-30);
  });

  it('values the tail re-reads overwrite the cache; values it no longer returns are cleared', async () => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    source.samples.set(T - STEP, 42); // a late sample changed the value
    source.samples.delete(T - 3 * STEP); // the sample vanished (e.g. the series went stale)
    source.samples.set(T + STEP, 1);
    const s = await cache.load('k', source, 'q', T + STEP, HISTORY, STEP);

    expect(valueAt(s, T - STEP)).toBe(42);
    expect(valueAt(s, T - 3 * STEP)).toBeNaN();
    expect(valueAt(s, T + STEP)).toBe(1);
    expect(valueAt(s, T - 6 * STEP)).toBe(-6);
  });

  it('fills gaps with NaN', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T);
    for (const m of [10, 11, 12]) source.samples.delete(T - m * STEP);
    const cache = new HistoryCache();

    const s = await cache.load('k', source, 'q', T, HISTORY, STEP);

    expect(valueAt(s, T - 11 * STEP)).toBeNaN();
    expect(valueAt(s, T - 9 * STEP)).toBe(-9);
    expect(s.values.filter(Number.isNaN)).toHaveLength(3);
  });

  it('a point the source has not got yet at the end of the window is NaN, and is filled in by the next tail', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T - STEP);
    const cache = new HistoryCache();
    const first = await cache.load('k', source, 'q', T, HISTORY, STEP);
    expect(first.values.at(-1)).toBeNaN();

    source.samples.set(T, 0);
    const second = await cache.load('k', source, 'q', T + 10_000, HISTORY, STEP);
    expect(source.calls[1]!.start).toBe(T - 5 * STEP);
    expect(second.values.at(-1)).toBe(0);
  });

  it.each([
    ['query', { query: 'other' }],
    ['step', { step: 30_000 }],
  ])('a changed %s triggers a full reload', async (_what, change: { query?: string; step?: number }) => {
    const source = new FakeSource();
    source.fill(T - 2 * HISTORY, T + 10 * STEP, 30_000);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    const query = change.query ?? 'q';
    const step = change.step ?? STEP;
    const s = await cache.load('k', source, query, T + STEP, HISTORY, step);

    expect(source.calls[1]).toEqual({ query, start: T + STEP - HISTORY + step, end: T + STEP, step });
    expect(s.stepMs).toBe(step);
    expect(s.values).toHaveLength(HISTORY / step);
  });

  it('reloads fully when the cached series ends before the new window starts', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T + 3 * HISTORY);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    const now = T + 2 * HISTORY;
    const s = await cache.load('k', source, 'q', now, HISTORY, STEP);

    expect(source.calls[1]).toEqual({ query: 'q', start: now - HISTORY + STEP, end: now, step: STEP });
    expect(s.values.every(Number.isFinite)).toBe(true);
  });

  it('a longer history triggers a full reload, so the older part is read', async () => {
    const source = new FakeSource();
    source.fill(T - 3 * HISTORY, T + STEP);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    const s = await cache.load('k', source, 'q', T + STEP, 2 * HISTORY, STEP);

    expect(source.calls[1]).toEqual({ query: 'q', start: T + STEP - 2 * HISTORY + STEP, end: T + STEP, step: STEP });
    expect(s.values).toHaveLength(2 * HISTORY / STEP);
    expect(s.values.every(Number.isFinite)).toBe(true);
  });

  it('a shorter history is cut from the cache, reading only the tail', async () => {
    const source = new FakeSource();
    source.fill(T - 3 * HISTORY, T + STEP);
    const cache = new HistoryCache();
    await cache.load('k', source, 'q', T, HISTORY, STEP);

    const s = await cache.load('k', source, 'q', T + STEP, HISTORY / 2, STEP);

    expect(source.calls[1]!.start).toBe(T - 5 * STEP);
    expect(s.start).toBe(T + STEP - HISTORY / 2 + STEP);
    expect(s.values).toHaveLength(HISTORY / 2 / STEP);
    expect(s.values.every(Number.isFinite)).toBe(true);
  });

  it('keeps entries per key', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T + STEP);
    const cache = new HistoryCache();
    await cache.load('ns/a/rps', source, 'q', T, HISTORY, STEP);
    await cache.load('ns/b/rps', source, 'q', T, HISTORY, STEP);
    expect(source.calls.map((c) => c.start)).toEqual([T - HISTORY + STEP, T - HISTORY + STEP]);

    await cache.load('ns/b/rps', source, 'q', T + STEP, HISTORY, STEP);
    expect(source.calls[2]!.start).toBe(T - 5 * STEP);
    expect(cache.size()).toBe(2);
  });

  it('forget(prefix) drops the matching entries only, so their next load is a full one', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T + STEP);
    const cache = new HistoryCache();
    for (const key of ['ns/a/rps', 'ns/a/cpu', 'ns/ab/rps', 'other/a/rps']) await cache.load(key, source, 'q', T, HISTORY, STEP);
    expect(cache.size()).toBe(4);

    cache.forget('ns/a/');

    expect(cache.size()).toBe(2);
    source.calls.length = 0;
    await cache.load('ns/a/rps', source, 'q', T + STEP, HISTORY, STEP);
    await cache.load('ns/ab/rps', source, 'q', T + STEP, HISTORY, STEP);
    expect(source.calls.map((c) => c.start)).toEqual([T + STEP - HISTORY + STEP, T - 5 * STEP]);
  });

  it('does not keep an entry when the source fails, and retries fully next time', async () => {
    const source = new FakeSource();
    source.fill(T - HISTORY, T);
    const failing: RangeSource = {
      queryRangeSeries: async () => {
        throw new Error('prometheus unreachable');
      },
    };
    const cache = new HistoryCache();

    await expect(cache.load('k', failing, 'q', T, HISTORY, STEP)).rejects.toThrow('unreachable');
    expect(cache.size()).toBe(0);
    await cache.load('k', source, 'q', T, HISTORY, STEP);
    expect(source.calls[0]!.start).toBe(T - HISTORY + STEP);
  });
});
