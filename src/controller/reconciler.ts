// One reconcile of one PredictiveScaler (SPEC sections 3 and 4): re-read the scaler and its target,
// pull metric history, forecast, decide, patch the scale subresource when allowed, and report in
// status, Events, logs and metrics. Level-triggered: everything is re-read on every call.
import type { Logger } from 'pino';
import { DEFAULT_LEAD_TIME_MS, SpecError, toScalerConfig, type ScalerConfig } from '../api/config.js';
import { PAUSED_ANNOTATION, type Condition, type ModelStatus, type PredictiveScaler, type PredictiveScalerStatus } from '../api/types.js';
import { formatDuration } from '../api/units.js';
import { decide } from '../decision/decide.js';
import { formatPercent } from '../decision/format.js';
import { DecisionHistory } from '../decision/history.js';
import type { Decision, MetricInput } from '../decision/types.js';
import type { Forecast, Series } from '../forecast/types.js';
import { apiErrorMessage, apiStatusCode, TargetError } from '../kube/errors.js';
import type { EventRecorder } from '../kube/events.js';
import type { AutoscalerIndex } from '../kube/hpa-index.js';
import { checkAutoscalers, type AutoscalerVerdict } from './autoscalers.js';
import type { StartupHistory } from '../kube/pod-startups.js';
import type { ScaleClient, TargetScale } from '../kube/scale.js';
import type { StatusWriter } from '../kube/status-writer.js';
import { scalerLogger } from '../observability/logger.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import {
  PrometheusAuthError,
  PrometheusQueryError,
  PrometheusRedirectError,
  PrometheusResponseTooLargeError,
  PrometheusTooManySeriesError,
  PrometheusUnavailableError,
} from '../prometheus/errors.js';
import { INTENTIONAL_REASONS, mergeConditions, newlyBad, type ConditionUpdate } from './conditions.js';
import type { HistoryCache, RangeSource } from './history-cache.js';
import { leadTimeInEffect } from './lead-time.js';
import type { ModelStore } from '../kube/model-store.js';
import type { ModelManager, ModelOutcome, ModelPersistence } from './models.js';
import type { PlanManager, PlanView } from './plans.js';
import { planStatus, planSummary } from './plan-report.js';
import { applyPlan } from '../planner/replan.js';
import { PrometheusConfigError } from './prometheus-provider.js';
import { PromQLEnforceError } from '../prometheus/enforce-label.js';
import {
  forecastAbsPctError,
  forecastSteps,
  forecastSummary,
  latestObservation,
  modelStatuses,
  planningPointValues,
  requestedQuantiles,
} from './forecast-report.js';

export interface ReconcilerDeps {
  getScaler(namespace: string, name: string): PredictiveScaler | undefined;
  scale: ScaleClient;
  status: StatusWriter;
  events: EventRecorder;
  autoscalers: AutoscalerIndex;
  /** Observed pod start-ups, from which `leadTime: Auto` is learned; none: learning is off (--no-learn-lead-time). */
  podStartups?: StartupHistory;
  prometheus: { clientFor(namespace: string, cfg: ScalerConfig): Promise<RangeSource> };
  models: ModelManager;
  /** Plans for scalers with an objective or Auto fields; none: such scalers act on the defaults. */
  plans?: PlanManager;
  /** Where trained models are kept across operator restarts; none: they are kept in memory only. */
  modelStore?: ModelStore;
  history: HistoryCache;
  /** How long one reconcile may wait for Prometheus in all. Default 30 s. */
  prometheusDeadlineMs?: number;
  metrics: OperatorMetrics;
  /** Told what each reconcile saw (the web view's timeline); none: nothing is recorded. */
  observer?: ReconcileObserver;
  logger: Logger;
  now: () => number;
}

/** What one reconcile that reached its decision saw and did. */
export interface ReconcileObservation {
  now: number;
  /** spec.replicas of the target when the reconcile read it. */
  currentReplicas: number;
  desiredReplicas: number;
  /** The target's pod selector (status.selector of its scale), when its kind reports one. */
  selector?: string;
  planningQuantile: number;
  leadTimeMs: number;
  metrics: { name: string; history?: Series; observed?: number; forecast?: Forecast }[];
  /** Set when this reconcile changed the target's replicas. */
  scaled?: { from: number; to: number };
  explanation: string;
}

