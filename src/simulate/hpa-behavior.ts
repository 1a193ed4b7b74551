// The HPA's normalization of a metric recommendation (stabilization windows, rate policies,
// min/max), mirroring kubernetes pkg/controller/podautoscaler/horizontal.go:
//   normalizeDesiredReplicasWithBehaviors, stabilizeRecommendationWithBehaviors,
//   convertDesiredReplicasWithBehaviorRate, calculateScaleUpLimitWithScalingRules,
//   calculateScaleDownLimitWithBehaviors, getReplicasChangePerPeriod, storeScaleEvent,
//   markScaleEventsOutdated, getLongestPolicyPeriod;
// and, for an HPA object without spec.behavior, the legacy path normalizeDesiredReplicas,
//   stabilizeRecommendation, convertDesiredReplicasWithRules, calculateScaleUpLimit.
// Defaults from pkg/apis/autoscaling/v2/defaults.go (defaultHPAScaleUpRules, defaultHPAScaleDownRules;
// the scale-down window comes from --horizontal-pod-autoscaler-downscale-stabilization, 5m).
// Times are epoch milliseconds; the functions return new arrays instead of mutating their input.

export type HpaPolicyType = 'Pods' | 'Percent';
export type HpaSelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface HpaScalingPolicy {
  type: HpaPolicyType;
  value: number;
  periodSeconds: number;
}

export interface HpaScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: HpaSelectPolicy;
  policies: readonly HpaScalingPolicy[];
}

export interface HpaBehavior {
  scaleUp: HpaScalingRules;
  scaleDown: HpaScalingRules;
}

/** The behaviour an autoscaling/v2 HPA gets when spec.behavior is present but leaves fields unset. */
export const DEFAULT_HPA_BEHAVIOR: HpaBehavior = Object.freeze({
  scaleUp: Object.freeze({
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: Object.freeze([
      Object.freeze({ type: 'Pods', value: 4, periodSeconds: 15 }),
      Object.freeze({ type: 'Percent', value: 100, periodSeconds: 15 }),
    ]),
  }),
  scaleDown: Object.freeze({
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: Object.freeze([Object.freeze({ type: 'Percent', value: 100, periodSeconds: 15 })]),
  }),
}) as HpaBehavior;

/** --horizontal-pod-autoscaler-downscale-stabilization, used by the legacy (no spec.behavior) path. */
export const DEFAULT_DOWNSCALE_STABILIZATION_SECONDS = 300;

export interface TimestampedRecommendation {
  recommendation: number;
  timestamp: number;
}

export interface TimestampedScaleEvent {
  /** Absolute value, non-negative. */
  replicaChange: number;
  timestamp: number;
  outdated: boolean;
}

/** What the HPA controller keeps per autoscaler between syncs. */
export interface HpaHistory {
  recommendations: readonly TimestampedRecommendation[];
  scaleUpEvents: readonly TimestampedScaleEvent[];
  scaleDownEvents: readonly TimestampedScaleEvent[];
}

export const EMPTY_HPA_HISTORY: HpaHistory = Object.freeze({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface NormalizationArgs {
  now: number;
  minReplicas: number;
  maxReplicas: number;
  currentReplicas: number;
  /** The calculator's (unstabilized) recommendation. */
  desiredReplicas: number;
}

export interface Normalized {
  desiredReplicas: number;
  history: HpaHistory;
}

const SECOND = 1000;

/** normalizeDesiredReplicasWithBehaviors: stabilize, then apply the rate policies and min/max. */
export function normalizeDesiredReplicasWithBehaviors(history: HpaHistory, behavior: HpaBehavior, args: NormalizationArgs): Normalized {
  const stabilized = stabilizeRecommendationWithBehaviors(history.recommendations, behavior, args);
  const desiredReplicas = convertDesiredReplicasWithBehaviorRate(
    { ...args, desiredReplicas: stabilized.recommendation },
    behavior,
    history.scaleUpEvents,
    history.scaleDownEvents,
  );
  return { desiredReplicas, history: { ...history, recommendations: stabilized.recommendations } };
}

/**
 * stabilizeRecommendationWithBehaviors: the result lies between the lowest recommendation of the
 * scale-up window and the highest of the scale-down window (both including the new one), as close
 * to currentReplicas as that allows. The new, unstabilized recommendation is recorded, overwriting
 * one sample that is older than both windows.
 */
export function stabilizeRecommendationWithBehaviors(
  recommendations: readonly TimestampedRecommendation[],
  behavior: HpaBehavior,
  args: NormalizationArgs,
): { recommendation: number; recommendations: TimestampedRecommendation[] } {
  const { now, desiredReplicas, currentReplicas } = args;
  const upCutoff = now - behavior.scaleUp.stabilizationWindowSeconds * SECOND;
  const downCutoff = now - behavior.scaleDown.stabilizationWindowSeconds * SECOND;
  let upRecommendation = desiredReplicas;
  let downRecommendation = desiredReplicas;
  let oldSampleIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.timestamp > upCutoff) upRecommendation = Math.min(rec.recommendation, upRecommendation);
    if (rec.timestamp > downCutoff) downRecommendation = Math.max(rec.recommendation, downRecommendation);
    if (rec.timestamp < upCutoff && rec.timestamp < downCutoff) oldSampleIndex = i;
  });

  let recommendation = currentReplicas;
  if (recommendation < upRecommendation) recommendation = upRecommendation;
  if (recommendation > downRecommendation) recommendation = downRecommendation;

  return { recommendation, recommendations: recordRecommendation(recommendations, oldSampleIndex, desiredReplicas, now) };
}

