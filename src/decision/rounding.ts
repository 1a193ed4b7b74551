// Rounding helpers shared by the decision rules.

/** Float noise such as 1.1 / 0.1 = 11.000000000000002 must not cost a replica. */
const FLOAT_SLACK = 1e-9;

/** The most replicas a scale subresource can hold (spec.replicas is an int32). */
export const MAX_REPLICA_COUNT = 2_147_483_647;

/**
 * Rounds up, ignoring float noise just above an integer; never below zero, and never above what
 * spec.replicas can hold, so a huge or overflowing ratio (1e308 / 1e-300) stays a whole number.
 */
export function ceilReplicas(x: number): number {
  return Math.min(MAX_REPLICA_COUNT, Math.max(0, Math.ceil(x - FLOAT_SLACK)));
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
