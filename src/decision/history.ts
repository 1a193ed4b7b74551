// Helpers for callers that keep the decision history (recommendations and scale events) between
// reconciles.
import type { ScalerConfig } from '../api/config.js';
import { RATE_PERIOD_MS } from './limits.js';

/** The records newer than now - keepMs (a copy; the input is not changed). Older ones can no longer matter. */
export function pruneHistory<T extends { time: number }>(records: readonly T[], now: number, keepMs: number): T[] {
  return records.filter((r) => r.time > now - keepMs);
}

/** How far back `decide` looks: recommendations for the stabilization window, scale events for the rate limits. */
export function historyRetention(config: ScalerConfig): { recommendationsMs: number; scaleEventsMs: number } {
  return { recommendationsMs: config.scaling.scaleDownStabilizationMs, scaleEventsMs: RATE_PERIOD_MS };
}
