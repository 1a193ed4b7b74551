// The operator's Prometheus metrics, registered on a caller-supplied registry (never the global one).

import { Counter, Gauge, Histogram, collectDefaultMetrics, type Registry } from 'prom-client';
import type { PlanReport } from '../planner/replan.js';

type Labels = Partial<Record<string, string | number>>;

/** The part of a labelled prom-client metric that forgetScaler needs. */
interface LabelledSeries {
  get(): Promise<{ values: Array<{ labels: Labels }> }>;
  remove(labels: Labels): void;
}

type ScalerLabels = 'namespace' | 'scaler';
type ScalerMetricLabels = ScalerLabels | 'metric';

export interface OperatorMetrics {
  /** Forecast of a scaler's metric, per quantile (e.g. "0.5", "0.9"). */
  forecastValue: Gauge<ScalerMetricLabels | 'quantile'>;
  /** Latest observed value of a scaler's metric. */
  observedValue: Gauge<ScalerMetricLabels>;
  /** |forecast - observed| / observed, as a percentage, for the latest matured forecast. */
  forecastAbsPctError: Gauge<ScalerMetricLabels>;
  desiredReplicas: Gauge<ScalerLabels>;
  currentReplicas: Gauge<ScalerLabels>;
  /** Lead time in effect: fixed, the Auto default, or learned from pod start-up. */
  leadTime: Gauge<ScalerLabels>;
  /** Scale subresource patches, direction "up" or "down". */
  scaleActions: Counter<ScalerLabels | 'direction'>;
  reconcileDuration: Histogram;
  reconcileErrors: Counter<'reason'>;
  modelTrainingDuration: Histogram<'model'>;
  /** Mean absolute scaled error of each candidate model on the latest backtest window. */
  modelMase: Gauge<ScalerMetricLabels | 'model'>;
  /** Prometheus query latency, outcome "success" or an error class. */
  prometheusQueryDuration: Histogram<'outcome'>;
  /** 1 while a scaler's metric runs on a fallback (reason says why), removed when it recovers. */
  forecastFallback: Gauge<ScalerMetricLabels | 'reason'>;
  /** 1 while this process holds the leader lease (or runs without leader election). */
  leader: Gauge;
  /** Rolling MASE of the forecasts made since the model was trained, scored once they matured. */
  modelLiveMase: Gauge<ScalerMetricLabels | 'model'>;
  /** 1 while a metric's model has drifted (live error far above its validation error). */
  modelDrift: Gauge<ScalerMetricLabels>;
  /** Trainings finished, by outcome ("success", "failure"). */
  trainings: Counter<'outcome'>;
  /** Training jobs waiting for a worker, and running. */
  trainingQueueDepth: Gauge;
  trainingRunning: Gauge;
  /** 1 for the TensorFlow.js backend in use ("tensorflow", "wasm" or "cpu"). */
  tfjsBackend: Gauge<'backend'>;
  /** Event-loop delay of the operator's main thread (p99 over the scrape interval). */
  eventLoopLag: Gauge;
  /** Promise rejections no code handled: logged and counted instead of crashing the process. */
  unhandledRejections: Counter;
  /** Requests to the publishing endpoints (mode: Publish): the KEDA external scaler and the external metrics API. */
  publishedRequests: Counter<'api' | 'method' | 'code'>;
  /** The plan's quantile and headroom, whether it meets the objective, and its simulated evidence beside the HPA's. */
  planQuantile: Gauge<ScalerLabels>;
  planHeadroom: Gauge<ScalerLabels>;
  planObjectiveMet: Gauge<ScalerLabels>;
  planUnderProvisioned: Gauge<ScalerLabels | 'policy'>;
  planReplicaMinutesRatio: Gauge<ScalerLabels | 'policy'>;
  planHpaTargetForObjective: Gauge<ScalerLabels>;
  /** Time per replan (simulating the grid on the history), by outcome. */
  planDuration: Histogram<'outcome'>;
  setPlan(labels: { namespace: string; scaler: string }, report: PlanReport): void;
  removePlan(labels: { namespace: string; scaler: string }): void;
  /** Removes every series labelled with this scaler, e.g. after the scaler was deleted. */
  forgetScaler(namespace: string, scaler: string): Promise<void>;
}

// 1 ms .. ~16 s, doubling: reconciles are usually milliseconds but may wait on Prometheus or the API.
const RECONCILE_BUCKETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384];
const TRAINING_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const QUERY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Values read when Prometheus scrapes, rather than pushed. */
export interface MetricSources {
  /** p99 event-loop delay in seconds since the previous call. */
  eventLoopLagSeconds?: () => number;
  training?: () => { queued: number; running: number };
}

