// The PredictiveScaler custom resource as stored in the API server (SPEC section 2).
// Durations and quantities stay strings here; src/api/config.ts turns a spec into numbers.

export const GROUP = 'autoscaling.prescale.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'PredictiveScaler';
export const PLURAL = 'predictivescalers';
export const PAUSED_ANNOTATION = `${GROUP}/paused`;

export type Mode = 'Auto' | 'ForecastOnly' | 'Publish' | 'Off';
export type ColdStart = 'Pretrained' | 'None';

export type ModelName = 'Ensemble' | 'LSTM' | 'HoltWinters' | 'SeasonalNaive' | 'Linear' | 'MSTL' | 'Pretrained';

export interface ScaleTargetRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface MetricSpec {
  name: string;
  query: string;
  targetPerReplica: string | number;
}

export interface ForecastSpec {
  model?: ModelName;
  history?: string;
  step?: string;
  horizon?: string;
  seasonality?: 'Auto' | 'None' | string[];
  quantile?: number | string;
  retrainEvery?: string;
  /** What forecasts while the model lacks history: the pretrained global model (default) or nothing. */
  coldStart?: ColdStart;
}

export interface ScalingSpec {
  leadTime?: string;
  /** A percentage, or Auto: chosen by the planner to meet the objective. */
  headroom?: string;
  /** The service level the planner plans to: at most this share of minutes under-provisioned. */
  objective?: { maxUnderProvisioned?: string };
  /** A recommendation within this percentage of the current count does not move replicas. */
  tolerance?: string;
  reactiveFloor?: boolean;
  scaleUp?: { maxReplicasPerMinute?: number };
  scaleDown?: { stabilizationWindow?: string; maxPercentPerMinute?: number };
}

export interface ScheduleEntry {
  name: string;
  start: string;
  end: string;
  minReplicas?: number;
  multiplier?: number | string;
}

export interface PrometheusSpec {
  url?: string;
  authSecretRef?: { name: string };
}

export interface PredictiveScalerSpec {
  scaleTargetRef: ScaleTargetRef;
  minReplicas?: number;
  maxReplicas: number;
  mode?: Mode;
  interval?: string;
  metrics: MetricSpec[];
  forecast?: ForecastSpec;
  scaling?: ScalingSpec;
  schedule?: ScheduleEntry[];
  prometheus?: PrometheusSpec;
}

export type ConditionType = 'Ready' | 'ForecastAvailable' | 'AbleToScale' | 'ScalingLimited' | 'Degraded' | 'ObjectiveMet';
export type ConditionStatus = 'True' | 'False' | 'Unknown';

export interface Condition {
  type: ConditionType;
  status: ConditionStatus;
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface ForecastStatus {
  model: string;
  generatedAt: string;
  peak: number;
  peakAt: string;
  lower: number;
  upper: number;
  /** The planning quantile over the horizon, at most 24 evenly spaced values (3 significant digits). */
  points?: number[];
}

export interface ModelStatus {
  name: string;
  weight?: number;
  mase?: number;
  trainedAt?: string;
}

export interface PredictiveScalerStatus {
  observedGeneration?: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  lastScaleTime?: string;
  leadTime?: string;
  leadTimeSource?: 'Fixed' | 'Learned' | 'Default';
  forecast?: ForecastStatus;
  models?: ModelStatus[];
  explanation?: string;
  /** The plan the planner chose for the Auto fields, and the simulated evidence for it. */
  plan?: PlanStatus;
  conditions?: Condition[];
}

/** One policy replayed on the scaler's recent history. */
export interface SimulatedPolicyStatus {
  /** Share of scored minutes with Ready capacity below demand, e.g. "0.3%". */
  underProvisioned: string;
  /** Replica-minutes against the oracle's (replicas that exactly serve each minute), e.g. "1.21x oracle". */
  replicaMinutes: string;
  /** How often the replica count changed. */
  scaleEvents: number;
}

export interface PlanStatus {
  /** The quantile and headroom prescale acts on (a field the spec sets explicitly keeps its value). */
  quantile: number;
  headroom: string;
  /** spec.scaling.objective.maxUnderProvisioned, e.g. "0.5%". */
  objective: string;
  /** Whether the plan's simulated under-provisioning meets the objective. */
  objectiveMet: boolean;
  simulated: SimulatedPolicyStatus;
  /** The Kubernetes HPA at the scaler's targetPerReplica on the same history; targetForObjective: the highest target utilization (of 1.0 .. 0.4) whose run meets the objective. */
  hpa: SimulatedPolicyStatus & { targetForObjective?: number };
  /** The replayed history, e.g. "7d"; the first part warms the models up and is not scored. */
  window: string;
  evaluatedMinutes: number;
  /** How many plans were simulated. */
  plans: number;
  plannedAt: string;
  /** Why this plan, in one sentence. */
  message: string;
}

export interface PredictiveScaler {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    annotations?: Record<string, string>;
    labels?: Record<string, string>;
    creationTimestamp?: Date;
  };
  spec: PredictiveScalerSpec;
  status?: PredictiveScalerStatus;
}
