// Rate limits and scale-down stabilization, with the Kubernetes HPA's semantics unless noted.
import { ceilReplicas } from './rounding.js';
import type { RecommendationRecord, ScaleEventRecord } from './types.js';

/** Rate limits are per minute, over the sliding period (now - 60s, now]. */
export const RATE_PERIOD_MS = 60_000;

function inPeriod(time: number, now: number, periodMs: number): boolean {
  return time > now - periodMs && time <= now;
}

/** Replicas added by scale events within the last minute. */
export function replicasAdded(events: ScaleEventRecord[], now: number): number {
  return events.filter((e) => inPeriod(e.time, now, RATE_PERIOD_MS)).reduce((sum, e) => sum + Math.max(0, e.to - e.from), 0);
}

/** Replicas removed by scale events within the last minute. */
export function replicasRemoved(events: ScaleEventRecord[], now: number): number {
  return events.filter((e) => inPeriod(e.time, now, RATE_PERIOD_MS)).reduce((sum, e) => sum + Math.max(0, e.from - e.to), 0);
}

/** The highest count allowed now: at most `maxPerMinute` replicas added within any minute. */
export function scaleUpLimit(currentReplicas: number, maxPerMinute: number, events: ScaleEventRecord[], now: number): number {
  return currentReplicas + Math.max(0, maxPerMinute - replicasAdded(events, now));
}

/**
 * HPA scale-down stabilization: never go lower than the highest recommendation within
 * (now - windowMs, now], the current one included, and never above the current count.
 */
export function stabilizeScaleDown(
  recommendation: number,
  currentReplicas: number,
  records: RecommendationRecord[],
  now: number,
  windowMs: number,
): number {
  const highest = records
    .filter((r) => inPeriod(r.time, now, windowMs))
    .reduce((max, r) => Math.max(max, r.replicas), recommendation);
  return Math.min(currentReplicas, highest);
}

/**
 * The lowest count allowed now: at most `maxPercentPerMinute` percent of the replicas present at the
 * start of the last minute may go within it; 0 disables scale-down.
 *
 * Deliberate difference from the HPA: when nothing was removed in the last minute, at least one
 * replica may go, so that a small percentage still lets a small deployment shrink (10% of 5 replicas
 * rounds to zero in the HPA, which would never scale down).
 */
export function scaleDownFloor(currentReplicas: number, maxPercentPerMinute: number, events: ScaleEventRecord[], now: number): number {
  if (maxPercentPerMinute <= 0) return currentReplicas;
  const removed = replicasRemoved(events, now);
  const periodStart = currentReplicas + removed;
  const percentFloor = ceilReplicas(periodStart * (1 - Math.min(100, maxPercentPerMinute) / 100));
  const floor = removed === 0 ? Math.min(percentFloor, currentReplicas - 1) : percentFloor;
  return Math.max(0, Math.min(floor, currentReplicas));
}
