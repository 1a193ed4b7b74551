// The global model's input: one window of a series on the 5-minute grid, in a normalised space that
// is the same for every metric (CPU %, requests, bytes). Training (hack/train-global-model.mjs) and
// inference build it with this one function, so the two cannot drift apart.
//
// Layout (FEATURE_COUNT values):
//   context   CONTEXT_SLOTS values: the last 6 h, oldest first, as value / scale - baseline
//   baseline  1 value: the level now (mean of the last 15 min) / scale
//   observed  CONTEXT_BLOCKS values: the share of observed slots in each hour of the context
//   day lag   LAG_SLOTS values + 1 mask: the same times 1 day earlier (from 55 min before now to the
//             end of the horizon), as value / scale - baseline; zeros and mask 0 when history is short
//   week lag  the same, 7 days earlier
//   calendar  4 values: time of day and day of week (UTC) of the first forecast slot, as sin/cos
// Targets: the next HORIZON_SLOTS slots as value / scale - baseline.
import { GRID_STEP_MS } from './grid.js';

export const CONTEXT_SLOTS = 72;
export const CONTEXT_BLOCKS = 6;
export const HORIZON_SLOTS = 24;
/** Lag windows start this many slots before now, so the model sees how a day ago led into its future. */
export const LAG_LEAD_SLOTS = 11;
export const LAG_SLOTS = LAG_LEAD_SLOTS + 1 + HORIZON_SLOTS;
export const DAY_SLOTS = Math.round((24 * 3_600_000) / GRID_STEP_MS);
export const WEEK_SLOTS = 7 * DAY_SLOTS;
const BASELINE_SLOTS = 3;
const CALENDAR_FEATURES = 4;

export const FEATURE_COUNT = CONTEXT_SLOTS + 1 + CONTEXT_BLOCKS + 2 * (LAG_SLOTS + 1) + CALENDAR_FEATURES;
/** Where the lag masks sit in the features (for describe()). */
export const DAY_LAG_MASK_INDEX = CONTEXT_SLOTS + 1 + CONTEXT_BLOCKS + LAG_SLOTS;
export const WEEK_LAG_MASK_INDEX = DAY_LAG_MASK_INDEX + LAG_SLOTS + 1;
/** Grid slots a forecast reads: the context and the week lag's earliest slot. */
export const FEATURE_SPAN_SLOTS = WEEK_SLOTS + LAG_LEAD_SLOTS + 1;

/** A context needs this many observed slots; fewer is not a level to forecast from. */
export const MIN_CONTEXT_OBSERVED = 3;
/** A lag window with a smaller share of observed slots is treated as missing. */
const MIN_LAG_OBSERVED_SHARE = 0.25;
/** Normalised inputs beyond this are clipped: a burst 50 times the level carries no more information than 10. */
export const FEATURE_CLIP = 10;
/** Normalised targets are clipped here in training (the pinball loss is robust, but not to 1e6). */
export const TARGET_CLIP = 20;

const DAY_MS = 24 * 3_600_000;
/** 1970-01-01 was a Thursday: with this offset day 0 of the week is Monday. */
const EPOCH_WEEKDAY = 3;

/** How a window was normalised: forecasts come back as scale * (baseline + output). */
export interface Normaliser {
  scale: number;
  baseline: number;
}

/**
 * Writes the features of the window whose last slot is grid[last] (at time endTime) into `out`,
 * treating slots before `first` as unobserved (a history that starts there). Returns the
 * normaliser, or null when the context holds fewer than MIN_CONTEXT_OBSERVED observed slots.
 */
