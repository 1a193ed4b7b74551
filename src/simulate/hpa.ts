// The Kubernetes HorizontalPodAutoscaler as a simulated policy (SPEC section 6, `hpa@U`), for one
// HPA with a single CPU-style Resource metric at AverageUtilization U. It mirrors
// kubernetes pkg/controller/podautoscaler/horizontal.go, reconcileAutoscaler:
//   - recordInitialRecommendation: the first sync records currentReplicas as a recommendation, so
//     nothing scales down during the first stabilization window;
//   - currentReplicas == 0: scaling disabled; above maxReplicas / below minReplicas: rescale to the
//     bound without looking at metrics;
//   - computeReplicasForMetrics -> GetResourceReplicas (hpa-calculator.ts); on a metrics error
//     (no demand observation, no Ready pod) nothing changes and no recommendation is recorded;
//   - normalizeDesiredReplicasWithBehaviors, or the legacy normalizeDesiredReplicas when the HPA has
//     no spec.behavior (behavior: null) (hpa-behavior.ts);
//   - storeScaleEvent after every rescale (only with a behavior, as upstream).
// The metric: demand is spread evenly over the Ready pods, each with a request of capacityPerReplica,
// so their utilization is demand / (readyPods * capacityPerReplica). Pods not Ready are Pending or
// still starting in HPA terms: groupPods puts them in its unready group. Every Ready pod has a
// sample here, so there are no missing pods. Not modelled: the CPU initialization period's
// rejection of a just-Ready pod's first sample, and metrics-server's own collection delay (the
// simulator's metric lag stands in for it).
import type { ClusterView, ReplicaController } from './types.js';
import { DEFAULT_HPA_TOLERANCE, hpaDesiredReplicas, toTargetPercent } from './hpa-calculator.js';
import {
  DEFAULT_HPA_BEHAVIOR,
  EMPTY_HPA_HISTORY,
  normalizeDesiredReplicas,
  normalizeDesiredReplicasWithBehaviors,
  storeScaleEvent,
  type HpaBehavior,
  type HpaHistory,
} from './hpa-behavior.js';

export { hpaDesiredReplicas, toTargetPercent, DEFAULT_HPA_TOLERANCE, type ReplicaCalculatorInput } from './hpa-calculator.js';
export {
  DEFAULT_HPA_BEHAVIOR,
  DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
  EMPTY_HPA_HISTORY,
  normalizeDesiredReplicas,
  normalizeDesiredReplicasWithBehaviors,
  stabilizeRecommendationWithBehaviors,
  convertDesiredReplicasWithBehaviorRate,
  calculateScaleUpLimitWithScalingRules,
  calculateScaleDownLimitWithBehaviors,
  getReplicasChangePerPeriod,
  storeScaleEvent,
  type HpaBehavior,
  type HpaHistory,
  type HpaPolicyType,
  type HpaScalingPolicy,
  type HpaScalingRules,
  type HpaSelectPolicy,
  type NormalizationArgs,
  type TimestampedRecommendation,
  type TimestampedScaleEvent,
} from './hpa-behavior.js';

/** --horizontal-pod-autoscaler-sync-period. */
export const DEFAULT_HPA_SYNC_PERIOD_MS = 15_000;

export interface HpaControllerOptions {
  /** Target average utilization as a fraction of a pod's request (0.8 = 80 %). */
  targetUtilization: number;
  /** The demand one Ready replica serves at 100 % utilization (a pod's request). */
  capacityPerReplica: number;
  minReplicas: number;
  maxReplicas: number;
  tolerance?: number;
  periodMs?: number;
  /** spec.behavior after API defaulting; null for an HPA without spec.behavior (the legacy path). */
  behavior?: HpaBehavior | null;
}

export class HpaController implements ReplicaController {
  readonly name: string;
  readonly periodMs: number;
  private readonly targetUtilization: number;
  private readonly capacityPerReplica: number;
  private readonly minReplicas: number;
  private readonly maxReplicas: number;
  private readonly tolerance: number;
  private readonly behavior: HpaBehavior | null;
  private history: HpaHistory = EMPTY_HPA_HISTORY;
  private started = false;

  constructor(options: HpaControllerOptions) {
    const { targetUtilization, capacityPerReplica, minReplicas, maxReplicas } = options;
    toTargetPercent(targetUtilization); // validates
    if (!(capacityPerReplica > 0)) throw new RangeError(`capacityPerReplica must be positive, got ${capacityPerReplica}`);
    if (!Number.isInteger(minReplicas) || minReplicas < 1) {
      // The HPA only accepts minReplicas 0 behind the HPAScaleToZero gate, and not for Resource metrics.
      throw new RangeError(`minReplicas must be an integer of at least 1, got ${minReplicas}`);
    }
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) {
      throw new RangeError(`maxReplicas must be an integer no less than minReplicas, got ${maxReplicas}`);
    }
    this.name = `hpa@${targetUtilization}`;
    this.targetUtilization = targetUtilization;
    this.capacityPerReplica = capacityPerReplica;
    this.minReplicas = minReplicas;
    this.maxReplicas = maxReplicas;
    this.tolerance = options.tolerance ?? DEFAULT_HPA_TOLERANCE;
    this.periodMs = options.periodMs ?? DEFAULT_HPA_SYNC_PERIOD_MS;
    this.behavior = options.behavior === undefined ? DEFAULT_HPA_BEHAVIOR : options.behavior;
  }

  /** The recommendations and scale events kept so far (for inspection). */
  get state(): HpaHistory {
    return this.history;
  }

  sync(view: ClusterView): number {
    const currentReplicas = view.specReplicas;
    const { now } = view;
    if (!this.started) {
      this.started = true;
      this.history = { ...this.history, recommendations: [{ recommendation: currentReplicas, timestamp: now }] };
    }

    if (currentReplicas === 0) return 0;
    if (currentReplicas > this.maxReplicas) return this.rescale(currentReplicas, this.maxReplicas, now);
    if (currentReplicas < this.minReplicas) return this.rescale(currentReplicas, this.minReplicas, now);

    const proposal = this.metricRecommendation(view);
    if (proposal === undefined) return currentReplicas;

    const args = { now, minReplicas: this.minReplicas, maxReplicas: this.maxReplicas, currentReplicas, desiredReplicas: proposal };
    let desiredReplicas: number;
    if (this.behavior) {
      const normalized = normalizeDesiredReplicasWithBehaviors(this.history, this.behavior, args);
      this.history = normalized.history;
      desiredReplicas = normalized.desiredReplicas;
    } else {
      const normalized = normalizeDesiredReplicas(this.history.recommendations, args);
      this.history = { ...this.history, recommendations: normalized.recommendations };
      desiredReplicas = normalized.desiredReplicas;
    }
    return desiredReplicas === currentReplicas ? currentReplicas : this.rescale(currentReplicas, desiredReplicas, now);
  }

  private metricRecommendation(view: ClusterView): number | undefined {
    const demand = view.observedDemand;
    if (demand === undefined || !Number.isFinite(demand) || view.readyPods <= 0) return undefined;
    return hpaDesiredReplicas({
      currentReplicas: view.specReplicas,
      readyPods: view.readyPods,
      unreadyPods: view.unreadyPods,
      utilization: Math.max(0, demand) / (view.readyPods * this.capacityPerReplica),
      targetUtilization: this.targetUtilization,
      tolerance: this.tolerance,
    });
  }

  private rescale(currentReplicas: number, desiredReplicas: number, now: number): number {
    if (this.behavior) this.history = storeScaleEvent(this.history, this.behavior, currentReplicas, desiredReplicas, now);
    return desiredReplicas;
  }
}