export interface ReconcileObserver {
  reconciled(key: string, observation: ReconcileObservation): void;
  /** The scaler was deleted (or re-created under the same name). */
  forget(key: string): void;
}

export interface ReconcileResult {
  /** When to look again; undefined: only when the scaler changes. */
  requeueAfterMs?: number;
  /** What was decided (for tests and logs). */
  decision?: Decision;
  scaled?: { from: number; to: number };
}

interface MetricMemory {
  /** Recent forecasts, to score them once what they predicted has happened. */
  forecasts: { madeAt: number; forecast: Forecast }[];
}

interface ScalerMemory {
  uid?: string;
  decisions: DecisionHistory;
  metrics: Map<string, MetricMemory>;
}

type MetricProblem = {
  reason: 'InvalidQuery' | 'PrometheusUnavailable' | 'PrometheusAuth' | 'PrometheusConfig' | 'TooManySeries' | 'PrometheusResponseTooLarge' | 'NoData';
  message: string;
};

const DEFAULT_PROMETHEUS_DEADLINE_MS = 30_000;

export class Reconciler {
  private readonly memory = new Map<string, ScalerMemory>();

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Drops everything kept for a scaler (it was deleted). */
  forget(key: string): void {
    const [namespace, name] = splitKey(key);
    this.memory.delete(key);
    this.deps.observer?.forget(key);
    this.deps.history.forget(`${key}/`);
    this.deps.models.forget(`${key}/`);
    this.deps.plans?.forget(key);
    this.deps.metrics.forgetScaler(namespace, name).catch((err: unknown) => {
      this.deps.logger.warn({ namespace, scaler: name, err: (err as Error)?.message ?? String(err) }, 'could not remove the metrics of a deleted scaler');
    });
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = splitKey(key);
    const scaler = this.deps.getScaler(namespace, name);
    if (!scaler) {
      this.forget(key);
      return {};
    }
    const end = this.deps.metrics.reconcileDuration.startTimer();
    try {
      return await this.reconcileScaler(key, scaler);
    } finally {
      end();
    }
  }

