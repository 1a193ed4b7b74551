import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TraceFormatError, gapReport, loadTrace, parseTimestamp, parseTraceCsv, resample } from '../../../src/traces/csv.js';

const T0 = Date.UTC(2026, 0, 1);
const STEP = 5 * 60_000;

describe('parseTraceCsv', () => {
  it('reads ISO-8601 and Unix-second timestamps, sorted by time', () => {
    const points = parseTraceCsv(
      ['timestamp,value', '2026-01-01T00:05:00Z,2.5', '', `${T0 / 1000},1e3`, '2026-01-01T00:10:00.000Z, 7 '].join('\r\n'),
    );
    expect(points).toEqual([
      [T0, 1000],
      [T0 + STEP, 2.5],
      [T0 + 2 * STEP, 7],
    ]);
  });

  it('skips empty or NaN values as missing points', () => {
    expect(parseTraceCsv('timestamp,value\n2026-01-01T00:00:00Z,\n2026-01-01T00:05:00Z,NaN\n2026-01-01T00:10:00Z,1')).toEqual([[T0 + 2 * STEP, 1]]);
  });

  it('rejects a missing header and unreadable lines, naming the line', () => {
    expect(() => parseTraceCsv('time,v\n1,2')).toThrow(TraceFormatError);
    expect(() => parseTraceCsv('timestamp,value\n2026-01-01T00:00:00Z,1\nyesterday,2')).toThrow(/line 3: cannot read timestamp/);
    expect(() => parseTraceCsv('timestamp,value\n2026-01-01T00:00:00Z,abc')).toThrow(/line 2: cannot read value/);
    expect(() => parseTraceCsv('timestamp,value\n2026-01-01T00:00:00Z,1,2')).toThrow(/line 2: expected 2 columns/);
  });

  it('parses timestamps strictly', () => {
    expect(parseTimestamp('1700000000')).toBe(1_700_000_000_000);
    expect(parseTimestamp('1700000000.5')).toBe(1_700_000_000_500);
    expect(parseTimestamp('2026-01-01')).toBe(T0);
    expect(parseTimestamp('Jan 1 2026')).toBeNaN();
  });
});

describe('loadTrace', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads a file from disk', async () => {
    dir = await mkdtemp(join(tmpdir(), 'prescale-trace-'));
    const path = join(dir, 'trace.csv');
    await writeFile(path, 'timestamp,value\n2026-01-01T00:00:00Z,3\n');
    expect(await loadTrace(path)).toEqual([[T0, 3]]);
  });

  it('loads a real development trace', async () => {
    const points = await loadTrace(join(process.cwd(), '../shared/data/traces/dev/alibaba-2018-cluster-cpu.csv'));
    expect(points.length).toBe(2242);
    expect(points[0][0]).toBe(Date.parse('2018-01-01T00:00:00Z'));
  });
});

describe('resample', () => {
  it('averages each bucket, leaves NaN in empty buckets and reports the gaps', () => {
    const { series, gaps } = resample(
      [
        [T0, 1],
        [T0 + 60_000, 3],
        [T0 + STEP, 5],
        [T0 + 4 * STEP + 1, 9],
        [T0 + 6 * STEP, 2],
      ],
      STEP,
    );
    expect(series).toEqual({ start: T0, stepMs: STEP, values: [2, 5, NaN, NaN, 9, NaN, 2] });
    expect(gaps).toEqual({ missingSteps: 3, gapCount: 2, longestGapSteps: 2, longestGapMs: 2 * STEP });
  });

  it('can start the grid at a given time', () => {
    const { series } = resample([[T0 + STEP, 4]], STEP, T0);
    expect(series.values).toEqual([NaN, 4]);
  });

  it('rejects an empty trace and a bad step', () => {
    expect(() => resample([], STEP)).toThrow(RangeError);
    expect(() => resample([[T0, 1]], 0)).toThrow(RangeError);
  });

  it('finds the known outage in the alibaba trace', async () => {
    const points = await loadTrace(join(process.cwd(), '../shared/data/traces/dev/alibaba-2018-cluster-cpu.csv'));
    const { gaps } = resample(points, STEP);
    // The README: day 2 misses about 5 hours at its start.
    expect(gaps.longestGapMs).toBeGreaterThan(4 * 3_600_000);
    expect(gaps.longestGapMs).toBeLessThan(6 * 3_600_000);
  });
});

describe('gapReport', () => {
  it('counts runs of missing values', () => {
    expect(gapReport([NaN, 1, NaN, NaN, NaN, 2, NaN], 10)).toEqual({ missingSteps: 5, gapCount: 3, longestGapSteps: 3, longestGapMs: 30 });
  });
});
