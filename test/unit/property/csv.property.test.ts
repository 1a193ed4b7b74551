// Properties of the trace CSV reader and the resampler: trace files come from wherever a user
// downloaded them, so any text must give sorted, finite points on real dates, or an error naming the line.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_RESAMPLED_STEPS, TraceFormatError, parseTimestamp, parseTraceCsv, resample, type TracePoint } from '../../../src/traces/csv.js';
import { RUNS, expectLinearCost, hostileString, thrownBy } from './hostile.js';

/** The range of a JavaScript Date, in ms either side of the epoch. */
const DATE_LIMIT_MS = 8.64e15;
const HEADER = 'timestamp,value';

const point: fc.Arbitrary<TracePoint> = fc.tuple(
  // Whole milliseconds between 1970 and 2100, as trace files hold them.
  fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) }),
  // -0 is written as "0" and reads back as 0.
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => (v === 0 ? 0 : v)),
);

type TimeFormat = 'iso' | 'unixSeconds';

function renderTime(ms: number, format: TimeFormat): string {
  return format === 'iso' ? new Date(ms).toISOString() : String(ms / 1000);
}

const traceCase = fc.record({
  points: fc.uniqueArray(point, { maxLength: 30, selector: (p) => p[0] }),
  formats: fc.array(fc.constantFrom<TimeFormat>('iso', 'unixSeconds'), { minLength: 30, maxLength: 30 }),
  newline: fc.constantFrom('\n', '\r\n'),
  blankEvery: fc.integer({ min: 2, max: 10 }),
});

describe('parseTraceCsv', () => {
  it('reads back any written trace, in time order, whatever the line order, time format and line endings', () => {
    fc.assert(
      fc.property(traceCase, fc.boolean(), ({ points, formats, newline, blankEvery }, bom) => {
        const lines = points.map(([t, v], i) => `${renderTime(t, formats[i]!)},${v}`);
        const withBlanks = lines.flatMap((line, i) => (i % blankEvery === 0 ? [line, '  '] : [line]));
        const text = `${bom ? '\uFEFF' : ''}${HEADER}${newline}${withBlanks.join(newline)}`;
        const expected = [...points].sort((a, b) => a[0] - b[0]);
        expect(parseTraceCsv(text)).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('turns any text after the header into sorted points with finite values on real dates, or a TraceFormatError naming a line', () => {
    const line = fc.oneof(
      hostileString('0123456789-:TZ.,e+ ', 30),
      fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), hostileString('0123456789.e-', 12)).map(([t, v]) => `${t},${v}`),
      fc.tuple(fc.constantFrom('9'.repeat(20), '9'.repeat(300), '2026-01-01T00:00:00Z', '+275760-09-13T00:00:00Z', '1e3'), fc.constantFrom('1', '1e400', '-0', '')).map(
        ([t, v]) => `${t},${v}`,
      ),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (lines) => {
        const text = [HEADER, ...lines].join('\n');
        const err = thrownBy(() => parseTraceCsv(text));
        if (err !== undefined) {
          expect(err).toBeInstanceOf(TraceFormatError);
          const { line: at } = err as TraceFormatError;
          expect(at).toBeGreaterThanOrEqual(2);
          expect(at).toBeLessThanOrEqual(text.split(/\r?\n/).length);
          expect((err as Error).message).toMatch(new RegExp(`^line ${at}: `));
          return;
        }
        const points = parseTraceCsv(text);
        for (const [t, v] of points) {
          expect(Number.isFinite(v)).toBe(true);
          expect(Number.isInteger(t), `timestamp ${t} is not whole milliseconds`).toBe(true);
          expect(Math.abs(t)).toBeLessThanOrEqual(DATE_LIMIT_MS);
        }
        for (let i = 1; i < points.length; i++) expect(points[i]![0]).toBeGreaterThanOrEqual(points[i - 1]![0]);
      }),
      { ...RUNS, numRuns: 800 },
    );
  });

  it('refuses any text without the header on line 1', () => {
    fc.assert(
      fc.property(hostileString('timestampvalue, \n'), (text) => {
        const header = text.split(/\r?\n/)[0]!.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/\s+/g, '');
        fc.pre(header !== HEADER);
        const err = thrownBy(() => parseTraceCsv(text));
        expect(err).toBeInstanceOf(TraceFormatError);
        expect((err as TraceFormatError).line).toBe(1);
      }),
      RUNS,
    );
  });

  it('costs linear time on 100 KB adversarial inputs', () => {
    const csv = (body: string) => `${HEADER}\n${body}`;
    expectLinearCost('a long Unix-seconds timestamp that is not one', (n) => csv(`${'1'.repeat(n)}x,1`), parseTraceCsv);
    expectLinearCost('a long fraction', (n) => csv(`1.${'1'.repeat(n)}.,1`), parseTraceCsv);
    expectLinearCost('a long ISO-looking timestamp', (n) => csv(`2026-01-01T${'0'.repeat(n)},1`), parseTraceCsv);
    expectLinearCost('carriage returns', (n) => csv('\r'.repeat(n)), parseTraceCsv);
    expectLinearCost('whitespace in the header', (n) => `timestamp${' \t'.repeat(n / 2)},value`, parseTraceCsv);
    expectLinearCost('many lines', (n) => csv(Array.from({ length: n / 16 }, (_, i) => `${1_700_000_000 + i},${i}`).join('\n')), parseTraceCsv);
  });
});

describe('parseTimestamp', () => {
  it('gives whole milliseconds within the Date range, or NaN', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileString('0123456789.-+:TZ ', 30),
          fc.double({ noNaN: true }).map(String),
          fc.integer({ min: 300, max: 400 }).map((digits) => '9'.repeat(digits)),
        ),
        (text) => {
          const ms = parseTimestamp(text);
          if (Number.isNaN(ms)) return;
          expect(Number.isInteger(ms), `"${text}" gave ${ms}`).toBe(true);
          expect(Math.abs(ms)).toBeLessThanOrEqual(DATE_LIMIT_MS);
        },
      ),
      RUNS,
    );
  });
});

