// The HPA replica calculator for a CPU-style utilization target, mirroring
// kubernetes pkg/controller/podautoscaler/replica_calculator.go, GetResourceReplicas (the same
// structure as calcPlainMetricReplicas), and metrics.GetResourceUtilizationRatio for the ratio.
// Every pod here has the same request, so per-pod metrics reduce to counts and a mean.

/** What the calculator sees, grouped as upstream groupPods groups the target's pods. */
export interface ReplicaCalculatorInput {
  /** spec.replicas of the scale subresource; returned unchanged when no change is warranted. */
  currentReplicas: number;
  /** Ready pods that reported a metric (groupPods' readyPodCount). */
  readyPods: number;
  /** Pods whose sample is set aside: Pending, or not Ready yet (groupPods' unreadyPods). */
  unreadyPods: number;
  /** Running pods that have not reported a metric (groupPods' missingPods). */
  missingPods?: number;
  /** Mean usage of the ready pods as a fraction of their request (1 = 100 %). */
  utilization: number;
  /** Target as a fraction of the request; the HPA spec holds it in whole percent. */
  targetUtilization: number;
  /** Allowed |1 - usageRatio| before acting (--horizontal-pod-autoscaler-tolerance, 0.1). */
  tolerance?: number;
}

export const DEFAULT_HPA_TOLERANCE = 0.1;

/**
 * The replica count the HPA's metric step proposes, before behaviour normalization, or undefined
 * where upstream returns "did not receive metrics for targeted pods" (no ready pod has a metric):
 * the controller then does not scale.
 */
export function hpaDesiredReplicas(input: ReplicaCalculatorInput): number | undefined {
  const { currentReplicas, readyPods, unreadyPods, utilization, targetUtilization } = input;
  const missingPods = input.missingPods ?? 0;
  const tolerance = input.tolerance ?? DEFAULT_HPA_TOLERANCE;
  if (readyPods <= 0) return undefined;
  const targetPercent = toTargetPercent(targetUtilization);
  const isWithinTolerance = (ratio: number): boolean => 1 - tolerance <= ratio && ratio <= 1 + tolerance;

  // Pod requests are all equal, so sum(usage) / sum(requests) over the pods is a mean of utilizations.
  const readyUsage = Math.max(0, utilization) * readyPods;
  const usageRatio = utilizationPercent(readyUsage, readyPods) / targetPercent;

  const scaleUpWithUnready = unreadyPods > 0 && usageRatio > 1;
  if (!scaleUpWithUnready && missingPods === 0) {
    if (isWithinTolerance(usageRatio)) return currentReplicas;
    return Math.ceil(usageRatio * readyPods);
  }

  // Re-run with conservative guesses for the pods without a usable sample.
  let usage = readyUsage;
  let pods = readyPods;
  if (missingPods > 0) {
    if (usageRatio < 1) {
      // On a scale-down a missing pod is taken to use all of its request, or the target if higher.
      usage += missingPods * (Math.max(100, targetPercent) / 100);
      pods += missingPods;
    } else if (usageRatio > 1) {
      pods += missingPods; // on a scale-up, at 0 usage
    }
  }
  if (scaleUpWithUnready) pods += unreadyPods; // at 0 usage

  const newUsageRatio = utilizationPercent(usage, pods) / targetPercent;
  const flipsDirection = (usageRatio < 1 && newUsageRatio > 1) || (usageRatio > 1 && newUsageRatio < 1);
  if (isWithinTolerance(newUsageRatio) || flipsDirection) return currentReplicas;

  const newReplicas = Math.ceil(newUsageRatio * pods);
  // The extra pods can push the count against the direction of the ratio; upstream keeps the count then.
  if ((newUsageRatio < 1 && newReplicas > currentReplicas) || (newUsageRatio > 1 && newReplicas < currentReplicas)) {
    return currentReplicas;
  }
  return newReplicas;
}

/** The HPA's AverageUtilization is an int32 percent. */
export function toTargetPercent(targetUtilization: number): number {
  const percent = Math.round(targetUtilization * 100);
  if (!(percent >= 1)) throw new RangeError(`target utilization must be at least 1 %, got ${targetUtilization}`);
  return percent;
}

/**
 * GetResourceUtilizationRatio's currentUtilization: int32(metricsTotal * 100 / requestsTotal), an
 * integer division. Upstream works on exact milli-unit integers; the epsilon keeps a float such as
 * 0.29 * 100 = 28.999999999999996 from truncating a whole percent away.
 */
function utilizationPercent(usageInRequests: number, pods: number): number {
  return Math.floor((usageInRequests * 100) / pods + 1e-9);
}
