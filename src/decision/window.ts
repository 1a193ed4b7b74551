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
  const finite = values
    .map((value, i) => ({ value, at: start + i * stepMs }))
    .filter((p) => Number.isFinite(p.value) && Math.abs(p.at) <= MAX_TIME_MS);
  if (finite.length === 0) return undefined;

  const overlapping = finite.filter((p) => p.at <= to && p.at + stepMs > from);
  if (overlapping.length > 0) {
    const peak = overlapping.reduce((best, p) => (p.value > best.value ? p : best));
    return { ...peak, source, position: 'within' };
  }
  const first = finite[0]!;
  if (to < first.at) return { ...first, source, position: 'beforeStart' };
  const last = finite[finite.length - 1]!;
  if (from >= last.at) return { ...last, source, position: 'beyondEnd' };
  // The window falls into a gap of skipped (non-finite) points: use the nearest finite point after it.
  const next = finite.find((p) => p.at > to)!;
  return { ...next, source, position: 'within' };
}
