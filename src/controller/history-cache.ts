// Keeps each metric's history between reconciles and pulls only what is new from Prometheus:
// a full query_range at start or when the query changes, then the tail since the last point.
import type { Series } from '../forecast/types.js';

export interface RangeSource {
  /** `signal` ends the query early: the reconcile's deadline passed. */
  queryRangeSeries(query: string, startMs: number, endMs: number, stepMs: number, options?: { signal?: AbortSignal }): Promise<Series>;
}

interface Entry {
  query: string;
  stepMs: number;
  series: Series;
}

/** Points re-read at the end of the cached series, for samples that arrived late. */
const OVERLAP_STEPS = 5;

export class HistoryCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * The history of `query` over (now - historyMs, now], on a grid aligned to multiples of stepMs.
   * Values the source did not return are NaN.
   */
  async load(
    key: string,
    source: RangeSource,
    query: string,
    now: number,
    historyMs: number,
    stepMs: number,
    signal?: AbortSignal,
  ): Promise<Series> {
    const end = Math.floor(now / stepMs) * stepMs;
    const start = end - Math.floor(historyMs / stepMs) * stepMs + stepMs;
    const cached = this.entries.get(key);
    let series: Series;
    // The cache must reach back to the new window's start: after spec.forecast.history grew, the
    // older part has never been read, and the tail query alone would leave it NaN.
    const covers = cached !== undefined && cached.series.start <= start && lastTime(cached.series) >= start;
    if (cached && covers && cached.query === query && cached.stepMs === stepMs) {
      const from = Math.max(start, lastTime(cached.series) - OVERLAP_STEPS * stepMs);
      const tail = from <= end ? await source.queryRangeSeries(query, from, end, stepMs, { signal }) : undefined;
      series = splice(cached.series, tail, start, end, stepMs);
    } else {
      series = align(await source.queryRangeSeries(query, start, end, stepMs, { signal }), start, end, stepMs);
    }
    this.entries.set(key, { query, stepMs, series });
    return series;
  }

  forget(keyPrefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(keyPrefix)) this.entries.delete(k);
  }

  size(): number {
    return this.entries.size;
  }
}

function lastTime(s: Series): number {
  return s.start + (s.values.length - 1) * s.stepMs;
}

/** Copies `src` onto the grid [start, end]; points outside are dropped, missing ones are NaN. */
function align(src: Series, start: number, end: number, stepMs: number): Series {
  const n = Math.max(0, Math.round((end - start) / stepMs) + 1);
  const values = new Array<number>(n).fill(NaN);
  writeInto(values, start, stepMs, src);
  return { start, stepMs, values };
}

function splice(old: Series, tail: Series | undefined, start: number, end: number, stepMs: number): Series {
  const out = align(old, start, end, stepMs);
  if (tail) {
    // Clear the re-read span first, so a sample Prometheus no longer returns does not linger.
    const from = Math.round((tail.start - start) / stepMs);
    for (let i = Math.max(0, from); i < out.values.length; i++) out.values[i] = NaN;
    writeInto(out.values, start, stepMs, tail);
  }
  return out;
}

function writeInto(values: number[], start: number, stepMs: number, src: Series): void {
  for (let i = 0; i < src.values.length; i++) {
    const t = src.start + i * src.stepMs;
    const j = Math.round((t - start) / stepMs);
    if (j >= 0 && j < values.length && (t - start) % stepMs === 0) values[j] = src.values[i]!;
  }
}
