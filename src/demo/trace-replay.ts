// Replays a demand trace as the live demand of the demo's workloads: the trace's time is shifted (and
// optionally compressed) so that a strong ramp arrives a few minutes after the demo starts, with days
// of the trace before it as history. Prometheus sees the demand as a counter, so besides the level
// this gives its exact integral. Pure: no I/O but `loadReplayTrace()`, no clock.
import { MAX_RESAMPLED_STEPS, TraceFormatError, loadTrace, type TracePoint } from '../traces/csv.js';

/** Every failure a user can cause: the message says what to fix, naming the file when known. */
export class DemoTraceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DemoTraceError';
  }
}

export interface ReplayOptions {
  /** Wall-clock instant the demo starts (ms). */
  nowMs: number;
  /** Wall time from nowMs until the ramp begins (ms), > 0. */
  rampInMs: number;
  /** Trace time that must precede the ramp point as history (ms of TRACE time, e.g. 14 days). */
  historyTraceMs: number;
  /** Trace ms per wall ms; 1 = real time. Must be finite, 1 <= speed <= 20. */
  speed: number;
}

/** A ramp of the trace; levels are normalised (the trace's 99th percentile is 1). */
export interface Ramp {
  traceMs: number;
  fromLevel: number;
  toLevel: number;
}

export interface TraceReplay {
  speed: number;
  ramp: Ramp;
  /** Wall instant at which the ramp begins (= nowMs + rampInMs). */
  rampWallMs: number;
  /** Wall instants covered: history starts at historyStartWallMs; the trace ends at endWallMs (after it, the level holds its last value). */
  historyStartWallMs: number;
  endWallMs: number;
  /** Trace time shown at a wall instant (linear: rampTraceMs + (wall - rampWallMs) * speed). */
  traceTimeAt(wallMs: number): number;
  /** Demand level at a wall instant, normalised so the trace's 99th percentile is 1; linear between trace points. */
  level(wallMs: number): number;
  /** ∫ level(t) dt over wall seconds from historyStartWallMs to wallMs (0 before the start). Monotone non-decreasing. */
  cumulative(wallMs: number): number;
}

export const MIN_SPEED = 1;
export const MAX_SPEED = 20;
/** The most backfill samples `counterSamples()` makes at once. */
export const MAX_COUNTER_SAMPLES = 2_000_000;
/** The most trace points a replay holds: the same bound as a resampled trace. */
export const MAX_REPLAY_POINTS = MAX_RESAMPLED_STEPS;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How far a ramp must rise within RAMP_WINDOW_MS, as a fraction of the typical daily range. */
const RAMP_RISE_FRACTION = 0.25;
const RAMP_WINDOW_MS = HOUR_MS;
/** Trace time the replay must still have after the ramp point. */
const AFTER_RAMP_MS = DAY_MS;

/** A validated trace: distinct sorted times, normalised levels, and the integral up to each point. */
interface PreparedTrace {
  times: Float64Array;
  levels: Float64Array;
  /** prefix[i] = ∫ level over trace ms from times[0] to times[i]. */
  prefix: Float64Array;
  /** The 5th and 95th percentiles of the levels. */
  p5: number;
  p95: number;
}

