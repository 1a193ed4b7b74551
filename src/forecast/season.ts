// Automatic season detection: which of the candidate periods (1 hour, 1 day, 1 week) a series
// really repeats on, judged by the autocorrelation at that lag after removing the local level.
import type { Seasonality } from './types.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
export const CANDIDATE_PERIODS_MS: readonly number[] = [HOUR_MS, DAY_MS, WEEK_MS];

/** Below this autocorrelation a period is not treated as a season. */
export const MIN_SEASONAL_AUTOCORRELATION = 0.3;
/** A longer period must beat a shorter one by this much to be preferred (it is costlier to fit). */
const LONGER_PERIOD_MARGIN = 0.1;
/** Fewer steps than this per period is not worth detecting; an explicit period needs only 2. */
const MIN_DETECTED_PERIOD_STEPS = 4;
const MIN_GIVEN_PERIOD_STEPS = 2;

export interface SeasonScore {
  periodMs: number;
  periodSteps: number;
  autocorrelation: number;
  /** Autocorrelation at half the period; a real season peaks at its period, not before. */
  halfPeriodAutocorrelation: number;
}

export interface SeasonChoice {
  /** 0 when no season was chosen. */
  periodSteps: number;
  periodMs: number;
  scores: SeasonScore[];
}

/** The shortest period (in steps) of an explicit list that counts as a season; see coveredPeriods. */
export function shortestGivenPeriodSteps(periodsMs: readonly number[], stepMs: number): number {
  const usable = periodsMs.map((p) => periodToSteps(p, stepMs)).filter((steps) => steps >= MIN_GIVEN_PERIOD_STEPS);
  return usable.length > 0 ? Math.min(...usable) : 0;
}

export function periodToSteps(periodMs: number, stepMs: number): number {
  return Math.round(periodMs / stepMs);
}

/**
 * Autocorrelation at lag `period` of the series minus its centred moving average over one period
 * (the moving average over a whole period removes trend and level shifts but not the season).
 * NaN points are skipped pairwise.
 */
export function seasonalAutocorrelation(values: readonly number[], period: number): number {
  if (period < 1 || values.length <= period) return 0;
  return lagCorrelation(detrend(values, period), period);
}

/** The series minus its moving average over `period` points (centred where the series allows). */
function detrend(values: readonly number[], period: number): Float64Array {
  const n = values.length;
  const sums = new Float64Array(n + 1);
  const counts = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) {
    const ok = Number.isFinite(values[i]);
    sums[i + 1] = sums[i] + (ok ? values[i] : 0);
    counts[i + 1] = counts[i] + (ok ? 1 : 0);
  }
  const half = Math.floor(period / 2);
  const detrended = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const lo = Math.max(0, i - half);
    const hi = Math.min(n, lo + period);
    const from = Math.max(0, hi - period);
    const count = counts[hi] - counts[from];
    detrended[i] = Number.isFinite(values[i]) && count > 0 ? values[i] - (sums[hi] - sums[from]) / count : NaN;
  }
  return detrended;
}

/** Correlation of x[t] with x[t + lag] over the pairs where both are present (x has mean ~0). */
function lagCorrelation(detrended: Float64Array, lag: number): number {
  const n = detrended.length;
  if (lag < 1 || n <= lag) return 0;
  let cross = 0;
  let leftSquares = 0;
  let rightSquares = 0;
  for (let i = 0; i + lag < n; i++) {
    const a = detrended[i];
    const b = detrended[i + lag];
    if (Number.isNaN(a) || Number.isNaN(b)) continue;
    cross += a * b;
    leftSquares += a * a;
    rightSquares += b * b;
  }
  const denominator = Math.sqrt(leftSquares * rightSquares);
  return denominator > 0 ? cross / denominator : 0;
}

/** Candidate periods that the series covers at least twice. */
export function coveredPeriods(
  length: number,
  stepMs: number,
  periodsMs: readonly number[],
  minSteps = MIN_DETECTED_PERIOD_STEPS,
): number[] {
  return periodsMs.filter((p) => {
    const steps = periodToSteps(p, stepMs);
    return steps >= minSteps && length >= 2 * steps;
  });
}

function score(values: readonly number[], stepMs: number, periodsMs: readonly number[], minSteps: number): SeasonScore[] {
  return coveredPeriods(values.length, stepMs, periodsMs, minSteps).map((periodMs) => {
    const periodSteps = periodToSteps(periodMs, stepMs);
    const detrended = detrend(values, periodSteps);
    return {
      periodMs,
      periodSteps,
      autocorrelation: lagCorrelation(detrended, periodSteps),
      halfPeriodAutocorrelation: lagCorrelation(detrended, Math.floor(periodSteps / 2)),
    };
  });
}

/**
 * Strong enough, and a peak: a smooth but non-repeating remainder (a slow wave seen through a
 * short window) correlates even more at half the lag, a real season does not.
 */
function isSeasonal(score: SeasonScore): boolean {
  return score.autocorrelation >= MIN_SEASONAL_AUTOCORRELATION && score.autocorrelation > score.halfPeriodAutocorrelation;
}

const NO_SEASON = (scores: SeasonScore[]): SeasonChoice => ({ periodSteps: 0, periodMs: 0, scores });

/**
 * Chooses the season for `seasonality`: 'None' gives none; an explicit list gives the strongest
 * listed period the series covers twice; 'Auto' gives the strongest candidate above
 * MIN_SEASONAL_AUTOCORRELATION, preferring the shorter of two close candidates, or none.
 */
export function detectSeason(values: readonly number[], stepMs: number, seasonality: Seasonality = 'Auto'): SeasonChoice {
  if (seasonality === 'None') return NO_SEASON([]);
  const explicit = Array.isArray(seasonality);
  const scores = explicit
    ? score(values, stepMs, seasonality, MIN_GIVEN_PERIOD_STEPS)
    : score(values, stepMs, CANDIDATE_PERIODS_MS, MIN_DETECTED_PERIOD_STEPS);
  const ascending = [...scores].sort((a, b) => a.periodSteps - b.periodSteps);
  let best: SeasonScore | undefined;
  for (const candidate of ascending) {
    if (!explicit && !isSeasonal(candidate)) continue;
    if (!best || candidate.autocorrelation > best.autocorrelation + (explicit ? 0 : LONGER_PERIOD_MARGIN)) {
      best = candidate;
    }
  }
  return best ? { periodSteps: best.periodSteps, periodMs: best.periodMs, scores } : NO_SEASON(scores);
}
