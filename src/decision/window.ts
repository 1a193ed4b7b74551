// The forecast's peak over the lead-time window [now + leadTime, now + leadTime + interval].
import type { Forecast } from '../forecast/types.js';

const QUANTILE_MATCH = 1e-9;

/** The range of a JavaScript Date: a forecast point beyond it names no time (and cannot be formatted). */
const MAX_TIME_MS = 8.64e15;

/** Where the window lay relative to the forecast points that were used. */
export type WindowPosition = 'within' | 'beyondEnd' | 'beforeStart';

export interface WindowPeak {
  value: number;
  /** Timestamp of the forecast point holding the peak. */
  at: number;
  /** Which forecast series was read: the requested quantile, or the mean when that quantile is absent. */
  source: 'quantile' | 'mean';
  position: WindowPosition;
}

/** The forecast values at quantile `q`, or the mean when the forecast lacks that quantile. */
export function planningValues(forecast: Forecast, q: number): { values: number[]; source: 'quantile' | 'mean' } {
  const match = forecast.quantiles.find((qf) => Math.abs(qf.q - q) <= QUANTILE_MATCH);
  return match ? { values: match.values, source: 'quantile' } : { values: forecast.mean, source: 'mean' };
}

/**
 * Highest value at quantile `q` among the forecast points whose step [t, t + stepMs) overlaps the
 * closed window [from, to]. A window past the last point uses the last point; one before the first
 * point uses the first. Non-finite values, and points at no representable time, are skipped;
 * undefined when no such point exists (or the forecast's step is not a positive number).
 */
export function windowPeak(forecast: Forecast, q: number, from: number, to: number): WindowPeak | undefined {
  const { values, source } = planningValues(forecast, q);
  const { start, stepMs } = forecast;
  if (!(stepMs > 0 && Number.isFinite(stepMs))) return undefined;
  // One pass without allocation: the planner replays this for every minute of days of history.
  let first = -1;
  let last = -1;
  let best = -1;
  let nextAfter = -1;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    const at = start + i * stepMs;
    if (!Number.isFinite(value) || !(Math.abs(at) <= MAX_TIME_MS)) continue;
    if (first < 0) first = i;
    last = i;
    if (at <= to && at + stepMs > from) {
      if (best < 0 || value > values[best]!) best = i;
    } else if (at > to) {
      // Points run forward in time: none after this one is in the window.
      if (best >= 0) break;
      if (nextAfter < 0) nextAfter = i;
    }
  }
  if (first < 0) return undefined;
  const point = (i: number, position: WindowPosition): WindowPeak => ({ value: values[i]!, at: start + i * stepMs, source, position });
  if (best >= 0) return point(best, 'within');
  if (to < start + first * stepMs) return point(first, 'beforeStart');
  if (from >= start + last * stepMs) return point(last, 'beyondEnd');
  // The window falls into a gap of skipped (non-finite) points: use the nearest finite point after it.
  return point(nextAfter, 'within');
}