  private async reconcileScaler(key: string, scaler: PredictiveScaler): Promise<ReconcileResult> {
    const { namespace, name } = scaler.metadata;
    const log = scalerLogger(this.deps.logger, namespace, name);
    const now = this.deps.now();
    const memory = this.memoryFor(key, scaler.metadata.uid);
    const report = new StatusReport(scaler, now);

    let cfg: ScalerConfig;
    try {
      cfg = toScalerConfig(scaler.spec);
    } catch (err) {
      if (!(err instanceof SpecError)) throw err;
      report.condition('Ready', 'False', 'InvalidSpec', err.message);
      report.condition('AbleToScale', 'False', 'InvalidSpec', 'the spec is invalid; nothing is scaled until it is fixed');
      await this.finish(scaler, report, log);
      return {};
    }

    if (cfg.mode === 'Off') {
      report.condition('Ready', 'True', 'ModeOff', 'mode is Off: nothing is queried, forecast or scaled');
      report.condition('AbleToScale', 'False', 'ModeOff', 'mode is Off');
      await this.finish(scaler, report, log);
      return {};
    }

    let target: TargetScale;
    try {
      target = await this.deps.scale.getScale(namespace, cfg.scaleTargetRef);
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      report.condition('Ready', 'False', err.reason, err.message);
      report.condition('AbleToScale', 'False', err.reason, err.message);
      await this.finish(scaler, report, log);
      return { requeueAfterMs: cfg.intervalMs };
    }
    report.status.currentReplicas = target.replicas;
    this.deps.metrics.currentReplicas.set({ namespace, scaler: name }, target.replicas);

    const autoscalers = checkAutoscalers(cfg.mode, name, cfg.scaleTargetRef, this.deps.autoscalers.autoscalersOf(namespace, cfg.scaleTargetRef));
    if (autoscalers.kind === 'conflict') {
      report.condition('Ready', 'False', 'ConflictingAutoscaler', autoscalers.message);
      report.condition('AbleToScale', 'False', 'ConflictingAutoscaler', autoscalers.message);
      await this.finish(scaler, report, log);
      return { requeueAfterMs: cfg.intervalMs };
    }

    const lead = leadTimeInEffect({
      fixedMs: cfg.scaling.leadTimeMs,
      startupsMs: cfg.scaling.leadTimeMs === null && target.selector ? this.deps.podStartups?.startupsFor(namespace, target.selector) : undefined,
      defaultMs: DEFAULT_LEAD_TIME_MS,
      intervalMs: cfg.intervalMs,
      stepMs: cfg.forecast.stepMs,
      learning: this.deps.podStartups !== undefined,
    });
    const leadTimeMs = lead.leadTimeMs;
    report.status.leadTime = formatDuration(leadTimeMs);
    report.status.leadTimeSource = lead.source;
    this.deps.metrics.leadTime.set({ namespace, scaler: name }, leadTimeMs / 1000);

    // The plan made earlier (in the background) sets the Auto fields; until there is one they keep the defaults.
    const planView = this.deps.plans?.view(key, cfg);
    const spec = cfg;
    cfg = applyPlan(spec, planView?.state === 'Planned' ? planView.report.plan : undefined);
    const { inputs, problems, outcomes, histories } = await this.gatherMetrics(key, scaler, cfg, now, leadTimeMs, memory, log);
    this.deps.plans?.refresh(key, spec, histories.get(spec.metrics[0]!.name), { leadTimeMs });

    const decided = decide({
      now,
      config: cfg,
      currentReplicas: target.replicas,
      leadTimeMs,
      metrics: inputs,
      recommendations: memory.decisions.recommendations,
      scaleEvents: memory.decisions.scaleEvents,
    });
    const planText = planView ? planSummary(spec, planView) : undefined;
    const decision = planText ? { ...decided, message: `${planText}; ${decided.message}` } : decided;
    this.reportPlan(report, scaler, spec, planView);

    const paused = scaler.metadata.annotations?.[PAUSED_ANNOTATION] === 'true';
    let scaled: ReconcileResult['scaled'];
    if (cfg.mode === 'Auto' && !paused && decision.desiredReplicas !== target.replicas) {
      try {
        await this.deps.scale.setReplicas(namespace, cfg.scaleTargetRef, decision.desiredReplicas);
      } catch (err) {
        if (!(err instanceof TargetError)) throw err;
        report.condition('Ready', 'False', err.reason, err.message);
        report.condition('AbleToScale', 'False', 'FailedUpdateScale', err.message);
        await this.finish(scaler, report, log);
        return { requeueAfterMs: cfg.intervalMs, decision };
      }
      scaled = { from: target.replicas, to: decision.desiredReplicas };
      report.status.lastScaleTime = new Date(now).toISOString();
      report.status.currentReplicas = decision.desiredReplicas;
      const direction = scaled.to > scaled.from ? 'up' : 'down';
      this.deps.metrics.scaleActions.inc({ namespace, scaler: name, direction });
      log.info({ from: scaled.from, to: scaled.to, reason: decision.reason, explanation: decision.message }, `scaled ${direction}`);
      await this.deps.events.record(scaler, {
        type: 'Normal',
        reason: direction === 'up' ? 'ScaledUp' : 'ScaledDown',
        action: 'Scale',
        note: `${cfg.scaleTargetRef.kind} ${cfg.scaleTargetRef.name} ${scaled.from} -> ${scaled.to}: ${decision.message}`,
      });
    }

    memory.decisions.record(cfg, now, decision.recommendation, scaled);
    this.tellObserver(key, log, {
      now,
      currentReplicas: target.replicas,
      desiredReplicas: decision.desiredReplicas,
      ...(target.selector !== undefined ? { selector: target.selector } : {}),
      planningQuantile: cfg.forecast.quantile,
      leadTimeMs,
      metrics: inputs.map((input) => ({ ...input, history: histories.get(input.name) })),
      ...(scaled ? { scaled } : {}),
      explanation: decision.message,
    });
    this.describeDecision(report, cfg, decision, problems, outcomes, paused, scaled !== undefined, autoscalers);
    this.deps.metrics.desiredReplicas.set({ namespace, scaler: name }, decision.desiredReplicas);
    log.debug({ desired: decision.desiredReplicas, current: target.replicas, explanation: decision.message, leadTime: `${formatDuration(leadTimeMs)}: ${lead.detail}` }, 'reconciled');
    await this.finish(scaler, report, log);
    return { requeueAfterMs: cfg.intervalMs, decision, scaled };
  }

