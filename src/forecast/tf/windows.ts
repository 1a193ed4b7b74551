// Turns a scaled series into supervised examples for a direct multi-step sequence model.
//
// An example has its origin t at the last input step. Its inputs are the W steps ending at t, each
// with the scaled value, its change since one season earlier, and the time of day and day of week
// as sin/cos pairs; plus, for every output step h = 1..H, a baseline: the value one season before
// t + h (averaged over a few neighbours, shifted by the window's change since the last season)
// when a season is used, else the value at t. The model learns the correction to the
// baseline (target = value at t + h minus baseline), so a series that repeats its season exactly
// needs no correction at all.
import { DAY_MS, WEEK_MS } from '../season.js';

export const FEATURES_PER_STEP = 6;

export interface WindowShape {
  /** Input steps per example (W). */
  windowSteps: number;
  /** Output steps per example (H). */
  horizonSteps: number;
  /** Season length in steps, longer than the horizon; 0 when no season is used. */
  seasonSteps: number;
}

export interface Timeline {
  start: number;
  stepMs: number;
}

/** The earliest origin with a full window (and its season-earlier values). */
export function firstOrigin(shape: WindowShape): number {
  return shape.windowSteps - 1 + shape.seasonSteps;
}

/**
 * Half-width of the average taken one season back: averaging 2k + 1 neighbours divides the noise
 * the baseline carries over from the last season by about 2k + 1, at the cost of a slight blur of
 * sharp peaks (which the model can correct).
 */
export const SEASONAL_SMOOTHING_STEPS = 2;

/**
 * The baseline of output step h (1-based) for an origin: what the model corrects. With a season,
 * the value one season earlier (averaged over a few neighbours) shifted by how far the last window
 * sits above the same window one season earlier, so a change of level carries over at once.
 */
export function baseline(z: ArrayLike<number>, t: number, h: number, shape: WindowShape): number {
  if (shape.seasonSteps === 0) return z[t];
  const center = t + h - shape.seasonSteps;
  // Only neighbours known at the origin, so training and forecasting see the same baseline.
  const from = Math.max(0, center - SEASONAL_SMOOTHING_STEPS);
  const to = Math.min(t, center + SEASONAL_SMOOTHING_STEPS);
  let sum = 0;
  for (let i = from; i <= to; i++) sum += z[i];
  return sum / (to - from + 1) + levelShift(z, t, shape);
}

function levelShift(z: ArrayLike<number>, t: number, shape: WindowShape): number {
  let shift = 0;
  for (let i = t - shape.windowSteps + 1; i <= t; i++) shift += z[i] - z[i - shape.seasonSteps];
  return shift / shape.windowSteps;
}

/** Writes the inputs of the example at origin t into `sequence` (W * F) and `offsets` (H). */
export function writeInputs(
  z: ArrayLike<number>,
  t: number,
  shape: WindowShape,
  timeline: Timeline,
  sequence: Float32Array,
  sequenceAt: number,
  offsets: Float32Array,
  offsetsAt: number,
): void {
  const { windowSteps, horizonSteps, seasonSteps } = shape;
  for (let k = 0; k < windowSteps; k++) {
    const i = t - windowSteps + 1 + k;
    const at = sequenceAt + k * FEATURES_PER_STEP;
    const timestamp = timeline.start + i * timeline.stepMs;
    const dayPhase = (2 * Math.PI * positiveModulo(timestamp, DAY_MS)) / DAY_MS;
    const weekPhase = (2 * Math.PI * positiveModulo(timestamp, WEEK_MS)) / WEEK_MS;
    sequence[at] = z[i];
    sequence[at + 1] = seasonSteps > 0 ? z[i] - z[i - seasonSteps] : 0;
    sequence[at + 2] = Math.sin(dayPhase);
    sequence[at + 3] = Math.cos(dayPhase);
    sequence[at + 4] = Math.sin(weekPhase);
    sequence[at + 5] = Math.cos(weekPhase);
  }
  // The baselines enter relative to the last value, so the inputs stay centred whatever the level.
  for (let h = 1; h <= horizonSteps; h++) offsets[offsetsAt + h - 1] = baseline(z, t, h, shape) - z[t];
}

export interface ExampleBatch {
  count: number;
  sequence: Float32Array; // count * W * F
  offsets: Float32Array; // count * H
  targets: Float32Array; // count * H: value minus baseline
}

/** The examples at the given origins; every origin must leave H observed steps after it. */
export function buildExamples(z: ArrayLike<number>, origins: readonly number[], shape: WindowShape, timeline: Timeline): ExampleBatch {
  const { windowSteps, horizonSteps } = shape;
  const count = origins.length;
  const sequence = new Float32Array(count * windowSteps * FEATURES_PER_STEP);
  const offsets = new Float32Array(count * horizonSteps);
  const targets = new Float32Array(count * horizonSteps);
  origins.forEach((t, e) => {
    writeInputs(z, t, shape, timeline, sequence, e * windowSteps * FEATURES_PER_STEP, offsets, e * horizonSteps);
    for (let h = 1; h <= horizonSteps; h++) targets[e * horizonSteps + h - 1] = z[t + h] - baseline(z, t, h, shape);
  });
  return { count, sequence, offsets, targets };
}

function positiveModulo(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}