describe('resample', () => {
  const value = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 });
  const pointsWithin = (spanMs: number) => fc.array(fc.tuple(fc.integer({ min: 0, max: spanMs }), value), { minLength: 1, maxLength: 40 });
  const points = pointsWithin(2_000_000);
  /** A step and points spanning at most 300 of its buckets, so the reference check below stays cheap. */
  const gridCase = fc.integer({ min: 1, max: 3_600_000 }).chain((step) => fc.tuple(pointsWithin(step * 300), fc.constant(step)));

  it('puts every point in the bucket of its time and averages each bucket', () => {
    fc.assert(
      fc.property(gridCase, ([pts, step]) => {
        const { series, gaps } = resample(pts, step);
        const first = Math.min(...pts.map((p) => p[0]));
        const last = Math.max(...pts.map((p) => p[0]));
        expect(series.start).toBe(first);
        expect(series.values.length).toBe(Math.floor((last - first) / step) + 1);
        const buckets = new Map<number, number[]>();
        for (const [t, v] of pts) buckets.set(Math.floor((t - first) / step), [...(buckets.get(Math.floor((t - first) / step)) ?? []), v]);
        series.values.forEach((value, i) => {
          const held = buckets.get(i);
          if (held === undefined) expect(value).toBeNaN();
          else expect(value).toBeCloseTo(held.reduce((a, b) => a + b, 0) / held.length, 6);
        });
        expect(gaps.missingSteps).toBe(series.values.length - buckets.size);
      }),
      RUNS,
    );
  });

  it(`refuses a grid of more than ${MAX_RESAMPLED_STEPS} steps with a RangeError instead of allocating it`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 1, max: 1000 }), (step, factor) => {
        const span = step * (MAX_RESAMPLED_STEPS + factor);
        const err = thrownBy(() => resample([[0, 1], [span, 2]], step));
        expect(err).toBeInstanceOf(RangeError);
        expect((err as Error).message).toMatch(/step/);
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  it('refuses a start after the last point, or a step or start that is not a finite number', () => {
    fc.assert(
      fc.property(points, fc.oneof(fc.constantFrom(0, -1, NaN, Infinity), fc.double({ max: 0 })), (pts, badStep) => {
        expect(() => resample(pts, badStep)).toThrow(RangeError);
        const last = Math.max(...pts.map((p) => p[0]));
        expect(() => resample(pts, 1000, last + 1)).toThrow(RangeError);
        expect(() => resample(pts, 1000, NaN)).toThrow(RangeError);
      }),
      { ...RUNS, numRuns: 100 },
    );
  });
});