  private async gatherMetrics(
    key: string,
    scaler: PredictiveScaler,
    cfg: ScalerConfig,
    now: number,
    leadTimeMs: number,
    memory: ScalerMemory,
    log: Logger,
  ) {
    const { namespace, name } = scaler.metadata;
    const inputs: MetricInput[] = [];
    const problems = new Map<string, MetricProblem>();
    const outcomes = new Map<string, ModelOutcome>();
    const histories = new Map<string, Series>();
    let source: RangeSource | undefined;
    try {
      source = await this.deps.prometheus.clientFor(namespace, cfg);
    } catch (err) {
      if (!(err instanceof PrometheusConfigError)) throw err;
      for (const m of cfg.metrics) problems.set(m.name, { reason: 'PrometheusConfig', message: err.message });
    }
    const quantiles = requestedQuantiles(cfg);
    // One deadline for every query of this reconcile: a slow server cannot hold a worker longer.
    const deadline = AbortSignal.timeout(this.deps.prometheusDeadlineMs ?? DEFAULT_PROMETHEUS_DEADLINE_MS);
    for (const m of cfg.metrics) {
      if (!source) {
        inputs.push({ name: m.name });
        continue;
      }
      const labels = { namespace, scaler: name, metric: m.name };
      let series;
      try {
        series = await this.deps.history.load(`${key}/${m.name}`, source, m.query, now, cfg.forecast.historyMs, cfg.forecast.stepMs, deadline);
      } catch (err) {
        const problem = metricProblem(err);
        if (!problem) throw err;
        problems.set(m.name, { reason: problem.reason, message: `metric ${m.name}: ${problem.message}` });
        log.warn({ metric: m.name, reason: problem.reason, err: problem.message }, 'metric query failed');
        inputs.push({ name: m.name });
        continue;
      }
      histories.set(m.name, series);
      const observation = latestObservation(series, now);
      if (!observation) {
        problems.set(m.name, {
          reason: 'NoData',
          message: `metric ${m.name}: the query returned no recent samples; check that it selects existing series`,
        });
        inputs.push({ name: m.name });
        continue;
      }
      this.deps.metrics.observedValue.set(labels, observation.value);

      const steps = forecastSteps(series, cfg, now, leadTimeMs);
      const modelKey = `${key}/${m.name}`;
      const persistence = this.persistenceFor(scaler, m.name, log);
      if (persistence && this.deps.models.needsRestore(modelKey)) await this.restoreModel(modelKey, cfg, persistence, m.name, log);
      const outcome = this.deps.models.forecast(modelKey, series, cfg, steps, quantiles, persistence);
      outcomes.set(m.name, outcome);
      await this.reportModelEvents(scaler, m.name, outcome, log);
      for (const m of modelStatuses(outcome)) {
        if (m.mase !== undefined) this.deps.metrics.modelMase.set({ ...labels, model: m.name }, m.mase);
      }
      if (outcome.liveMase !== undefined && outcome.model) this.deps.metrics.modelLiveMase.set({ ...labels, model: outcome.model }, outcome.liveMase);
      this.deps.metrics.modelDrift.set(labels, outcome.drift ? 1 : 0);
      this.reportFallback(labels, outcome);

      const mm = memory.metrics.get(m.name) ?? { forecasts: [] };
      memory.metrics.set(m.name, mm);
      const pctError = forecastAbsPctError(mm.forecasts, observation, leadTimeMs);
      if (pctError !== undefined) this.deps.metrics.forecastAbsPctError.set(labels, pctError);
      if (outcome.forecast) {
        mm.forecasts = [...mm.forecasts.filter((f) => f.madeAt > now - cfg.forecast.horizonMs - leadTimeMs), { madeAt: now, forecast: outcome.forecast }];
        for (const [q, v] of planningPointValues(outcome.forecast, now + leadTimeMs)) {
          this.deps.metrics.forecastValue.set({ ...labels, quantile: q }, v);
        }
      }
      inputs.push({ name: m.name, observed: observation.value, forecast: outcome.forecast });
    }
    return { inputs, problems, outcomes, histories };
  }

