// Workload traces: `timestamp,value` CSV files (ISO-8601 or Unix seconds) and resampling them
// onto the regular grid the forecasters need.
import { readFile } from 'node:fs/promises';
import type { Series } from '../forecast/types.js';

export type TracePoint = [timestampMs: number, value: number];

export class TraceFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'TraceFormatError';
  }
}

const UNIX_SECONDS = /^[+-]?\d+(\.\d+)?$/;

/** The range of a JavaScript Date: a timestamp beyond it names no time. */
const MAX_TIMESTAMP_MS = 8.64e15;

/** Whole milliseconds since the epoch, or NaN when the text is not a timestamp of a representable date. */
export function parseTimestamp(text: string): number {
  const trimmed = text.trim();
  if (UNIX_SECONDS.test(trimmed)) {
    // Rounding removes float noise: 1767225600.3 * 1000 is not a whole number.
    const ms = Math.round(Number(trimmed) * 1000);
    return Math.abs(ms) <= MAX_TIMESTAMP_MS ? ms : NaN;
  }
  // Date.parse accepts too much (e.g. "1"); require an ISO-8601 date at least.
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return NaN;
  return Date.parse(trimmed);
}

/**
 * Parses trace CSV text into points sorted by time. The first line must be the header
 * `timestamp,value`; blank lines are skipped; an empty value cell (or NaN) is a missing point
 * and is left out.
 */
export function parseTraceCsv(text: string): TracePoint[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/\s+/g, '');
  if (header !== 'timestamp,value') throw new TraceFormatError(1, `expected the header "timestamp,value", got "${lines[0] ?? ''}"`);
  const points: TracePoint[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const cells = line.split(',');
    if (cells.length !== 2) throw new TraceFormatError(i + 1, `expected 2 columns, got ${cells.length}`);
    const timestamp = parseTimestamp(cells[0]);
    if (!Number.isFinite(timestamp)) throw new TraceFormatError(i + 1, `cannot read timestamp "${cells[0]}"`);
    const cell = cells[1].trim();
    if (cell === '' || cell.toLowerCase() === 'nan') continue;
    const value = Number(cell);
    if (!Number.isFinite(value)) throw new TraceFormatError(i + 1, `cannot read value "${cells[1]}"`);
    points.push([timestamp, value]);
  }
  return points.sort((a, b) => a[0] - b[0]);
}

export async function loadTrace(path: string): Promise<TracePoint[]> {
  return parseTraceCsv(await readFile(path, 'utf8'));
}

export interface GapReport {
  /** Empty buckets in all. */
  missingSteps: number;
  /** Runs of consecutive empty buckets. */
  gapCount: number;
  longestGapSteps: number;
  longestGapMs: number;
}

export interface Resampled {
  series: Series;
  gaps: GapReport;
}

/** Far above any trace worth simulating (about 9.5 years at 1m), far below what exhausts memory. */
export const MAX_RESAMPLED_STEPS = 5_000_000;

/**
 * Buckets [start + i*step, start + (i+1)*step) from the first point's time (or `startMs`) to
 * the last point; each bucket holds the mean of its points, NaN when it has none.
 */
export function resample(points: readonly TracePoint[], stepMs: number, startMs?: number): Resampled {
  if (!(stepMs > 0 && Number.isFinite(stepMs))) throw new RangeError(`stepMs must be a positive number, got ${stepMs}`);
  if (points.length === 0) throw new RangeError('cannot resample a trace without points');
  let first = Infinity;
  let end = -Infinity;
  for (const [timestamp] of points) {
    first = Math.min(first, timestamp);
    end = Math.max(end, timestamp);
  }
  const start = startMs ?? first;
  if (!Number.isFinite(start) || start > end) throw new RangeError(`the grid must start at a time no later than the last point, got ${start}`);
  const length = Math.floor((end - start) / stepMs) + 1;
  if (length > MAX_RESAMPLED_STEPS) {
    throw new RangeError(`the trace spans ${length} steps of ${stepMs} ms, more than ${MAX_RESAMPLED_STEPS}; use a larger step or a shorter trace`);
  }
  const sums = new Float64Array(length);
  const counts = new Uint32Array(length);
  for (const [timestamp, value] of points) {
    const bucket = Math.floor((timestamp - start) / stepMs);
    if (bucket < 0 || bucket >= length || !Number.isFinite(value)) continue;
    sums[bucket] += value;
    counts[bucket]++;
  }
  const values = Array.from(sums, (sum, i) => (counts[i] > 0 ? sum / counts[i] : NaN));
  return { series: { start, stepMs, values }, gaps: gapReport(values, stepMs) };
}

export function gapReport(values: readonly number[], stepMs: number): GapReport {
  let missingSteps = 0;
  let gapCount = 0;
  let longest = 0;
  let run = 0;
  for (const v of values) {
    if (Number.isNaN(v)) {
      if (run === 0) gapCount++;
      run++;
      missingSteps++;
      longest = Math.max(longest, run);
    } else {
      run = 0;
    }
  }
  return { missingSteps, gapCount, longestGapSteps: longest, longestGapMs: longest * stepMs };
}
