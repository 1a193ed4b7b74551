import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DemoTraceError,
  MAX_COUNTER_SAMPLES,
  counterSamples,
  findRamp,
  loadReplayTrace,
  planReplay,
  type ReplayOptions,
  type TraceReplay,
} from '../../../src/demo/trace-replay.js';
import type { TracePoint } from '../../../src/traces/csv.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1);
const NOW = Date.UTC(2026, 5, 1, 12, 0, 0, 0);
const BUNDLED = fileURLToPath(new URL('../../../demo/traces/nyc-taxi.csv', import.meta.url));

const options = (overrides: Partial<ReplayOptions> = {}): ReplayOptions => ({
  nowMs: NOW,
  rampInMs: 3 * MINUTE,
  historyTraceMs: 14 * DAY,
  speed: 1,
  ...overrides,
});

/** Every 30 minutes: 10 at night, a ramp from 06:00 to 07:00 up to 100 until 18:00, back down by 20:00. */
function dailyTrace(days: number, valueAt: (t: number) => number = dailyShape): TracePoint[] {
  const points: TracePoint[] = [];
  for (let t = T0; t < T0 + days * DAY; t += 30 * MINUTE) points.push([t, valueAt(t)]);
  return points;
}

function dailyShape(t: number): number {
  const hour = ((t - T0) % DAY) / HOUR;
  if (hour < 6 || hour >= 20) return 10;
  if (hour < 7) return 10 + 90 * (hour - 6);
  if (hour < 18) return 100;
  return 100 - 45 * (hour - 18);
}

// Independent references: a linear scan, type-7 percentile, trapezoids over the breakpoints.
function referenceP99(points: readonly TracePoint[]): number {
  const sorted = points.map((p) => p[1]).sort((a, b) => a - b);
  const rank = (sorted.length - 1) * 0.99;
  const below = Math.floor(rank);
  return sorted[below] + (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]) * (rank - below);
}

function referenceLevel(points: readonly TracePoint[], p99: number, t: number): number {
  if (t <= points[0][0]) return points[0][1] / p99;
  for (let i = 1; i < points.length; i++) {
    const [t1, v1] = points[i];
    if (t <= t1) {
      const [t0, v0] = points[i - 1];
      return (v0 + ((v1 - v0) * (t - t0)) / (t1 - t0)) / p99;
    }
  }
  return points[points.length - 1][1] / p99;
}

/** ∫ level over trace ms from a to b (a <= b). */
function referenceIntegral(points: readonly TracePoint[], p99: number, a: number, b: number): number {
  const knots = [a, ...points.map((p) => p[0]).filter((t) => t > a && t < b), b];
  let sum = 0;
  for (let i = 1; i < knots.length; i++) {
    sum += ((knots[i] - knots[i - 1]) * (referenceLevel(points, p99, knots[i - 1]) + referenceLevel(points, p99, knots[i]))) / 2;
  }
  return sum;
}

const close = (actual: number, expected: number, relative = 1e-9): boolean =>
  Math.abs(actual - expected) <= relative * Math.max(1, Math.abs(expected));

/**
 * A random piecewise-linear trace (random gaps and values) with a guaranteed ramp after the
 * history: a 0 followed an hour later by more than any other value, and a day after it.
 */
const replayCase = fc
  .record({
    history: fc.array(fc.tuple(fc.integer({ min: 1, max: 240 }), fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 30 }),
    after: fc.array(fc.tuple(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 0, max: 100 })), { minLength: 1, maxLength: 30 }),
    speed: fc.double({ min: 1, max: 20, noNaN: true }),
    rampInMs: fc.integer({ min: 1, max: 10 * MINUTE }),
    historyTraceMs: fc.integer({ min: 0, max: 2 * DAY }),
  })
  .map(({ history, after, speed, rampInMs, historyTraceMs }) => {
    const points: TracePoint[] = [];
    let t = T0;
    for (const [gapMinutes, value] of history) points.push([(t += gapMinutes * MINUTE), value]);
    const peak = Math.max(...history.map((h) => h[1]), ...after.map((a) => a[1])) + 1;
    // + 1: the sum is rounded to 1/4096 ms, and the ramp must come after it.
    const rampAt = Math.max(t + MINUTE, Math.ceil(points[0][0] + historyTraceMs + rampInMs * speed) + 1);
    points.push([rampAt, 0], [rampAt + HOUR, peak]);
    t = rampAt + HOUR;
    for (const [gapMinutes, value] of after) points.push([(t += gapMinutes * MINUTE), value]);
    points.push([Math.max(t + MINUTE, rampAt + DAY), after[0][1]]);
    return { points, options: options({ speed, rampInMs, historyTraceMs }) };
  });