/** Loads a trace CSV, turning every failure into a DemoTraceError that names the file. */
export async function loadReplayTrace(path: string): Promise<TracePoint[]> {
  try {
    return await loadTrace(path);
  } catch (err) {
    if (err instanceof TraceFormatError) throw new DemoTraceError(`${path}, ${err.message}; a trace is a CSV "timestamp,value"`);
    const code = (err as { code?: unknown }).code;
    if (code === 'ENOENT') throw new DemoTraceError(`${path}: no such file; --trace needs a CSV "timestamp,value"`);
    throw new DemoTraceError(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * The first strong ramp at or after `fromTraceMs`. The rule: the first trace point P where
 * - the level one hour of trace time later is higher than at P by at least 25% of the typical
 *   daily range, taken as p95 - p5 of the normalised levels over the whole trace, and
 * - the level at P is in the lower half of that range (at most p5 + (p95 - p5) / 2),
 * i.e. the start of a rise from a trough, not a wiggle near the peak. Returns undefined when none
 * (and for a flat trace). On the bundled trace, 25% finds the weekday morning ramps (about 05:30
 * UTC) and skips the weekends; 40% would find none before September.
 */
export function findRamp(points: readonly TracePoint[], fromTraceMs: number, source?: string): Ramp | undefined {
  const trace = prepareTrace(points, traceLabel(source));
  return findRampIn(trace, fromTraceMs, trace.times[trace.times.length - 1] - RAMP_WINDOW_MS);
}

function findRampIn(trace: PreparedTrace, fromTraceMs: number, lastCandidateMs: number): Ramp | undefined {
  const range = trace.p95 - trace.p5;
  if (!(range > 0)) return undefined;
  const { times, levels } = trace;
  for (let i = firstIndexAtOrAfter(times, fromTraceMs); i < times.length && times[i] <= lastCandidateMs; i++) {
    const fromLevel = levels[i];
    const toLevel = levelAtTrace(trace, times[i] + RAMP_WINDOW_MS);
    if (toLevel - fromLevel >= RAMP_RISE_FRACTION * range && fromLevel <= trace.p5 + range / 2) {
      return { traceMs: times[i], fromLevel, toLevel };
    }
  }
  return undefined;
}

/** Validates the options, finds the ramp after the history, and builds the replay. */
export function planReplay(points: readonly TracePoint[], options: ReplayOptions, source?: string): TraceReplay {
  const { nowMs, rampInMs, historyTraceMs, speed } = options;
  if (!(Number.isFinite(speed) && speed >= MIN_SPEED && speed <= MAX_SPEED)) {
    throw new DemoTraceError(`the speed must be a number from ${MIN_SPEED} to ${MAX_SPEED} (trace time per wall time), got ${speed}`);
  }
  if (!Number.isFinite(nowMs)) throw new DemoTraceError(`the start time must be a finite number of ms, got ${nowMs}`);
  if (!(Number.isFinite(rampInMs) && rampInMs > 0)) throw new DemoTraceError(`the time until the ramp must be more than 0 ms, got ${rampInMs}`);
  if (!(Number.isFinite(historyTraceMs) && historyTraceMs >= 0)) {
    throw new DemoTraceError(`the history must be 0 ms or more of trace time, got ${historyTraceMs}`);
  }
  const label = traceLabel(source);
  const trace = prepareTrace(points, label);
  const first = trace.times[0];
  const last = trace.times[trace.times.length - 1];

  // At nowMs the replay shows the trace rampInMs * speed before the ramp; the history ends there.
  const beforeRampMs = historyTraceMs + rampInMs * speed;
  const neededMs = beforeRampMs + AFTER_RAMP_MS;
  if (last - first < neededMs) {
    throw new DemoTraceError(
      `${label} spans ${duration(last - first, Math.floor)}; the demo needs at least ${duration(neededMs, Math.ceil)}: ` +
        `${duration(historyTraceMs)} of history, ${duration(rampInMs * speed)} until the ramp and 1 day after it`,
    );
  }
  const ramp = findRampIn(trace, first + beforeRampMs, last - AFTER_RAMP_MS);
  if (ramp === undefined) {
    throw new DemoTraceError(
      `no ramp (a rise by ${RAMP_RISE_FRACTION * 100}% of the daily range within an hour, from the lower half of it) ` +
        `found after the first ${duration(beforeRampMs)} of ${label} and at least a day before its end; the demo needs a trace ` +
        `with a daily rise, e.g. the morning ramp of business-hours traffic in demo/traces/nyc-taxi.csv`,
    );
  }

  const rampWallMs = nowMs + rampInMs;
  const historyStartWallMs = nowMs - historyTraceMs / speed;
  const endWallMs = rampWallMs + (last - ramp.traceMs) / speed;
  const traceTimeAt = (wallMs: number): number => ramp.traceMs + (wallMs - rampWallMs) * speed;
  // The base goes through the same arithmetic as every later call, so cumulative(start) is exactly 0.
  const integralAtHistoryStart = integralToTrace(trace, traceTimeAt(historyStartWallMs));
  return {
    speed,
    ramp,
    rampWallMs,
    historyStartWallMs,
    endWallMs,
    traceTimeAt,
    level: (wallMs) => levelAtTrace(trace, traceTimeAt(wallMs)),
    cumulative: (wallMs) => {
      if (!(wallMs > historyStartWallMs)) return 0;
      // Trace ms at `speed` trace ms per wall ms: the wall-second integral is the trace one / speed.
      const traceIntegral = Math.max(0, integralToTrace(trace, traceTimeAt(wallMs)) - integralAtHistoryStart);
      return traceIntegral / speed / 1000;
    },
  };
}

/**
 * Backfill samples of the counter `scale * cumulative` at every multiple of stepMs within
 * [fromMs, toMs]. Throws DemoTraceError beyond MAX_COUNTER_SAMPLES samples.
 */
export function counterSamples(replay: TraceReplay, scale: number, fromMs: number, toMs: number, stepMs: number): [number, number][] {
  if (!(Number.isFinite(scale) && scale >= 0)) throw new RangeError(`scale must be a finite number >= 0, got ${scale}`);
  if (!(Number.isFinite(stepMs) && stepMs > 0)) throw new RangeError(`stepMs must be a positive number, got ${stepMs}`);
  if (!(Number.isFinite(fromMs) && Number.isFinite(toMs))) throw new RangeError(`the range must be finite, got ${fromMs}..${toMs}`);
  const firstStep = Math.ceil(fromMs / stepMs);
  const lastStep = Math.floor(toMs / stepMs);
  const count = Math.max(0, lastStep - firstStep + 1);
  if (count > MAX_COUNTER_SAMPLES) {
    throw new DemoTraceError(
      `backfilling ${duration(toMs - fromMs)} every ${stepMs / 1000} s takes ${count} samples, more than ${MAX_COUNTER_SAMPLES}; ` +
        `use a shorter history, a higher speed or a longer step`,
    );
  }
  const samples: [number, number][] = new Array(count);
  for (let i = 0; i < count; i++) {
    const ms = (firstStep + i) * stepMs;
    samples[i] = [ms, scale * replay.cumulative(ms)];
  }
  return samples;
}

function prepareTrace(points: readonly TracePoint[], label: string): PreparedTrace {
  if (points.length > MAX_REPLAY_POINTS) {
    throw new DemoTraceError(`${label} has ${points.length} points, more than ${MAX_REPLAY_POINTS}; resample it to a longer step`);
  }
  let sorted = true;
  for (let i = 0; i < points.length; i++) {
    const [timestamp, value] = points[i];
    if (!Number.isFinite(timestamp)) throw new DemoTraceError(`${label}: point ${i + 1} has no valid timestamp (${timestamp})`);
    if (!(Number.isFinite(value) && value >= 0)) {
      throw new DemoTraceError(`${label}: the value at ${isoTime(timestamp)} is ${value}; demand values must be finite and not negative`);
    }
    if (i > 0 && timestamp < points[i - 1][0]) sorted = false;
  }
  const ordered = sorted ? points : [...points].sort((a, b) => a[0] - b[0]);

  // Points at the same time become one, at their mean (as `resample()` does).
  const times = new Float64Array(ordered.length);
  const values = new Float64Array(ordered.length);
  let n = 0;
  for (let i = 0; i < ordered.length; ) {
    const timestamp = ordered[i][0];
    let sum = 0;
    let j = i;
    for (; j < ordered.length && ordered[j][0] === timestamp; j++) sum += ordered[j][1];
    times[n] = timestamp;
    values[n] = sum / (j - i);
    n++;
    i = j;
  }
  if (n < 2) throw new DemoTraceError(`${label} has ${n === 0 ? 'no points' : 'a single point in time'}; the demo needs at least 2 points`);

  const sortedValues = values.slice(0, n).sort();
  const p99 = percentile(sortedValues, 0.99);
  if (!(p99 > 0 && Number.isFinite(p99))) throw new DemoTraceError(`${label}: the trace is all zeros, or nearly (its 99th percentile is ${p99}); the demo needs a varying demand`);

  const trace: PreparedTrace = {
    times: times.slice(0, n),
    levels: values.slice(0, n).map((v) => v / p99),
    prefix: new Float64Array(n),
    p5: percentile(sortedValues, 0.05) / p99,
    p95: percentile(sortedValues, 0.95) / p99,
  };
  for (let i = 0; i + 1 < n; i++) trace.prefix[i + 1] = trace.prefix[i] + segmentIntegral(trace, i);
  return trace;
}

/** Linear interpolation between the closest ranks (the usual "type 7" definition). */
function percentile(sortedValues: Float64Array, q: number): number {
  const rank = (sortedValues.length - 1) * q;
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sortedValues.length - 1);
  return sortedValues[below] + (sortedValues[above] - sortedValues[below]) * (rank - below);
}

/** The segment [times[i], times[i+1]] holding traceMs, for traceMs within the trace. */
function segmentAt(times: Float64Array, traceMs: number): number {
  let low = 0;
  let high = times.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (times[mid] <= traceMs) low = mid;
    else high = mid - 1;
  }
  return low;
}

function firstIndexAtOrAfter(times: Float64Array, traceMs: number): number {
  let low = 0;
  let high = times.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (times[mid] < traceMs) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The level at a trace time; before the first point and after the last, it holds the nearest one. */
function levelAtTrace(trace: PreparedTrace, traceMs: number): number {
  const { times, levels } = trace;
  const n = times.length;
  if (!(traceMs > times[0])) return levels[0];
  if (traceMs >= times[n - 1]) return levels[n - 1];
  const i = segmentAt(times, traceMs);
  return levels[i] + (levels[i + 1] - levels[i]) * ((traceMs - times[i]) / (times[i + 1] - times[i]));
}

function segmentIntegral(trace: PreparedTrace, i: number): number {
  return ((trace.times[i + 1] - trace.times[i]) * (trace.levels[i] + trace.levels[i + 1])) / 2;
}

/**
 * ∫ level from times[0] to traceMs (negative before times[0]), exact for the piecewise-linear level.
 * Written so that it is monotone even in floating point, because Prometheus reads any decrease of
 * a counter as a reset: each step below is an operation that rounding keeps monotone (sums and
 * products of non-negative terms), a falling segment is integrated from its end, and the part of a
 * segment is clamped to [0, whole segment], so no value passes prefix[i + 1].
 */
function integralToTrace(trace: PreparedTrace, traceMs: number): number {
  const { times, levels, prefix } = trace;
  const n = times.length;
  if (traceMs <= times[0]) return -((times[0] - traceMs) * levels[0]);
  if (traceMs >= times[n - 1]) return prefix[n - 1] + (traceMs - times[n - 1]) * levels[n - 1];
  const i = segmentAt(times, traceMs);
  const start = levels[i];
  const end = levels[i + 1];
  const length = times[i + 1] - times[i];
  const whole = segmentIntegral(trace, i);
  let part: number;
  if (end >= start) {
    const elapsed = traceMs - times[i];
    part = (elapsed * (start + (start + (end - start) * (elapsed / length)))) / 2;
  } else {
    const remaining = times[i + 1] - traceMs;
    part = whole - (remaining * (end + (end + (start - end) * (remaining / length)))) / 2;
  }
  return prefix[i] + Math.min(Math.max(part, 0), whole);
}

function traceLabel(source: string | undefined): string {
  return source === undefined ? 'the trace' : source;
}

/** "14 days", "1.5 hours", "3 minutes": one decimal at most, rounded by `round`. */
function duration(ms: number, round: (x: number) => number = Math.round): string {
  const [unit, unitMs]: [string, number] = ms >= DAY_MS ? ['day', DAY_MS] : ms >= HOUR_MS ? ['hour', HOUR_MS] : ['minute', 60_000];
  const count = round((ms / unitMs) * 10) / 10;
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

function isoTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}
