// `prescale simulate`: replay a trace through prescale (one run per planning quantile, and
// prescale@auto planning to an objective), the HPA (one run per target utilization) and the oracle,
// and compare them at equal cost.
import { DEFAULT_MAX_UNDER_PROVISIONED, toScalerConfig } from '../api/config.js';
import type { ForecastSpec, ModelName, PredictiveScalerSpec, ScalingSpec } from '../api/types.js';
import { formatDuration } from '../api/units.js';
import { resolveModel } from '../forecast/registry.js';
import { planLabel } from '../planner/plan.js';
import type { ForecastBand, PolicyTimeline, SimulationReportData } from '../report/types.js';
import type { TracePoint } from '../traces/csv.js';
import { AUTO_POLICY_NAME, AutoPrescaleController, PLAN_GRID_QUANTILES, autoPolicyOutput } from './auto-policy.js';
import { MINUTE_MS, evaluatedMinutes, oracleRun, runSimulation, type PolicyRun, type SimulationSetup } from './engine.js';
import { summarize } from './frontier.js';
import { toMinuteGrid } from './grid.js';
import { HpaController } from './hpa.js';
import { PrescaleController, SharedForecasts, type ForecastAtTime } from './prescale-policy.js';
import type { ReplicaController, SimulationOutput, TimeSeriesData } from './types.js';

/** 'auto' is prescale@auto: one prescale run with the planner choosing quantile and headroom. */
export type PolicyKind = 'prescale' | 'auto' | 'hpa' | 'oracle';

export const POLICY_KINDS: readonly PolicyKind[] = Object.freeze(['prescale', 'auto', 'hpa', 'oracle']);

export interface SimulateOptions {
  traceName: string;
  points: readonly TracePoint[];
  capacityPerReplica: number;
  startupDelayMs: number;
  metricLagMs: number;
  policies: PolicyKind[];
  model: ModelName;
  quantiles: number[];
  hpaTargets: number[];
  /** prescale@auto's objective, maxUnderProvisioned as a share (0.005 = 0.5%); default 0.5%. */
  objective?: number;
  warmupMs: number;
  minReplicas: number;
  maxReplicas: number;
  /** Lead time prescale plans with; defaults to the start-up delay, what `leadTime: Auto` learns. */
  leadTimeMs?: number;
  onProgress?: (fraction: number) => void;
  /** Collect what the HTML report plots (costs memory; off for --json only). */
  collectReport?: boolean;
  now?: () => Date;
}

export interface SimulateResult {
  output: SimulationOutput;
  report?: SimulationReportData;
  notes: string[];
}

type ConfigOptions = Pick<SimulateOptions, 'capacityPerReplica' | 'model' | 'minReplicas' | 'maxReplicas'>;

/** The PredictiveScaler spec prescale runs with in the simulation: the defaults, the flags' bounds. */
export function simulatedScalerConfig(o: ConfigOptions, quantile: number, leadTimeMs: number) {
  return toScalerConfig(simulatedSpec(o, leadTimeMs, { quantile }, {}));
}

/**
 * prescale@auto's spec: the same with `scaling.objective` set, so quantile and headroom are Auto
 * (0.9 and 10% until the first plan).
 */
export function autoScalerConfig(o: ConfigOptions, maxUnderProvisioned: number, leadTimeMs: number) {
  return toScalerConfig(simulatedSpec(o, leadTimeMs, {}, { objective: { maxUnderProvisioned: percentText(maxUnderProvisioned) } }));
}

function simulatedSpec(o: ConfigOptions, leadTimeMs: number, forecast: Pick<ForecastSpec, 'quantile'>, scaling: Pick<ScalingSpec, 'objective'>): PredictiveScalerSpec {
  return {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'simulated' },
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
    interval: '30s',
    metrics: [{ name: 'demand', query: 'trace', targetPerReplica: o.capacityPerReplica }],
    forecast: { model: o.model, history: '7d', step: '1m', horizon: '30m', seasonality: 'Auto', retrainEvery: '6h', ...forecast },
    scaling: { leadTime: formatDuration(leadTimeMs), ...scaling },
  };
}

