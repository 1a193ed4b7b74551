// `prescale forecast`: one forecast and decision for a PredictiveScaler manifest against a live
// Prometheus, using the same model manager, decision code and report helpers as the operator.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_LEAD_TIME_MS, toScalerConfig } from '../api/config.js';
import { KIND, type PredictiveScaler } from '../api/types.js';
import { formatDuration } from '../api/units.js';
import { forecastSteps, forecastSummary, latestObservation, requestedQuantiles } from '../controller/forecast-report.js';
import { ModelManager, type ModelOutcome } from '../controller/models.js';
import { decide } from '../decision/decide.js';
import type { Decision, MetricInput } from '../decision/types.js';
import type { ForecastStatus } from '../api/types.js';
import type { RangeSource } from '../controller/history-cache.js';
import { formatPlanLines, planStatus } from '../controller/plan-report.js';
import type { PlanStatus } from '../api/types.js';
import { applyPlan, replan } from '../planner/replan.js';
import type { Series } from '../forecast/types.js';

export interface OneShotResult {
  scaler: string;
  now: string;
  currentReplicas: number;
  leadTime: string;
  decision: Decision;
  forecast?: ForecastStatus;
  /** With an objective or Auto fields: the plan made on the history just queried, as the operator would. */
  plan?: PlanStatus;
  /** Why there is no plan, when the spec asks for one. */
  planUnavailable?: string;
  models: { metric: string; model?: string; fallbackReason?: string; unavailable?: string; details?: Record<string, unknown> }[];
}

export async function readScalerManifest(file: string): Promise<PredictiveScaler> {
  const text = await readFile(file, 'utf8');
  const docs = parseAllDocuments(text).map((d) => d.toJSON() as PredictiveScaler | null);
  const scaler = docs.find((d) => d?.kind === KIND);
  if (!scaler) throw new Error(`${file} holds no ${KIND} document`);
  if (!scaler.spec) throw new Error(`${file}: the ${KIND} has no spec`);
  return scaler;
}

export async function forecastOnce(
  scaler: PredictiveScaler,
  source: RangeSource,
  opts: { now: number; currentReplicas?: number },
): Promise<OneShotResult> {
  const spec = toScalerConfig(scaler.spec);
  const { now } = opts;
  const leadTimeMs = spec.scaling.leadTimeMs ?? DEFAULT_LEAD_TIME_MS;
  const currentReplicas = opts.currentReplicas ?? spec.minReplicas;
  const models = new ModelManager({ now: () => now });
  const outcomes = new Map<string, ModelOutcome>();
  const inputs: MetricInput[] = [];
  const end = Math.floor(now / spec.forecast.stepMs) * spec.forecast.stepMs;
  const histories = new Map<string, Series>();
  for (const m of spec.metrics) {
    histories.set(m.name, await source.queryRangeSeries(m.query, end - spec.forecast.historyMs + spec.forecast.stepMs, end, spec.forecast.stepMs));
  }
  // The operator replans in its training workers; here the plan is made inline, on the same history.
  let plan: PlanStatus | undefined;
  let planUnavailable: string | undefined;
  let cfg = spec;
  if (spec.planner) {
    try {
      const report = replan({ demand: histories.get(spec.metrics[0]!.name)!, config: spec, leadTimeMs });
      plan = planStatus(report);
      cfg = applyPlan(spec, report.plan);
    } catch (err) {
      planUnavailable = (err as Error).message;
    }
  }
  for (const m of cfg.metrics) {
    const series = histories.get(m.name)!;
    const observation = latestObservation(series, now);
    if (!observation) {
      inputs.push({ name: m.name });
      continue;
    }
    const outcome = models.forecast(m.name, series, cfg, forecastSteps(series, cfg, now, leadTimeMs), requestedQuantiles(cfg));
    outcomes.set(m.name, outcome);
    inputs.push({ name: m.name, observed: observation.value, forecast: outcome.forecast });
  }
  const decision = decide({ now, config: cfg, currentReplicas, leadTimeMs, metrics: inputs, recommendations: [], scaleEvents: [] });
  return {
    scaler: `${scaler.metadata?.namespace ?? 'default'}/${scaler.metadata?.name ?? '?'}`,
    now: new Date(now).toISOString(),
    currentReplicas,
    leadTime: formatDuration(leadTimeMs),
    decision,
    forecast: forecastSummary(cfg, decision, outcomes, now),
    ...(plan ? { plan } : {}),
    ...(planUnavailable ? { planUnavailable } : {}),
    models: cfg.metrics.map((m) => {
      const o = outcomes.get(m.name);
      return {
        metric: m.name,
        model: o?.model,
        fallbackReason: o?.fallbackReason,
        unavailable: o ? o.unavailable?.message : 'no recent samples',
        details: o?.details,
      };
    }),
  };
}

export function formatOneShot(r: OneShotResult): string {
  const lines = [
    `scaler:   ${r.scaler}`,
    `now:      ${r.now}   lead time: ${r.leadTime}`,
    `replicas: ${r.currentReplicas} -> ${r.decision.desiredReplicas} (${r.decision.reason})`,
    `why:      ${r.decision.message}`,
  ];
  if (r.forecast) {
    lines.push(`forecast: ${r.forecast.model} peak ${r.forecast.peak} at ${r.forecast.peakAt} (band ${r.forecast.lower} .. ${r.forecast.upper})`);
  }
  if (r.plan) lines.push(...formatPlanLines(r.plan));
  if (r.planUnavailable) lines.push(`plan:     none (${r.planUnavailable}); acting on the spec's defaults`);
  for (const m of r.models) {
    const what = m.model ? `${m.model}${m.fallbackReason ? ` (${m.fallbackReason})` : ''}` : `no forecast: ${m.unavailable}`;
    lines.push(`metric ${m.metric}: ${what}`);
  }
  return lines.join('\n');
}