/** Plans the replay, or skips the case when the random values leave no daily range (p5 = p95) or p99 = 0. */
function planOrSkip(points: readonly TracePoint[], replayOptions: ReplayOptions): TraceReplay {
  try {
    return planReplay(points, replayOptions);
  } catch (err) {
    fc.pre(!(err instanceof DemoTraceError && /no ramp|all zeros/.test(err.message)));
    throw err;
  }
}

/** The steepest |slope| of the normalised level per wall ms, and the highest level. */
function bounds(points: readonly TracePoint[], replay: TraceReplay): { slope: number; level: number } {
  const p99 = referenceP99(points);
  let slope = 0;
  for (let i = 1; i < points.length; i++) slope = Math.max(slope, Math.abs(points[i][1] - points[i - 1][1]) / (points[i][0] - points[i - 1][0]));
  return { slope: (slope / p99) * replay.speed, level: Math.max(...points.map((p) => p[1])) / p99 };
}

const wallOf = (replay: TraceReplay, traceMs: number): number => replay.rampWallMs + (traceMs - replay.ramp.traceMs) / replay.speed;

describe('planReplay on random piecewise-linear traces', () => {
  it('cumulative() is the exact integral of the level over wall seconds from the history start', () => {
    fc.assert(
      fc.property(replayCase, fc.array(fc.double({ min: -0.2, max: 1.2, noNaN: true }), { minLength: 1, maxLength: 10 }), ({ points, options }, fractions) => {
        const replay = planOrSkip(points, options);
        const p99 = referenceP99(points);
        const span = replay.endWallMs - replay.historyStartWallMs;
        const tolerance = 1e-9 * Math.max(1, replay.cumulative(replay.endWallMs));
        for (const fraction of fractions) {
          const wall = replay.historyStartWallMs + fraction * span;
          const expected =
            wall <= replay.historyStartWallMs
              ? 0
              : referenceIntegral(points, p99, replay.traceTimeAt(replay.historyStartWallMs), replay.traceTimeAt(wall)) / replay.speed / 1000;
          expect(Math.abs(replay.cumulative(wall) - expected), `cumulative(${wall}) = ${replay.cumulative(wall)}, expected ${expected}`).toBeLessThanOrEqual(tolerance);
          expect(close(replay.level(wall), referenceLevel(points, p99, replay.traceTimeAt(wall)))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('cumulative() never decreases, not even by a rounding error, between any two instants', () => {
    fc.assert(
      fc.property(replayCase, fc.array(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { minLength: 2, maxLength: 40 }), ({ points, options }, fractions) => {
        const replay = planOrSkip(points, options);
        const span = replay.endWallMs - replay.historyStartWallMs;
        const walls = fractions.map((f) => replay.historyStartWallMs + f * span).sort((a, b) => a - b);
        // Also the instants right around every trace point, where one segment hands over to the next.
        const aroundPoints = points.flatMap(([t]) => [-1e-3, -2.5e-4, 0, 2.5e-4, 1e-3].map((d) => wallOf(replay, t) + d));
        for (const sequence of [walls, aroundPoints]) {
          for (let i = 1; i < sequence.length; i++) expect(replay.cumulative(sequence[i])).toBeGreaterThanOrEqual(replay.cumulative(sequence[i - 1]));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('level() and cumulative() are continuous across trace points, and the level at a point is its value / p99', () => {
    fc.assert(
      fc.property(replayCase, ({ points, options }) => {
        const replay = planOrSkip(points, options);
        const p99 = referenceP99(points);
        const { slope, level } = bounds(points, replay);
        const step = 1e-3;
        for (const [t, value] of points) {
          const wall = wallOf(replay, t);
          // The wall instant carries a rounding error of about 1e-3 trace ms, hence the slope term.
          expect(Math.abs(replay.level(wall) - value / p99)).toBeLessThanOrEqual(slope * step + 1e-9 * level);
          for (const side of [-step, step]) {
            expect(Math.abs(replay.level(wall + side) - replay.level(wall))).toBeLessThanOrEqual(2 * slope * step + 1e-9 * level);
            const gap = Math.abs(replay.cumulative(wall + side) - replay.cumulative(wall));
            expect(gap).toBeLessThanOrEqual((2 * level * step) / 1000 + 1e-12 * Math.abs(replay.cumulative(wall)));
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('maps wall to trace time linearly at the speed, with the ramp at nowMs + rampInMs and the history before nowMs', () => {
    fc.assert(
      fc.property(replayCase, fc.double({ min: -1e7, max: 1e7, noNaN: true }), ({ points, options }, offset) => {
        const replay = planOrSkip(points, options);
        expect(replay.speed).toBe(options.speed);
        expect(replay.rampWallMs).toBe(options.nowMs + options.rampInMs);
        expect(close(replay.traceTimeAt(replay.rampWallMs + offset), replay.ramp.traceMs + offset * options.speed, 1e-12)).toBe(true);
        // The history is historyTraceMs of trace time before the trace time shown at nowMs, all within the trace.
        const historyTrace = replay.traceTimeAt(options.nowMs) - replay.traceTimeAt(replay.historyStartWallMs);
        expect(Math.abs(historyTrace - options.historyTraceMs)).toBeLessThan(0.01);
        expect(replay.traceTimeAt(replay.historyStartWallMs)).toBeGreaterThanOrEqual(points[0][0] - 0.01);
        expect(close(replay.traceTimeAt(replay.endWallMs), points[points.length - 1][0], 1e-12)).toBe(true);
        expect(replay.cumulative(replay.historyStartWallMs)).toBe(0);
        expect(replay.cumulative(replay.historyStartWallMs - 1)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('planReplay', () => {
  it('starts the ramp at rampWallMs: the level there is fromLevel and an hour of trace later toLevel', () => {
    for (const speed of [1, 2.5, 20]) {
      const replay = planReplay(dailyTrace(20), options({ speed }));
      expect(replay.ramp.traceMs).toBe(T0 + 14 * DAY + 5.5 * HOUR);
      expect(replay.level(replay.rampWallMs)).toBeCloseTo(replay.ramp.fromLevel, 12);
      expect(replay.level(replay.rampWallMs + HOUR / speed)).toBeCloseTo(replay.ramp.toLevel, 12);
      expect(replay.ramp).toEqual({ traceMs: T0 + 14 * DAY + 5.5 * HOUR, fromLevel: 0.1, toLevel: 0.55 });
    }
  });

  it('speed compresses wall time exactly: levels repeat at 1/speed of the wall offsets, integrals scale by 1/speed', () => {
    const points = dailyTrace(20);
    const real = planReplay(points, options({ speed: 1 }));
    for (const speed of [2, 4, 20]) {
      const fast = planReplay(points, options({ speed }));
      expect(fast.ramp).toEqual(real.ramp);
      expect(fast.endWallMs - fast.rampWallMs).toBeCloseTo((real.endWallMs - real.rampWallMs) / speed, 3);
      expect(NOW - fast.historyStartWallMs).toBeCloseTo(14 * DAY / speed, 6);
      for (const offset of [-3 * DAY, -HOUR, 0, 17 * MINUTE, 2 * HOUR, DAY]) {
        expect(fast.level(fast.rampWallMs + offset / speed)).toBeCloseTo(real.level(real.rampWallMs + offset), 12);
      }
      const realArea = real.cumulative(real.rampWallMs + DAY) - real.cumulative(real.rampWallMs - DAY);
      const fastArea = fast.cumulative(fast.rampWallMs + DAY / speed) - fast.cumulative(fast.rampWallMs - DAY / speed);
      expect(fastArea * speed).toBeCloseTo(realArea, 6);
    }
  });

  it('holds the last level after the trace ends, and keeps counting at it', () => {
    const replay = planReplay(dailyTrace(20), options());
    expect(replay.level(replay.endWallMs + DAY)).toBe(replay.level(replay.endWallMs));
    expect(replay.cumulative(replay.endWallMs + 1000) - replay.cumulative(replay.endWallMs)).toBeCloseTo(replay.level(replay.endWallMs), 9);
  });

  it('sorts the points and merges points at the same time into their mean', () => {
    const points = dailyTrace(20);
    const shuffled = [...points].reverse();
    const doubled = points.flatMap(([t, v]): TracePoint[] => [
      [t, v - 5],
      [t, v + 5],
    ]);
    const reference = planReplay(points, options());
    for (const variant of [shuffled, doubled]) {
      const replay = planReplay(variant, options());
      expect(replay.ramp).toEqual(reference.ramp);
      for (const wall of [reference.historyStartWallMs + 1234, NOW, reference.rampWallMs + 5 * HOUR]) {
        expect(replay.level(wall)).toBeCloseTo(reference.level(wall), 12);
        expect(replay.cumulative(wall)).toBeCloseTo(reference.cumulative(wall), 6);
      }
    }
  });

  it('interpolates across a gap of missing points linearly', () => {
    const points = dailyTrace(20).filter(([t]) => t <= T0 + 3 * DAY + 3 * HOUR || t >= T0 + 3 * DAY + 12.5 * HOUR);
    const replay = planReplay(points, options());
    const before = points.filter(([t]) => t < T0 + 3.5 * DAY).at(-1)!;
    const after = points.find(([t]) => t > T0 + 3.5 * DAY)!;
    expect([before[1], after[1]]).toEqual([10, 100]);
    const middle = (before[0] + after[0]) / 2;
    const p99 = referenceP99(points);
    expect(replay.level(wallOf(replay, middle))).toBeCloseTo((before[1] + after[1]) / 2 / p99, 12);
  });

  it('stays O(log n) per call on a trace of a million points', () => {
    const points = dailyTrace(1_000_000 / 48);
    const started = performance.now();
    const replay = planReplay(points, options({ historyTraceMs: 400 * DAY }));
    let sum = 0;
    for (let i = 0; i < 100_000; i++) sum += replay.cumulative(replay.historyStartWallMs + i * 5000) + replay.level(NOW + i * 5000);
    expect(sum).toBeGreaterThan(0);
    // Linear time per call would take minutes; the bound is loose on purpose.
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});

describe('planReplay refuses bad traces and options, saying what to fix', () => {
  const withValue = (index: number, value: number): TracePoint[] => dailyTrace(20).map(([t, v], i) => [t, i === index ? value : v]);
  // Ramps only in the first 3 days and one in the last 6 hours: none with a day after it past day 14.
  const lateRampOnly = dailyTrace(16, (t) => (t < T0 + 3 * DAY ? dailyShape(t) : t > T0 + 15.75 * DAY ? 100 : 10));
  const cases: [string, readonly TracePoint[], Partial<ReplayOptions>, RegExp][] = [
    ['no points', [], {}, /^x\.csv has no points; the demo needs at least 2 points$/],
    ['one point', [[T0, 1]], {}, /x\.csv has a single point in time/],
    ['two points at one time', [[T0, 1], [T0, 2]], {}, /x\.csv has a single point in time/],
    ['a negative value', withValue(2, -5), {}, /^x\.csv: the value at 2026-01-01T01:00:00\.000Z is -5; demand values must be finite and not negative$/],
    ['a NaN value', withValue(3, NaN), {}, /x\.csv: the value at 2026-01-01T01:30:00\.000Z is NaN/],
    ['an infinite value', withValue(3, Infinity), {}, /is Infinity/],
    ['a non-finite timestamp', [[T0, 1], [NaN, 2], [T0 + DAY, 3]], {}, /x\.csv: point 2 has no valid timestamp/],
    ['all zeros', dailyTrace(20, () => 0), {}, /x\.csv: the trace is all zeros, or nearly \(its 99th percentile is 0\)/],
    ['too short for the history', dailyTrace(3), {}, /^x\.csv spans 2\.9 days; the demo needs at least 15\.1 days: 14 days of history, 3 minutes until the ramp and 1 day after it$/],
    ['too short at speed 20', dailyTrace(15.02), { speed: 20 }, /spans 15 days; the demo needs at least 15\.1 days: 14 days of history, 1 hour until the ramp/],
    ['flat', dailyTrace(20, () => 7), {}, /^no ramp \(a rise by 25% of the daily range within an hour, from the lower half of it\) found after the first 14 days of x\.csv and at least a day before its end; the demo needs a trace with a daily rise, e.g\./],
    ['a ramp only in the last day', lateRampOnly, {}, /no ramp .* found after the first 14 days of x\.csv/],
    ['speed below 1', dailyTrace(20), { speed: 0.5 }, /the speed must be a number from 1 to 20 \(trace time per wall time\), got 0\.5/],
    ['speed above 20', dailyTrace(20), { speed: 21 }, /the speed must be a number from 1 to 20.*got 21/],
    ['speed NaN', dailyTrace(20), { speed: NaN }, /the speed must be .*got NaN/],
    ['speed infinite', dailyTrace(20), { speed: Infinity }, /the speed must be .*got Infinity/],
    ['no time until the ramp', dailyTrace(20), { rampInMs: 0 }, /the time until the ramp must be more than 0 ms, got 0/],
    ['negative history', dailyTrace(20), { historyTraceMs: -1 }, /the history must be 0 ms or more of trace time, got -1/],
    ['no start time', dailyTrace(20), { nowMs: NaN }, /the start time must be a finite number of ms, got NaN/],
  ];
  it.each(cases)('%s', (_name, points, overrides, message) => {
    expect(() => planReplay(points, options(overrides), 'x.csv')).toThrow(DemoTraceError);
    expect(() => planReplay(points, options(overrides), 'x.csv')).toThrow(message);
  });

  it('says "the trace" when no file is named', () => {
    expect(() => planReplay(dailyTrace(3), options())).toThrow(/^the trace spans 2\.9 days/);
  });

  it('the late ramp exists, it only lacks a day after it', () => {
    expect(findRamp(lateRampOnly, T0 + 14 * DAY)?.traceMs).toBe(T0 + 15.75 * DAY - 30 * MINUTE);
  });
});

describe('findRamp', () => {
  it('finds the first point, at or after the start, that rises enough within an hour from the lower half of the range', () => {
    const points = dailyTrace(5);
    expect(findRamp(points, T0)).toEqual({ traceMs: T0 + 5.5 * HOUR, fromLevel: 0.1, toLevel: 0.55 });
    expect(findRamp(points, T0 + 5.5 * HOUR)?.traceMs).toBe(T0 + 5.5 * HOUR);
    expect(findRamp(points, T0 + 5.5 * HOUR + 1)?.traceMs).toBe(T0 + 6 * HOUR);
    // No rise from 07:00 until the next morning.
    expect(findRamp(points, T0 + 6.5 * HOUR + 1)?.traceMs).toBe(T0 + DAY + 5.5 * HOUR);
  });

  it('ignores a rise of less than 25% of the daily range and one from the upper half', () => {
    // A daily range of 10..100 (90): a rise by 20 is not enough, a rise by 30 from 80 is too high up.
    const small = dailyTrace(5, (t) => (((t - T0) % DAY) / HOUR === 3 ? 30 : dailyShape(t) === 100 ? 100 : 10));
    expect(findRamp(small, T0)?.traceMs).toBe(T0 + 6 * HOUR);
    const high = dailyTrace(5, (t) => {
      const hour = ((t - T0) % DAY) / HOUR;
      return hour < 12 ? 10 : hour < 13 ? 80 : hour < 14 ? 100 : 10;
    });
    // p5 = 0.1, p95 = 0.8: 0.8 -> 1 from 12:00 rises enough, but from the upper half; 0.1 -> 0.8 from 11:00 counts.
    expect(findRamp(high, T0 + 12 * HOUR)?.traceMs).toBe(T0 + DAY + 11 * HOUR);
  });

  it('returns undefined for a flat trace and when no ramp follows the start', () => {
    expect(findRamp(dailyTrace(5, () => 3), T0)).toBeUndefined();
    expect(findRamp(dailyTrace(5), T0 + 4 * DAY + 8 * HOUR)).toBeUndefined();
  });
});

describe('the bundled trace', () => {
  it('replays a weekday morning ramp after 14 days of history, more than doubling within the hour', async () => {
    const points = await loadReplayTrace(BUNDLED);
    for (const speed of [1, 5, 20]) {
      const replay = planReplay(points, options({ speed, rampInMs: 3 * MINUTE }), BUNDLED);
      const ramp = new Date(replay.ramp.traceMs);
      expect(ramp.toISOString().slice(0, 10)).toBe('2014-07-15');
      expect([1, 2, 3, 4, 5]).toContain(ramp.getUTCDay());
      expect(ramp.getUTCHours() + ramp.getUTCMinutes() / 60).toBeGreaterThanOrEqual(5);
      expect(ramp.getUTCHours() + ramp.getUTCMinutes() / 60).toBeLessThanOrEqual(6);
      expect(replay.ramp.toLevel / replay.ramp.fromLevel).toBeGreaterThan(2);
      expect(replay.traceTimeAt(replay.historyStartWallMs)).toBeGreaterThanOrEqual(points[0][0]);
      expect(replay.traceTimeAt(NOW) - replay.traceTimeAt(replay.historyStartWallMs)).toBeCloseTo(14 * DAY, 3);
    }
  });
});

describe('counterSamples', () => {
  const replay = planReplay(dailyTrace(20), options({ speed: 3 }));

  it('samples k * cumulative at the multiples of the step within the range, never decreasing', () => {
    const from = replay.historyStartWallMs + 1234;
    const to = replay.rampWallMs + 4321;
    const samples = counterSamples(replay, 7, from, to, 15_000);
    expect(samples.length).toBeGreaterThan(1000);
    expect(samples.length).toBe(Math.floor(to / 15_000) - Math.ceil(from / 15_000) + 1);
    expect(samples[0][0]).toBeGreaterThanOrEqual(from);
    expect(samples[0][0] - 15_000).toBeLessThan(from);
    expect(samples[samples.length - 1][0]).toBeLessThanOrEqual(to);
    expect(samples[samples.length - 1][0] + 15_000).toBeGreaterThan(to);
    for (let i = 0; i < samples.length; i++) {
      const [ms, value] = samples[i];
      expect(ms % 15_000).toBe(0);
      expect(value).toBe(7 * replay.cumulative(ms));
      if (i > 0) {
        expect(ms - samples[i - 1][0]).toBe(15_000);
        expect(value).toBeGreaterThanOrEqual(samples[i - 1][1]);
      }
    }
  });

  it('includes both ends when they are multiples, and is empty for a range without one', () => {
    expect(counterSamples(replay, 1, 30_000, 60_000, 15_000).map((s) => s[0])).toEqual([30_000, 45_000, 60_000]);
    expect(counterSamples(replay, 1, 30_001, 44_999, 15_000)).toEqual([]);
    expect(counterSamples(replay, 1, 60_000, 30_000, 15_000)).toEqual([]);
  });

  it(`refuses more than ${MAX_COUNTER_SAMPLES} samples, and bad arguments`, () => {
    expect(() => counterSamples(replay, 1, 0, MAX_COUNTER_SAMPLES * 1000, 1000)).toThrow(DemoTraceError);
    expect(() => counterSamples(replay, 1, 0, MAX_COUNTER_SAMPLES * 1000, 1000)).toThrow(/2000001 samples, more than 2000000; use a shorter history/);
    expect(() => counterSamples(replay, 1, 0, 1000, 0)).toThrow(RangeError);
    expect(() => counterSamples(replay, -1, 0, 1000, 10)).toThrow(RangeError);
    expect(() => counterSamples(replay, 1, NaN, 1000, 10)).toThrow(RangeError);
  });
});

describe('loadReplayTrace', () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('names the file in every failure', async () => {
    dir = await mkdtemp(join(tmpdir(), 'trace-replay-'));
    const missing = join(dir, 'missing.csv');
    await expect(loadReplayTrace(missing)).rejects.toThrow(new DemoTraceError(`${missing}: no such file; --trace needs a CSV "timestamp,value"`));
    const bad = join(dir, 'bad.csv');
    await writeFile(bad, 'timestamp,value\n2026-01-01T00:00:00Z,abc\n');
    await expect(loadReplayTrace(bad)).rejects.toThrow(`${bad}, line 2: cannot read value "abc"; a trace is a CSV "timestamp,value"`);
    await expect(loadReplayTrace(dir)).rejects.toThrow(DemoTraceError);
  });
});