  /** status.plan, the ObjectiveMet condition and the plan's metrics; all removed when the spec plans nothing. */
  private reportPlan(report: StatusReport, scaler: PredictiveScaler, spec: ScalerConfig, view: PlanView | undefined): void {
    const labels = { namespace: scaler.metadata.namespace, scaler: scaler.metadata.name };
    if (!view) {
      report.dropPlan();
      this.deps.metrics.removePlan(labels);
      return;
    }
    if (view.state === 'Planned') {
      const r = view.report;
      report.status.plan = planStatus(r);
      report.condition(
        'ObjectiveMet',
        r.met ? 'True' : 'False',
        r.met ? 'ObjectiveMet' : 'ObjectiveNotMet',
        r.met ? r.reason : `${r.reason}; acting on it, since it comes closest`,
      );
      this.deps.metrics.setPlan(labels, r);
      return;
    }
    report.dropPlan(false);
    const defaults = `acting on quantile ${spec.forecast.quantile} and headroom ${formatPercent(spec.scaling.headroom)} until a plan exists`;
    report.condition('ObjectiveMet', 'Unknown', view.state === 'Pending' ? 'Planning' : 'PlanningUnavailable', `${view.message}; ${defaults}`);
    this.deps.metrics.removePlan(labels);
  }

  /** A failing observer is logged; it never fails the reconcile. */
  private tellObserver(key: string, log: Logger, observation: ReconcileObservation): void {
    try {
      this.deps.observer?.reconciled(key, observation);
    } catch (err) {
      log.warn({ err: (err as Error)?.message ?? String(err) }, 'the reconcile observer failed');
    }
  }

  /** The model store bound to one scaler metric, when the operator persists models. */
  private persistenceFor(scaler: PredictiveScaler, metric: string, log: Logger): ModelPersistence | undefined {
    const store = this.deps.modelStore;
    const { namespace, name, uid } = scaler.metadata;
    if (!store || !uid) return undefined;
    const ref = { namespace, name, uid };
    return {
      load: async () => {
        const result = await store.load(ref, metric);
        if ('discarded' in result) log.warn({ metric, reason: result.discarded }, 'saved model discarded');
        return 'record' in result ? (result.record as ModelRecordLike) : undefined;
      },
      save: async (record) => {
        const result = await store.save(ref, metric, record);
        if ('skipped' in result) throw new Error(`the trained model was not saved: ${result.skipped}`);
        log.debug({ metric, bytes: result.bytes }, 'trained model saved');
      },
      discard: (reason) => store.discard(ref, metric, reason),
    };
  }

  private async restoreModel(modelKey: string, cfg: ScalerConfig, persistence: ModelPersistence, metric: string, log: Logger): Promise<void> {
    try {
      const restored = await this.deps.models.restore(modelKey, cfg, persistence);
      if ('discarded' in restored) log.warn({ metric, reason: restored.discarded }, 'saved model discarded; training afresh');
    } catch (err) {
      // The store being unreachable only means training from scratch later; try again next time.
      log.warn({ metric, err: (err as Error).message }, 'could not load the saved model');
    }
  }

  /** Logs, Events and counters for what happened to a metric's model since the last reconcile. */
  private async reportModelEvents(scaler: PredictiveScaler, metric: string, outcome: ModelOutcome, log: Logger): Promise<void> {
    for (const e of outcome.events) {
      switch (e.type) {
        case 'Trained':
          this.deps.metrics.trainings.inc({ outcome: 'success' });
          log.info({ metric, model: e.model, seconds: e.seconds, mase: e.mase, details: outcome.details }, 'model trained');
          break;
        case 'Restored':
          log.info({ metric, model: e.model, trainedAt: new Date(e.trainedAt).toISOString() }, 'model restored from the model store');
          break;
        case 'PersistFailed':
          log.warn({ metric, err: e.message }, 'trained model not persisted');
          break;
        case 'RestoreDiscarded':
          log.warn({ metric, model: e.model, reason: e.message }, 'restored model discarded');
          break;
        case 'TrainingFailed':
          this.deps.metrics.trainings.inc({ outcome: 'failure' });
          log.warn({ metric, err: e.message }, 'model training failed');
          await this.deps.events.record(scaler, { type: 'Warning', reason: 'TrainingFailed', action: 'Train', note: `metric ${metric}: ${e.message}` });
          break;
        case 'DriftDetected':
          log.warn({ metric, drift: e.message }, 'model drift detected');
          await this.deps.events.record(scaler, { type: 'Warning', reason: 'ModelDrift', action: 'Forecast', note: `metric ${metric}: ${e.message}` });
          break;
      }
    }
  }

