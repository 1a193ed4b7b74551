// How many replicas one metric asks for: the HPA formula on the latest observation, and the
// forecast peak divided by the per-replica target plus headroom.
import { ceilReplicas } from './rounding.js';

/** The Kubernetes HPA's default tolerance: usage within 10% of the target keeps the count. */
export const HPA_TOLERANCE = 0.1;

/** True when observed usage is within the HPA tolerance band around the current count's capacity. */
export function withinTolerance(
  observed: number,
  currentReplicas: number,
  targetPerReplica: number,
  tolerance = HPA_TOLERANCE,
): boolean {
  if (currentReplicas <= 0) return false;
  const usageRatio = observed / (currentReplicas * targetPerReplica);
  // The band edge is inclusive; the slack keeps 44 / 40 = 1.1 inside a 0.1 band.
  return Math.abs(usageRatio - 1) <= tolerance + 1e-9;
}

/** The HPA formula: keep the count inside the tolerance band, else ceil(observed / target). */
export function reactiveReplicas(
  observed: number,
  currentReplicas: number,
  targetPerReplica: number,
  tolerance = HPA_TOLERANCE,
): number {
  if (withinTolerance(observed, currentReplicas, targetPerReplica, tolerance)) return currentReplicas;
  return ceilReplicas(observed / targetPerReplica);
}

/** Replicas needed to carry `peak` at `targetPerReplica` each with `headroom` (0.1 = 10%) to spare. */
export function predictiveReplicas(peak: number, targetPerReplica: number, headroom: number): number {
  return ceilReplicas((peak / targetPerReplica) * (1 + headroom));
}