/** convertDesiredReplicasWithBehaviorRate: the rate policies for the direction of change, then min/max. */
export function convertDesiredReplicasWithBehaviorRate(
  args: NormalizationArgs,
  behavior: HpaBehavior,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
): number {
  const { now, currentReplicas, desiredReplicas, minReplicas, maxReplicas } = args;
  if (desiredReplicas > currentReplicas) {
    const scaleUpLimit = Math.max(
      calculateScaleUpLimitWithScalingRules(currentReplicas, scaleUpEvents, scaleDownEvents, behavior.scaleUp, now),
      currentReplicas, // no further scale-up until the recent events leave their periods
    );
    return Math.min(desiredReplicas, maxReplicas, scaleUpLimit);
  }
  if (desiredReplicas < currentReplicas) {
    const scaleDownLimit = Math.min(
      calculateScaleDownLimitWithBehaviors(currentReplicas, scaleUpEvents, scaleDownEvents, behavior.scaleDown, now),
      currentReplicas,
    );
    return Math.max(desiredReplicas, minReplicas, scaleDownLimit);
  }
  return desiredReplicas;
}

/** calculateScaleUpLimitWithScalingRules: the highest count the scale-up policies allow now. */
export function calculateScaleUpLimitWithScalingRules(
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  rules: HpaScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  // Under 'Min' the smallest allowed change wins; otherwise ('Max') the largest.
  const select = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStartReplicas = periodStart(currentReplicas, policy, scaleUpEvents, scaleDownEvents, now);
    const proposed =
      policy.type === 'Pods'
        ? periodStartReplicas + policy.value
        : // Rounded up so that a small target can always grow by at least one.
          Math.ceil(periodStartReplicas * (1 + policy.value / 100));
    result = select(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the lowest count the scale-down policies allow now. */
export function calculateScaleDownLimitWithBehaviors(
  currentReplicas: number,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  rules: HpaScalingRules,
  now: number,
): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const select = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  for (const policy of rules.policies) {
    const periodStartReplicas = periodStart(currentReplicas, policy, scaleUpEvents, scaleDownEvents, now);
    const proposed =
      policy.type === 'Pods'
        ? periodStartReplicas - policy.value
        : Math.trunc(periodStartReplicas * (1 - policy.value / 100)); // Go's int32(float64) truncates
    result = select(result, proposed);
  }
  return result;
}

/** getReplicasChangePerPeriod: the replicas changed by events strictly inside the last period. */
export function getReplicasChangePerPeriod(periodSeconds: number, scaleEvents: readonly TimestampedScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * SECOND;
  let replicas = 0;
  for (const event of scaleEvents) {
    if (event.timestamp > cutoff) replicas += event.replicaChange;
  }
  return replicas;
}

/**
 * storeScaleEvent: record a rescale from prevReplicas to newReplicas in the list for its direction,
 * reusing a slot whose event is older than the longest policy period. Upstream stores nothing for an
 * HPA without spec.behavior, which is the caller's concern.
 */
export function storeScaleEvent(history: HpaHistory, behavior: HpaBehavior, prevReplicas: number, newReplicas: number, now: number): HpaHistory {
  if (newReplicas > prevReplicas) {
    const scaleUpEvents = recordScaleEvent(history.scaleUpEvents, behavior.scaleUp, newReplicas - prevReplicas, now);
    return { ...history, scaleUpEvents };
  }
  const scaleDownEvents = recordScaleEvent(history.scaleDownEvents, behavior.scaleDown, prevReplicas - newReplicas, now);
  return { ...history, scaleDownEvents };
}

/**
 * The legacy normalizeDesiredReplicas, used by the controller when an HPA has no spec.behavior:
 * the highest recommendation of the downscale window, then a per-sync scale-up cap of
 * max(2 * current, 4), then min/max.
 */
export function normalizeDesiredReplicas(
  recommendations: readonly TimestampedRecommendation[],
  args: NormalizationArgs,
  downscaleStabilizationSeconds = DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
): { desiredReplicas: number; recommendations: TimestampedRecommendation[] } {
  const stabilized = stabilizeRecommendation(recommendations, args.desiredReplicas, args.now, downscaleStabilizationSeconds);
  const desiredReplicas = convertDesiredReplicasWithRules(args.currentReplicas, stabilized.recommendation, args.minReplicas, args.maxReplicas);
  return { desiredReplicas, recommendations: stabilized.recommendations };
}

/** The legacy stabilizeRecommendation: max of the new and every not-older-than-window recommendation. */
export function stabilizeRecommendation(
  recommendations: readonly TimestampedRecommendation[],
  desiredReplicas: number,
  now: number,
  windowSeconds: number,
): { recommendation: number; recommendations: TimestampedRecommendation[] } {
  const cutoff = now - windowSeconds * SECOND;
  let maxRecommendation = desiredReplicas;
  let oldSampleIndex = -1;
  recommendations.forEach((rec, i) => {
    if (rec.timestamp < cutoff) oldSampleIndex = i;
    else if (rec.recommendation > maxRecommendation) maxRecommendation = rec.recommendation;
  });
  return { recommendation: maxRecommendation, recommendations: recordRecommendation(recommendations, oldSampleIndex, desiredReplicas, now) };
}

/** convertDesiredReplicasWithRules: min, then min(maxReplicas, calculateScaleUpLimit(current)). */
export function convertDesiredReplicasWithRules(currentReplicas: number, desiredReplicas: number, minReplicas: number, maxReplicas: number): number {
  const maximumAllowedReplicas = Math.min(maxReplicas, calculateScaleUpLimit(currentReplicas));
  if (desiredReplicas < minReplicas) return minReplicas;
  if (desiredReplicas > maximumAllowedReplicas) return maximumAllowedReplicas;
  return desiredReplicas;
}

/** calculateScaleUpLimit: scaleUpLimitFactor 2, scaleUpLimitMinimum 4. */
export function calculateScaleUpLimit(currentReplicas: number): number {
  return Math.trunc(Math.max(2 * currentReplicas, 4));
}

function periodStart(
  currentReplicas: number,
  policy: HpaScalingPolicy,
  scaleUpEvents: readonly TimestampedScaleEvent[],
  scaleDownEvents: readonly TimestampedScaleEvent[],
  now: number,
): number {
  const added = getReplicasChangePerPeriod(policy.periodSeconds, scaleUpEvents, now);
  const deleted = getReplicasChangePerPeriod(policy.periodSeconds, scaleDownEvents, now);
  return currentReplicas - added + deleted;
}

function recordRecommendation(
  recommendations: readonly TimestampedRecommendation[],
  oldSampleIndex: number,
  recommendation: number,
  now: number,
): TimestampedRecommendation[] {
  const next = [...recommendations];
  const sample = { recommendation, timestamp: now };
  if (oldSampleIndex >= 0) next[oldSampleIndex] = sample;
  else next.push(sample);
  return next;
}

function recordScaleEvent(events: readonly TimestampedScaleEvent[], rules: HpaScalingRules, replicaChange: number, now: number): TimestampedScaleEvent[] {
  const longestPolicyPeriod = Math.max(0, ...rules.policies.map((p) => p.periodSeconds));
  const cutoff = now - longestPolicyPeriod * SECOND;
  // markScaleEventsOutdated, then reuse the last outdated slot.
  const next = events.map((e) => (e.timestamp < cutoff && !e.outdated ? { ...e, outdated: true } : e));
  let outdatedIndex = -1;
  next.forEach((e, i) => {
    if (e.outdated) outdatedIndex = i;
  });
  const event = { replicaChange, timestamp: now, outdated: false };
  if (outdatedIndex >= 0) next[outdatedIndex] = event;
  else next.push(event);
  return next;
}