  /** prescale_forecast_fallback: 1 under the reason a metric is not served by its requested model. */
  private reportFallback(labels: { namespace: string; scaler: string; metric: string }, outcome: ModelOutcome): void {
    const reason = outcome.fallbackKind ?? outcome.unavailable?.reason;
    for (const r of FALLBACK_REASONS) {
      if (r !== reason) this.deps.metrics.forecastFallback.remove({ ...labels, reason: r });
    }
    if (reason) this.deps.metrics.forecastFallback.set({ ...labels, reason }, 1);
  }

  private describeDecision(
    report: StatusReport,
    cfg: ScalerConfig,
    decision: Decision,
    problems: Map<string, MetricProblem>,
    outcomes: Map<string, ModelOutcome>,
    paused: boolean,
    scaled: boolean,
    autoscalers: AutoscalerVerdict,
  ): void {
    const s = report.status;
    s.desiredReplicas = decision.desiredReplicas;
    s.explanation = decision.message;

    const summary = forecastSummary(cfg, decision, outcomes, report.now);
    if (summary) s.forecast = summary;
    // One entry per model (an Ensemble lists its members with their weights); with several metrics
    // on one model, the worst (highest) MASE is shown.
    const models = new Map<string, ModelStatus>();
    for (const o of outcomes.values()) {
      for (const m of modelStatuses(o)) {
        const prev = models.get(m.name);
        const mase = m.mase === undefined ? prev?.mase : Math.max(m.mase, prev?.mase ?? -Infinity);
        models.set(m.name, { ...m, ...(mase !== undefined ? { mase } : {}) });
      }
    }
    if (models.size > 0) s.models = [...models.values()];

    const hardProblems = [...problems.values()].filter((p) => p.reason !== 'NoData' && p.reason !== 'PrometheusUnavailable');
    const unavailable = [...problems.values()].filter((p) => p.reason === 'PrometheusUnavailable' || p.reason === 'NoData');
    if (hardProblems.length > 0) {
      report.condition('Ready', 'False', hardProblems[0]!.reason, hardProblems.map((p) => p.message).join('; '));
    } else {
      report.condition('Ready', 'True', 'Reconciled', 'forecast and decision computed');
    }

    if (paused) {
      report.condition('AbleToScale', 'False', 'Paused', `annotation ${PAUSED_ANNOTATION}="true": decisions are computed and reported, nothing is scaled`);
    } else if (autoscalers.kind === 'published') {
      report.condition('AbleToScale', autoscalers.consumed ? 'True' : 'False', autoscalers.consumed ? 'Published' : 'NotConsumed', autoscalers.message);
    } else if (cfg.mode === 'ForecastOnly') {
      report.condition('AbleToScale', 'False', 'ForecastOnly', 'mode is ForecastOnly: decisions are computed and reported, nothing is scaled');
    } else {
      report.condition('AbleToScale', 'True', scaled ? 'SucceededRescale' : 'ReadyForNewScale', scaled ? 'the target was scaled' : 'the target can be scaled');
    }

    const withForecast = [...outcomes.entries()].filter(([, o]) => o.forecast);
    const withoutForecast = cfg.metrics.filter((m) => !withForecast.some(([n]) => n === m.name));
    if (withoutForecast.length === 0) {
      const used = withForecast.map(([n, o]) => `${n}: ${o.model}${o.fallbackReason ? ` (${o.fallbackReason})` : ''}`);
      const drifting = withForecast.some(([, o]) => o.drift);
      const coldStart = withForecast.some(([, o]) => o.fallbackKind === 'ColdStart');
      report.condition('ForecastAvailable', 'True', drifting ? 'ModelDrift' : coldStart ? 'ColdStart' : 'ForecastComputed', used.join('; '));
    } else {
      const first = withoutForecast[0]!;
      const o = outcomes.get(first.name);
      const p = problems.get(first.name);
      const reason = o?.unavailable?.reason ?? p?.reason ?? 'NoForecast';
      const messages = withoutForecast.map((m) => outcomes.get(m.name)?.unavailable?.message ?? problems.get(m.name)?.message ?? `metric ${m.name}: no forecast`);
      report.condition('ForecastAvailable', 'False', reason, `${messages.join('; ')}; scaling reactively`);
    }

    const limited = decision.limitedBy;
    if (limited.length > 0) {
      const reason = LIMIT_REASON[limited[0]!] ?? 'ScalingLimited';
      const details = decision.steps.filter((st) => limited.includes(st.rule)).map((st) => `${st.rule}: ${st.from} -> ${st.to} (${st.detail})`);
      report.condition('ScalingLimited', 'True', reason, details.join('; '));
    } else {
      report.condition('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count was not limited');
    }

    if (unavailable.length > 0 || hardProblems.length > 0) {
      const all = [...unavailable, ...hardProblems];
      report.condition('Degraded', 'True', all[0]!.reason, `${all.map((p) => p.message).join('; ')}; holding replicas (never scaling down) for those metrics`);
    } else {
      report.condition('Degraded', 'False', 'Healthy', 'every metric has data');
    }
  }

