// Rounding helpers shared by the decision rules.

/** Float noise such as 1.1 / 0.1 = 11.000000000000002 must not cost a replica. */
const FLOAT_SLACK = 1e-9;

/** Rounds up, ignoring float noise just above an integer; never below zero. */
export function ceilReplicas(x: number): number {
  return Math.max(0, Math.ceil(x - FLOAT_SLACK));
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