export function createOperatorMetrics(registry: Registry, sources: MetricSources = {}): OperatorMetrics {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const forecastValue = new Gauge({
    name: 'prescale_forecast_value',
    help: 'Forecast of the scaler metric at the decision horizon, per quantile.',
    labelNames: ['namespace', 'scaler', 'metric', 'quantile'] as const,
    registers,
  });
  const observedValue = new Gauge({
    name: 'prescale_observed_value',
    help: 'Latest observed value of the scaler metric.',
    labelNames: ['namespace', 'scaler', 'metric'] as const,
    registers,
  });
  const forecastAbsPctError = new Gauge({
    name: 'prescale_forecast_abs_pct_error',
    help: 'Absolute percentage error of the latest forecast that could be checked against an observation.',
    labelNames: ['namespace', 'scaler', 'metric'] as const,
    registers,
  });
  const desiredReplicas = new Gauge({
    name: 'prescale_desired_replicas',
    help: 'Replicas the scaler decided on in its latest reconcile.',
    labelNames: ['namespace', 'scaler'] as const,
    registers,
  });
  const currentReplicas = new Gauge({
    name: 'prescale_current_replicas',
    help: 'Replicas of the scale target when last read.',
    labelNames: ['namespace', 'scaler'] as const,
    registers,
  });
  const leadTime = new Gauge({
    name: 'prescale_lead_time_seconds',
    help: 'Lead time the scaler plans with: spec.scaling.leadTime, or under Auto the p90 of recent pod start-ups (creation to Ready), with a default until enough were seen.',
    labelNames: ['namespace', 'scaler'] as const,
    registers,
  });
  const scaleActions = new Counter({
    name: 'prescale_scale_actions_total',
    help: 'Scale subresource updates made, by direction.',
    labelNames: ['namespace', 'scaler', 'direction'] as const,
    registers,
  });
  const reconcileDuration = new Histogram({
    name: 'prescale_reconcile_duration_seconds',
    help: 'Time taken by one reconcile of a PredictiveScaler.',
    buckets: RECONCILE_BUCKETS,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'prescale_reconcile_errors_total',
    help: 'Reconciles that failed, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const modelTrainingDuration = new Histogram({
    name: 'prescale_model_training_duration_seconds',
    help: 'Time taken to train a forecasting model.',
    labelNames: ['model'] as const,
    buckets: TRAINING_BUCKETS,
    registers,
  });
  const modelMase = new Gauge({
    name: 'prescale_model_mase',
    help: 'Mean absolute scaled error of each model on the latest validation window.',
    labelNames: ['namespace', 'scaler', 'metric', 'model'] as const,
    registers,
  });
  const prometheusQueryDuration = new Histogram({
    name: 'prescale_prometheus_query_duration_seconds',
    help: 'Time taken by Prometheus queries, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: QUERY_BUCKETS,
    registers,
  });
  const forecastFallback = new Gauge({
    name: 'prescale_forecast_fallback',
    help: 'Set to 1 while a scaler metric is decided by a fallback instead of a forecast.',
    labelNames: ['namespace', 'scaler', 'metric', 'reason'] as const,
    registers,
  });
  const leader = new Gauge({
    name: 'prescale_leader',
    help: '1 while this replica is the leader.',
    registers,
  });

  const modelLiveMase = new Gauge({
    name: 'prescale_model_live_mase',
    help: 'Rolling mean absolute scaled error of the forecasts made since the model was trained, on the same scale as prescale_model_mase.',
    labelNames: ['namespace', 'scaler', 'metric', 'model'] as const,
    registers,
  });
  const modelDrift = new Gauge({
    name: 'prescale_model_drift',
    help: '1 while the model of a scaler metric has drifted: its live error is far above its validation error; a statistical fallback serves until the retrain succeeds.',
    labelNames: ['namespace', 'scaler', 'metric'] as const,
    registers,
  });
  const trainings = new Counter({
    name: 'prescale_model_trainings_total',
    help: 'Model trainings finished, by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  });
  const trainingQueueDepth = new Gauge({
    name: 'prescale_training_queue_depth',
    help: 'Training jobs waiting for a training worker.',
    registers,
    collect() {
      if (sources.training) this.set(sources.training().queued);
    },
  });
  const trainingRunning = new Gauge({
    name: 'prescale_training_running',
    help: 'Training jobs running in training workers.',
    registers,
    collect() {
      if (sources.training) this.set(sources.training().running);
    },
  });
  const tfjsBackend = new Gauge({
    name: 'prescale_tfjs_backend',
    help: 'Set to 1 for the TensorFlow.js backend the models run on.',
    labelNames: ['backend'] as const,
    registers,
  });
  const eventLoopLag = new Gauge({
    name: 'prescale_event_loop_lag_p99_seconds',
    help: '99th percentile of the main thread event-loop delay since the previous scrape.',
    registers,
    collect() {
      if (sources.eventLoopLagSeconds) this.set(sources.eventLoopLagSeconds());
    },
  });

  const publishedRequests = new Counter({
    name: 'prescale_published_requests_total',
    help: 'Requests for a published recommendation (mode: Publish), by api (keda: the gRPC external scaler; external-metrics: external.metrics.k8s.io), method and result code.',
    labelNames: ['api', 'method', 'code'],
    registers,
  });

  const unhandledRejections = new Counter({
    name: 'prescale_unhandled_rejections_total',
    help: 'Promise rejections that no code handled; each is a bug, logged with its stack. The operator keeps running.',
    registers,
  });

  const scalerLabels = ['namespace', 'scaler'] as const;
  const policyLabels = ['namespace', 'scaler', 'policy'] as const;
  const planQuantile = new Gauge({ name: 'prescale_plan_quantile', help: 'Forecast quantile the plan acts on.', labelNames: scalerLabels, registers });
  const planHeadroom = new Gauge({ name: 'prescale_plan_headroom_ratio', help: 'Headroom the plan adds (0.1 = 10%).', labelNames: scalerLabels, registers });
  const planObjectiveMet = new Gauge({
    name: 'prescale_plan_objective_met',
    help: '1 when the plan met spec.scaling.objective in simulation on the recent history, 0 when no plan of the grid did.',
    labelNames: scalerLabels,
    registers,
  });
  const planUnderProvisioned = new Gauge({
    name: 'prescale_plan_simulated_under_provisioned_ratio',
    help: 'Share of simulated minutes with Ready capacity below demand on the recent history: policy "prescale" (the plan) or "hpa" (the HPA at targetPerReplica).',
    labelNames: policyLabels,
    registers,
  });
  const planReplicaMinutesRatio = new Gauge({
    name: 'prescale_plan_simulated_replica_minutes_ratio',
    help: "Simulated replica-minutes on the recent history against the oracle's (replicas that exactly serve each minute), per policy.",
    labelNames: policyLabels,
    registers,
  });
  const planHpaTargetForObjective = new Gauge({
    name: 'prescale_plan_hpa_target_for_objective',
    help: 'Highest HPA target utilization (of 1.0 .. 0.4) whose simulated run meets the objective; absent when none does.',
    labelNames: scalerLabels,
    registers,
  });
  const planDuration = new Histogram({
    name: 'prescale_plan_duration_seconds',
    help: 'Time per replan, from submission to the training workers to the result, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: TRAINING_BUCKETS,
    registers,
  });
  const planSeries: LabelledSeries[] = [planQuantile, planHeadroom, planObjectiveMet, planUnderProvisioned, planReplicaMinutesRatio, planHpaTargetForObjective];

  function setPlan(labels: { namespace: string; scaler: string }, r: PlanReport): void {
    planQuantile.set(labels, r.plan.quantile);
    planHeadroom.set(labels, r.plan.headroom);
    planObjectiveMet.set(labels, r.met ? 1 : 0);
    planUnderProvisioned.set({ ...labels, policy: 'prescale' }, r.simulated.underProvisioned);
    planUnderProvisioned.set({ ...labels, policy: 'hpa' }, r.hpa.underProvisioned);
    planReplicaMinutesRatio.set({ ...labels, policy: 'prescale' }, r.simulated.replicaMinutesRatio);
    planReplicaMinutesRatio.set({ ...labels, policy: 'hpa' }, r.hpa.replicaMinutesRatio);
    if (r.hpa.targetForObjective !== undefined) planHpaTargetForObjective.set(labels, r.hpa.targetForObjective);
    else planHpaTargetForObjective.remove(labels);
  }

  function removePlan(labels: { namespace: string; scaler: string }): void {
    for (const g of [planQuantile, planHeadroom, planObjectiveMet, planHpaTargetForObjective]) g.remove(labels);
    for (const policy of ['prescale', 'hpa']) {
      planUnderProvisioned.remove({ ...labels, policy });
      planReplicaMinutesRatio.remove({ ...labels, policy });
    }
  }

  const perScaler: LabelledSeries[] = [
    ...planSeries,
    modelLiveMase,
    modelDrift,
    forecastValue,
    observedValue,
    forecastAbsPctError,
    desiredReplicas,
    currentReplicas,
    leadTime,
    scaleActions,
    modelMase,
    forecastFallback,
  ];

  async function forgetScaler(namespace: string, scaler: string): Promise<void> {
    for (const metric of perScaler) {
      const { values } = await metric.get();
      for (const { labels } of values) {
        if (labels.namespace === namespace && labels.scaler === scaler) metric.remove(labels);
      }
    }
  }

  return {
    forecastValue,
    observedValue,
    forecastAbsPctError,
    desiredReplicas,
    currentReplicas,
    leadTime,
    scaleActions,
    reconcileDuration,
    reconcileErrors,
    modelTrainingDuration,
    modelMase,
    prometheusQueryDuration,
    forecastFallback,
    leader,
    modelLiveMase,
    modelDrift,
    trainings,
    trainingQueueDepth,
    trainingRunning,
    tfjsBackend,
    eventLoopLag,
    unhandledRejections,
    publishedRequests,
    planQuantile,
    planHeadroom,
    planObjectiveMet,
    planUnderProvisioned,
    planReplicaMinutesRatio,
    planHpaTargetForObjective,
    planDuration,
    setPlan,
    removePlan,
    forgetScaler,
  };
}
