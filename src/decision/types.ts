// Inputs and outputs of the pure scaling decision (SPEC section 3). No I/O, no clock: the caller
// passes `now` and everything the decision may look at.
import type { ScalerConfig } from '../api/config.js';
import type { Forecast } from '../forecast/types.js';

export interface MetricInput {
  /** Must match a name in config.metrics. */
  name: string;
  /** Latest observed value of the metric; undefined when the query returned no data. */
  observed?: number;
  /** Forecast of the metric; undefined when no model could be used (reactive only). */
  forecast?: Forecast;
}

/** A past recommendation (before stabilization), kept by the caller for the stabilization window. */
export interface RecommendationRecord {
  time: number;
  replicas: number;
}

/** A past change of the target's replica count, kept by the caller for the rate limits. */
export interface ScaleEventRecord {
  time: number;
  from: number;
  to: number;
}

export interface DecisionInput {
  now: number;
  config: ScalerConfig;
  /** spec.replicas of the target's scale subresource. */
  currentReplicas: number;
  /** The lead time in effect (fixed, learned, or the default). */
  leadTimeMs: number;
  metrics: MetricInput[];
  recommendations: RecommendationRecord[];
  scaleEvents: ScaleEventRecord[];
  /** false: message and step texts are left empty (simulated replays, which read only the numbers). */
  explain?: boolean;
}

export type DecisionRule =
  | 'predictive'
  | 'reactive'
  | 'noData'
  | 'schedule'
  | 'minReplicas'
  | 'maxReplicas'
  | 'scaleUpRate'
  | 'stabilization'
  | 'scaleDownRate';

/** One rule that changed the number, in the order applied. */
export interface DecisionStep {
  rule: DecisionRule;
  from: number;
  to: number;
  detail: string;
}

export interface MetricDecision {
  name: string;
  observed?: number;
  /** Replicas the forecast asks for (quantile over the lead-time window, with headroom). */
  predictive?: number;
  /** Replicas the HPA formula asks for on the latest observation. */
  reactive?: number;
  /** Highest planning-quantile forecast value within the lead-time window, and when. */
  forecastPeak?: number;
  forecastPeakAt?: number;
  /** Replicas this metric asks for (max of predictive and reactive floor, or the hold without data). */
  replicas?: number;
  /** True when the metric's query returned no data, so it held the current count. */
  missingData?: boolean;
  /** Which forecast series was read: the planning quantile, or the mean when the model lacks it. */
  forecastSource?: 'quantile' | 'mean';
  /** Where the lead-time window lay: within the forecast, beyond its last point, or before its first. */
  forecastWindow?: 'within' | 'beyondEnd' | 'beforeStart';
}

export interface Decision {
  desiredReplicas: number;
  /** CamelCase reason, e.g. ScaleUp, ScaleDown, NoChange, HoldNoData. */
  reason: string;
  /** Human explanation naming every step that changed the number (status.explanation). */
  message: string;
  /** The recommendation to record for later stabilization (after schedule and min/max clamps). */
  recommendation: number;
  steps: DecisionStep[];
  /** Rules among scaleUpRate, stabilization, scaleDownRate, minReplicas, maxReplicas that held the count back. */
  limitedBy: DecisionRule[];
  metrics: MetricDecision[];
  /** True when some metric had no data, so the count was held (never scaled down). */
  missingData: boolean;
}