/** 0.005 -> "0.5%", without the float noise of 0.007 * 100. */
function percentText(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(12))}%`;
}

export function simulate(o: SimulateOptions): SimulateResult {
  return simulateAtDelays(o, [o.startupDelayMs])[0]!;
}

/**
 * simulate() at several start-up delays in one lock-step run: the model sees the same demand at
 * each delay (the workload's readiness does not feed back into it), so one SharedForecasts serves
 * every delay's runs and the forecasts, the costliest part with LSTM and Ensemble, are made once.
 * Each delay's result is what simulate() gives for it alone. o.startupDelayMs is ignored.
 */
export function simulateAtDelays(o: SimulateOptions, startupDelaysMs: readonly number[]): SimulateResult[] {
  if (startupDelaysMs.length === 0) throw new Error('no start-up delay to simulate');
  if (o.collectReport && startupDelaysMs.length > 1) throw new Error('the HTML report shows one start-up delay; simulate the delays one at a time for a report each');
  const grid = toMinuteGrid(o.points);
  const demand = grid.demand;
  const setupAt = (startupDelayMs: number): SimulationSetup => ({
    demand,
    capacityPerReplica: o.capacityPerReplica,
    startupDelayMs,
    metricLagMs: o.metricLagMs,
    evaluateFrom: demand.start + o.warmupMs,
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
    onProgress: o.onProgress,
  });
  const minutes = evaluatedMinutes(setupAt(startupDelaysMs[0]!));
  if (minutes === 0) {
    throw new Error(`the trace spans ${formatDuration(demand.values.length * MINUTE_MS)}, no more than the warm-up of ${formatDuration(o.warmupMs)}; pass a shorter --warmup`);
  }

  const notes = [...grid.notes];
  const leadTimes = startupDelaysMs.map((delay) => o.leadTimeMs ?? delay);
  const sweep = o.policies.includes('prescale');
  const planning = o.policies.includes('auto');
  let forecasts: SharedForecasts | undefined;
  let band: BandCollector | undefined;
  if (sweep || planning) {
    const resolved = resolveModel(o.model);
    if (resolved.fallbackReason) notes.push(resolved.fallbackReason);
    // The longest lead time asks for the longest forecast; a shorter one reads a prefix of it.
    const longestLead = Math.max(...leadTimes);
    const base = simulatedScalerConfig(o, sweep ? o.quantiles[0]! : 0.9, longestLead);
    // One forecast per instant serves every run: prescale@auto's plans may pick any quantile of the grid.
    const quantiles = [...(sweep ? o.quantiles : []), ...(planning ? PLAN_GRID_QUANTILES : [])];
    forecasts = new SharedForecasts(demand, base, o.metricLagMs, longestLead, quantiles);
    if (o.collectReport) {
      const collector = (band = new BandCollector(demand, leadTimes[0]!));
      forecasts.onForecast.push((now, f) => collector.add(now, f));
    }
  }

  interface DelayRuns {
    controllers: ReplicaController[];
    kinds: PolicyKind[];
    auto?: AutoPrescaleController;
  }
  const perDelay: DelayRuns[] = leadTimes.map((leadTimeMs) => {
    const controllers: ReplicaController[] = [];
    const kinds: PolicyKind[] = [];
    const add = (c: ReplicaController, kind: PolicyKind) => (controllers.push(c), kinds.push(kind));
    let auto: AutoPrescaleController | undefined;
    if (forecasts && sweep) for (const q of o.quantiles) add(new PrescaleController(simulatedScalerConfig(o, q, leadTimeMs), forecasts, leadTimeMs), 'prescale');
    if (forecasts && planning) {
      // It replans as the operator does: with the lead time in effect, and replan()'s own assumptions
      // about the start-up delay and the metric lag, which the operator does not measure.
      auto = new AutoPrescaleController(autoScalerConfig(o, o.objective ?? DEFAULT_MAX_UNDER_PROVISIONED, leadTimeMs), forecasts, leadTimeMs, demand, o.metricLagMs);
      add(auto, 'auto');
    }
    if (o.policies.includes('hpa')) {
      for (const u of o.hpaTargets) {
        add(new HpaController({ targetUtilization: u, capacityPerReplica: o.capacityPerReplica, minReplicas: o.minReplicas, maxReplicas: o.maxReplicas }), 'hpa');
      }
    }
    return { controllers, kinds, auto };
  });
  const all = perDelay.flatMap((d) => d.controllers);
  const delays = perDelay.flatMap((d, i) => d.controllers.map(() => startupDelaysMs[i]!));
  const allRuns = runSimulation(all, setupAt(startupDelaysMs[0]!), delays);
  const modelActivity = forecasts ? describeModelActivity(forecasts.stats) : undefined;

  let offset = 0;
  return perDelay.map(({ controllers, kinds: controllerKinds, auto }, i) => {
    const setup = setupAt(startupDelaysMs[i]!);
    const runs = allRuns.slice(offset, (offset += controllers.length));
    const kinds = [...controllerKinds];
    if (o.policies.includes('oracle')) {
      runs.push(oracleRun(setup));
      kinds.push('oracle');
    }
    const delayNotes = [...notes];
    if (modelActivity) delayNotes.push(modelActivity);
    const results = runs.map((r) => r.result);
    const hpaResults = results.filter((_, k) => kinds[k] === 'hpa');
    const output: SimulationOutput = {
      trace: o.traceName,
      evaluatedMinutes: minutes,
      capacityPerReplica: o.capacityPerReplica,
      startupDelaySeconds: setup.startupDelayMs / 1000,
      policies: results,
      summary: summarize(
        results.filter((_, k) => kinds[k] === 'prescale' || kinds[k] === 'auto'),
        hpaResults,
      ),
    };
    if (auto) {
      output.auto = autoPolicyOutput(auto, results[kinds.indexOf('auto')]!, hpaResults, setup.evaluateFrom);
      const plans = describeAutoPlans(auto);
      delayNotes.push(startupDelaysMs.length > 1 ? `start-up ${formatDuration(setup.startupDelayMs)}: ${plans}` : plans);
    }
    const report = band ? buildReport({ ...o, startupDelayMs: setup.startupDelayMs }, output, setup, runs, kinds, delayNotes, band.toBand(o.quantiles, setup)) : undefined;
    return { output, notes: delayNotes, report };
  });
}

function buildReport(
  o: SimulateOptions,
  output: SimulationOutput,
  setup: SimulationSetup,
  runs: PolicyRun[],
  kinds: PolicyKind[],
  notes: string[],
  forecast: ForecastBand | undefined,
): SimulationReportData {
  const first = setup.demand.values.length - output.evaluatedMinutes;
  const evalStart = setup.demand.start + first * MINUTE_MS;
  const series = (values: number[]): TimeSeriesData => ({ start: evalStart, stepMs: MINUTE_MS, values });
  const policies: PolicyTimeline[] = runs.map((r, i) => ({
    name: r.result.name,
    // The report draws prescale@auto as one more prescale run.
    kind: kinds[i] === 'auto' ? 'prescale' : kinds[i]!,
    readyCapacity: series(r.readyCapacity),
    replicas: series(r.replicas),
    result: r.result,
  }));
  return {
    trace: o.traceName,
    generatedAt: (o.now ?? (() => new Date()))().toISOString(),
    capacityPerReplica: o.capacityPerReplica,
    startupDelaySeconds: o.startupDelayMs / 1000,
    metricLagSeconds: o.metricLagMs / 1000,
    evaluatedMinutes: output.evaluatedMinutes,
    demand: series(setup.demand.values.slice(first)),
    policies,
    summary: output.summary,
    forecast,
    notes,
  };
}

/** Collects, per minute, the forecast that was made lead-time earlier for that minute. */
class BandCollector {
  private readonly mean = new Map<number, number>();
  private readonly q = new Map<number, Map<number, number>>();
  private model = '';

  constructor(
    private readonly demand: TimeSeriesData,
    private readonly aheadMs: number,
  ) {}

  add(now: number, f: ForecastAtTime): void {
    if (!f.forecast || now % MINUTE_MS !== 0) return;
    const target = now + this.aheadMs;
    const i = Math.round((target - f.forecast.start) / f.forecast.stepMs);
    if (i < 0 || i >= f.forecast.mean.length) return;
    this.model = f.outcome?.model ?? f.forecast.model;
    this.mean.set(target, f.forecast.mean[i]!);
    for (const qf of f.forecast.quantiles) {
      let m = this.q.get(qf.q);
      if (!m) this.q.set(qf.q, (m = new Map()));
      m.set(target, qf.values[i]!);
    }
  }

  toBand(sweep: number[], setup: SimulationSetup): ForecastBand | undefined {
    if (this.mean.size === 0) return undefined;
    const planning = sweep.includes(0.9) ? 0.9 : sweep[Math.floor(sweep.length / 2)]!;
    const first = Math.ceil((setup.evaluateFrom - this.demand.start) / MINUTE_MS);
    const start = this.demand.start + first * MINUTE_MS;
    const n = this.demand.values.length - first;
    const pick = (m: Map<number, number> | undefined) => Array.from({ length: n }, (_, k) => m?.get(start + k * MINUTE_MS) ?? NaN);
    const ts = (values: number[]): TimeSeriesData => ({ start, stepMs: MINUTE_MS, values });
    return {
      model: this.model,
      quantile: planning,
      aheadMs: this.aheadMs,
      actual: ts(this.demand.values.slice(first)),
      mean: ts(pick(this.mean)),
      lower: ts(pick(this.q.get(0.05))),
      upper: ts(pick(this.q.get(planning))),
    };
  }
}

function describeAutoPlans(auto: AutoPrescaleController): string {
  if (auto.plans.length === 0) return `${AUTO_POLICY_NAME} never planned (${auto.unavailable.lastReason || 'no replan was due'}): it decided with the defaults throughout`;
  const first = auto.plans[0]!;
  const chosen = new Map<string, number>();
  for (const p of auto.plans) chosen.set(planLabel(p), (chosen.get(planLabel(p)) ?? 0) + 1);
  const missed = auto.plans.filter((p) => !p.met).length;
  return (
    `${AUTO_POLICY_NAME}: ${auto.plans.length} plan${auto.plans.length === 1 ? '' : 's'} from ${new Date(first.at).toISOString()} ` +
    `(${[...chosen.entries()].map(([label, n]) => `${label} ×${n}`).join(', ')})` +
    (missed > 0 ? `; ${missed} did not meet the objective in replay` : '')
  );
}

function describeModelActivity(stats: SharedForecasts['stats']): string {
  const served = [...stats.servedBy.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([model, n]) => `${model} ${((100 * n) / Math.max(1, stats.forecasts)).toFixed(1)} %`)
    .join(', ');
  return `prescale models: ${stats.trainings} trainings (${stats.trainingSeconds.toFixed(1)} s), ${stats.drifts} drift detections; forecasts served by ${served}`;
}