  private async finish(scaler: PredictiveScaler, report: StatusReport, log: Logger): Promise<void> {
    const previous = scaler.status?.conditions;
    let written: boolean;
    try {
      written = await this.deps.status.update(scaler, (current) => report.statusFor(current));
    } catch (err) {
      // 422: the API server validates the whole object on a status write, so a stored spec that the
      // CRD's rules cannot evaluate (a value of the wrong type) blocks every status. An Event is then
      // the only place the user can read why; the error still backs the scaler off.
      if (apiStatusCode(err) === 422) {
        await this.deps.events.record(scaler, {
          type: 'Warning',
          reason: 'StatusRejected',
          action: 'Reconcile',
          note: `the API server refused this scaler's status, so the spec holds a value its rules cannot check (fix the spec): ${apiErrorMessage(err).slice(0, 500)}`,
        });
      }
      throw err;
    }
    const next = report.statusFor(scaler, true)!.conditions ?? [];
    if (!written) return;
    for (const c of newlyBad(previous, next)) {
      const intentional = INTENTIONAL_REASONS.has(c.reason);
      if (!intentional) log.warn({ condition: c.type, reason: c.reason, message: c.message }, 'condition turned bad');
      await this.deps.events.record(scaler, {
        type: intentional ? 'Normal' : 'Warning',
        reason: c.reason,
        action: 'Reconcile',
        note: `${c.type}: ${c.message}`,
      });
    }
  }

  private memoryFor(key: string, uid: string | undefined): ScalerMemory {
    let m = this.memory.get(key);
    if (!m || m.uid !== uid) {
      // A new object under an old name starts with a clean slate.
      if (m) this.forget(key);
      m = { uid, decisions: new DecisionHistory(), metrics: new Map() };
      this.memory.set(key, m);
    }
    return m;
  }
}

const FALLBACK_REASONS = ['ModelUnavailable', 'ModelFailed', 'ModelDrift', 'ColdStart', 'InsufficientHistory', 'ModelTraining'];

type ModelRecordLike = Parameters<ModelPersistence['save']>[0];

const LIMIT_REASON: Record<string, string> = {
  scaleUpRate: 'ScaleUpLimit',
  stabilization: 'ScaleDownStabilized',
  scaleDownRate: 'ScaleDownLimit',
  minReplicas: 'TooFewReplicas',
  maxReplicas: 'TooManyReplicas',
};

