// Helpers for callers that keep the decision history (recommendations and scale events) between
// reconciles.
import type { ScalerConfig } from '../api/config.js';
import { RATE_PERIOD_MS } from './limits.js';
import type { RecommendationRecord, ScaleEventRecord } from './types.js';

/** The records newer than now - keepMs (a copy; the input is not changed). Older ones can no longer matter. */
export function pruneHistory<T extends { time: number }>(records: readonly T[], now: number, keepMs: number): T[] {
  return records.filter((r) => r.time > now - keepMs);
}

/** How far back `decide` looks: recommendations for the stabilization window, scale events for the rate limits. */
export function historyRetention(config: ScalerConfig): { recommendationsMs: number; scaleEventsMs: number } {
  return { recommendationsMs: config.scaling.scaleDownStabilizationMs, scaleEventsMs: RATE_PERIOD_MS };
}

/**
 * The decision memory one scaler keeps between decisions: its recommendations (for scale-down
 * stabilization) and the changes it made (for the rate limits). The operator and the simulator both
 * keep it through this class, so they decide identically.
 */
export class DecisionHistory {
  recommendations: RecommendationRecord[] = [];
  scaleEvents: ScaleEventRecord[] = [];

  /** Records a decision's recommendation, and the scale change if one was applied. */
  record(config: ScalerConfig, now: number, recommendation: number, applied?: { from: number; to: number }): void {
    const keep = historyRetention(config);
    this.recommendations = pruneHistory(this.recommendations, now, keep.recommendationsMs);
    this.recommendations.push({ time: now, replicas: recommendation });
    if (applied && applied.from !== applied.to) {
      this.scaleEvents = pruneHistory(this.scaleEvents, now, keep.scaleEventsMs);
      this.scaleEvents.push({ time: now, ...applied });
    }
  }
}