export function buildFeatures(grid: ArrayLike<number>, first: number, last: number, endTime: number, out: Float64Array): Normaliser | null {
  if (out.length !== FEATURE_COUNT) throw new RangeError(`features need ${FEATURE_COUNT} values, got ${out.length}`);
  const context = new Float64Array(CONTEXT_SLOTS);
  let observed = 0;
  let meanAbs = 0;
  for (let k = 0; k < CONTEXT_SLOTS; k++) {
    const v = slot(grid, first, last - (CONTEXT_SLOTS - 1 - k));
    context[k] = v;
    if (Number.isFinite(v)) {
      observed++;
      meanAbs += (Math.abs(v) - meanAbs) / observed;
    }
  }
  if (observed < MIN_CONTEXT_OBSERVED) return null;
  const scale = meanAbs > 0 && Number.isFinite(meanAbs) ? meanAbs : 1;

  let at = 0;
  const blocks = blockShares(context);
  fillGapsInPlace(context);
  const baseline = recentLevel(grid, first, last, context) / scale;
  for (let k = 0; k < CONTEXT_SLOTS; k++) out[at++] = clip(context[k] / scale - baseline);
  out[at++] = clip(baseline);
  for (const share of blocks) out[at++] = share;
  at = writeLag(grid, first, last - DAY_SLOTS, scale, baseline, out, at);
  at = writeLag(grid, first, last - WEEK_SLOTS, scale, baseline, out, at);
  const next = endTime + GRID_STEP_MS;
  const dayPhase = (2 * Math.PI * mod(next, DAY_MS)) / DAY_MS;
  const weekPhase = (2 * Math.PI * mod(next / DAY_MS + EPOCH_WEEKDAY, 7)) / 7;
  out[at++] = Math.sin(dayPhase);
  out[at++] = Math.cos(dayPhase);
  out[at++] = Math.sin(weekPhase);
  out[at++] = Math.cos(weekPhase);
  return { scale, baseline };
}

/**
 * The normalised targets of the window ending at grid[last]: false (and `out` partly written) when
 * a target slot is missing, so training and fine-tuning use only fully observed horizons.
 */
export function buildTargets(grid: ArrayLike<number>, last: number, norm: Normaliser, out: Float64Array): boolean {
  for (let h = 0; h < HORIZON_SLOTS; h++) {
    const v = last + 1 + h < grid.length ? grid[last + 1 + h] : NaN;
    if (!Number.isFinite(v)) return false;
    out[h] = Math.max(-TARGET_CLIP, Math.min(TARGET_CLIP, v / norm.scale - norm.baseline));
  }
  return true;
}

function slot(grid: ArrayLike<number>, first: number, index: number): number {
  return index >= first && index >= 0 && index < grid.length ? grid[index] : NaN;
}

function blockShares(context: Float64Array): number[] {
  const size = CONTEXT_SLOTS / CONTEXT_BLOCKS;
  return Array.from({ length: CONTEXT_BLOCKS }, (_, b) => {
    let count = 0;
    for (let k = b * size; k < (b + 1) * size; k++) if (Number.isFinite(context[k])) count++;
    return count / size;
  });
}

/** Mean of the observed slots of the last 15 min; the newest filled context value when there are none. */
function recentLevel(grid: ArrayLike<number>, first: number, last: number, filled: Float64Array): number {
  let count = 0;
  let mean = 0;
  for (let k = 0; k < BASELINE_SLOTS; k++) {
    const v = slot(grid, first, last - k);
    if (Number.isFinite(v)) mean += (v - mean) / ++count;
  }
  return count > 0 ? mean : filled[CONTEXT_SLOTS - 1];
}

/** The lag window whose "now" slot is grid[lagNow], then its mask (the observed share, 0 when missing). */
function writeLag(grid: ArrayLike<number>, first: number, lagNow: number, scale: number, baseline: number, out: Float64Array, at: number): number {
  const lag = new Float64Array(LAG_SLOTS);
  let observed = 0;
  for (let j = 0; j < LAG_SLOTS; j++) {
    lag[j] = slot(grid, first, lagNow - LAG_LEAD_SLOTS + j);
    if (Number.isFinite(lag[j])) observed++;
  }
  const share = observed / LAG_SLOTS;
  if (share < MIN_LAG_OBSERVED_SHARE) {
    out.fill(0, at, at + LAG_SLOTS + 1);
    return at + LAG_SLOTS + 1;
  }
  fillGapsInPlace(lag);
  for (let j = 0; j < LAG_SLOTS; j++) out[at++] = clip(lag[j] / scale - baseline);
  out[at++] = share;
  return at;
}

/** Linear interpolation inside, the nearest observed value at either end. Needs one observed value. */
export function fillGapsInPlace(values: Float64Array): void {
  let previous = -1;
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) continue;
    if (previous < 0) values.fill(values[i], 0, i);
    else if (i - previous > 1) {
      for (let t = previous + 1; t < i; t++) values[t] = values[previous] + ((t - previous) / (i - previous)) * (values[i] - values[previous]);
    }
    previous = i;
  }
  if (previous >= 0) values.fill(values[previous], previous + 1);
}

function clip(v: number): number {
  return v > FEATURE_CLIP ? FEATURE_CLIP : v < -FEATURE_CLIP ? -FEATURE_CLIP : v;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