function metricProblem(err: unknown): MetricProblem | undefined {
  if (err instanceof PrometheusQueryError) return { reason: 'InvalidQuery', message: err.message };
  if (err instanceof PromQLEnforceError) return { reason: 'InvalidQuery', message: `the query cannot be confined to this namespace: ${err.message}` };
  if (err instanceof PrometheusTooManySeriesError) return { reason: 'TooManySeries', message: err.message };
  if (err instanceof PrometheusResponseTooLargeError) return { reason: 'PrometheusResponseTooLarge', message: err.message };
  if (err instanceof PrometheusRedirectError) return { reason: 'PrometheusConfig', message: err.message };
  if (err instanceof PrometheusUnavailableError) return { reason: 'PrometheusUnavailable', message: err.message };
  if (err instanceof PrometheusAuthError) return { reason: 'PrometheusAuth', message: err.message };
  return undefined;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** Collects one reconcile's status; conditions are merged with the stored ones when written. */
class StatusReport {
  readonly status: PredictiveScalerStatus = {};
  private readonly updates: ConditionUpdate[] = [];
  private planDropped = false;
  private objectiveDropped = false;

  /** Removes status.plan, and the ObjectiveMet condition too unless `condition` is false. */
  dropPlan(condition = true): void {
    this.planDropped = true;
    this.objectiveDropped = condition;
  }

  constructor(
    private readonly scaler: PredictiveScaler,
    readonly now: number,
  ) {}

  condition(type: ConditionUpdate['type'], status: ConditionUpdate['status'], reason: string, message: string): void {
    const i = this.updates.findIndex((u) => u.type === type);
    const u = { type, status, reason, message: message.slice(0, 32_000) };
    if (i >= 0) this.updates[i] = u;
    else this.updates.push(u);
  }

  /**
   * The full status to write over `current`'s, or undefined when it would not change anything.
   * Fields this reconcile did not learn (e.g. the forecast while Prometheus is down) are kept.
   */
  statusFor(current: PredictiveScaler, always = false): PredictiveScalerStatus | undefined {
    const old = current.status ?? {};
    const generation = this.scaler.metadata.generation;
    const kept = this.objectiveDropped ? old.conditions?.filter((c) => c.type !== 'ObjectiveMet') : old.conditions;
    const next: PredictiveScalerStatus = {
      ...old,
      ...this.status,
      observedGeneration: generation,
      conditions: mergeConditions(kept, this.updates, new Date(this.now), generation),
    };
    if (this.planDropped) delete next.plan;
    if (!always && sameStatus(old, next)) return undefined;
    return next;
  }
}

/** The forecast summary in status is refreshed at least this often even when it barely moved. */
export const FORECAST_REFRESH_MS = 5 * 60_000;

/**
 * Whether writing `b` over `a` would tell a reader nothing new. Each reconcile recomputes the
 * forecast, so its time stamp, its exact figures and the explanation quoting them move every time;
 * rewriting status for that alone would cost one API write per scaler per interval. They count only
 * when the forecast moved materially (two significant digits) or the stored one is FORECAST_REFRESH_MS
 * old; everything else (replicas, models, conditions, lead time) counts exactly.
 */
export function sameStatus(a: PredictiveScalerStatus, b: PredictiveScalerStatus): boolean {
  if (a.forecast && b.forecast && Date.parse(b.forecast.generatedAt) - Date.parse(a.forecast.generatedAt) >= FORECAST_REFRESH_MS) return false;
  return JSON.stringify(normalize(a)) === JSON.stringify(normalize(b));
}

function normalize(s: PredictiveScalerStatus): unknown {
  const keys = (Object.keys(s) as (keyof PredictiveScalerStatus)[]).filter((k) => k !== 'explanation' && s[k] !== undefined).sort();
  return keys.map((k) => [k, k === 'conditions' ? (s.conditions ?? []).map(conditionKey) : k === 'forecast' ? forecastKey(s.forecast) : canonical(s[k])]);
}

/** The value with every object's keys in sorted order: the API server returns them sorted. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

function forecastKey(f: PredictiveScalerStatus['forecast']): unknown {
  if (!f) return f;
  const coarse = (x: number) => Number(x.toPrecision(2));
  return [f.model, coarse(f.peak), coarse(f.lower), coarse(f.upper)];
}

function conditionKey(c: Condition): unknown {
  return [c.type, c.status, c.reason, c.message, c.lastTransitionTime, c.observedGeneration];
}

