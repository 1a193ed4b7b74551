// `prescale simulate`: replay a trace through prescale (one run per planning quantile), the HPA (one
// run per target utilization) and the oracle, and compare them at equal cost.
import { toScalerConfig } from '../api/config.js';
import type { ModelName } from '../api/types.js';
import { formatDuration } from '../api/units.js';
import { resolveModel } from '../forecast/registry.js';
import type { ForecastBand, PolicyTimeline, SimulationReportData } from '../report/types.js';
import type { TracePoint } from '../traces/csv.js';
import { MINUTE_MS, evaluatedMinutes, oracleRun, runSimulation, type PolicyRun, type SimulationSetup } from './engine.js';
import { summarize } from './frontier.js';
import { toMinuteGrid } from './grid.js';
import { HpaController } from './hpa.js';
import { PrescaleController, SharedForecasts, type ForecastAtTime } from './prescale-policy.js';
import type { ReplicaController, SimulationOutput, TimeSeriesData } from './types.js';

export type PolicyKind = 'prescale' | 'hpa' | 'oracle';

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

/** The PredictiveScaler spec prescale runs with in the simulation: the defaults, the flags' bounds. */
export function simulatedScalerConfig(o: Pick<SimulateOptions, 'capacityPerReplica' | 'model' | 'minReplicas' | 'maxReplicas'>, quantile: number, leadTimeMs: number) {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'simulated' },
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
    interval: '30s',
    metrics: [{ name: 'demand', query: 'trace', targetPerReplica: o.capacityPerReplica }],
    forecast: { model: o.model, history: '7d', step: '1m', horizon: '30m', seasonality: 'Auto', quantile, retrainEvery: '6h' },
    scaling: { leadTime: formatDuration(leadTimeMs) },
  });
}

export function simulate(o: SimulateOptions): SimulateResult {
  const grid = toMinuteGrid(o.points);
  const notes = [...grid.notes];
  const demand = grid.demand;
  const setup: SimulationSetup = {
    demand,
    capacityPerReplica: o.capacityPerReplica,
    startupDelayMs: o.startupDelayMs,
    metricLagMs: o.metricLagMs,
    evaluateFrom: demand.start + o.warmupMs,
    minReplicas: o.minReplicas,
    maxReplicas: o.maxReplicas,
    onProgress: o.onProgress,
  };
  const minutes = evaluatedMinutes(setup);
  if (minutes === 0) {
    throw new Error(`the trace spans ${formatDuration(demand.values.length * MINUTE_MS)}, no more than the warm-up of ${formatDuration(o.warmupMs)}; pass a shorter --warmup`);
  }

  const leadTimeMs = o.leadTimeMs ?? o.startupDelayMs;
  const controllers: ReplicaController[] = [];
  let forecasts: SharedForecasts | undefined;
  const band = o.collectReport ? new BandCollector(demand, leadTimeMs) : undefined;
  if (o.policies.includes('prescale')) {
    const resolved = resolveModel(o.model);
    if (resolved.fallbackReason) notes.push(resolved.fallbackReason);
    const base = simulatedScalerConfig(o, o.quantiles[0]!, leadTimeMs);
    forecasts = new SharedForecasts(demand, base, o.metricLagMs, leadTimeMs, o.quantiles);
    if (band) forecasts.onForecast.push((now, f) => band.add(now, f));
    for (const q of o.quantiles) controllers.push(new PrescaleController(simulatedScalerConfig(o, q, leadTimeMs), forecasts, leadTimeMs));
  }
  if (o.policies.includes('hpa')) {
    for (const u of o.hpaTargets) {
      controllers.push(new HpaController({ targetUtilization: u, capacityPerReplica: o.capacityPerReplica, minReplicas: o.minReplicas, maxReplicas: o.maxReplicas }));
    }
  }
  const runs = runSimulation(controllers, setup);
  const kinds: PolicyKind[] = controllers.map((c) => (c instanceof PrescaleController ? 'prescale' : 'hpa'));
  if (o.policies.includes('oracle')) {
    runs.push(oracleRun(setup));
    kinds.push('oracle');
  }

  if (forecasts) notes.push(describeModelActivity(forecasts.stats));
  const results = runs.map((r) => r.result);
  const output: SimulationOutput = {
    trace: o.traceName,
    evaluatedMinutes: minutes,
    capacityPerReplica: o.capacityPerReplica,
    startupDelaySeconds: o.startupDelayMs / 1000,
    policies: results,
    summary: summarize(
      results.filter((_, i) => kinds[i] === 'prescale'),
      results.filter((_, i) => kinds[i] === 'hpa'),
    ),
  };
  return { output, notes, report: band ? buildReport(o, output, setup, runs, kinds, notes, band.toBand(o.quantiles, setup)) : undefined };
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
    kind: kinds[i]!,
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

function describeModelActivity(stats: SharedForecasts['stats']): string {
  const served = [...stats.servedBy.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([model, n]) => `${model} ${((100 * n) / Math.max(1, stats.forecasts)).toFixed(1)} %`)
    .join(', ');
  return `prescale models: ${stats.trainings} trainings (${stats.trainingSeconds.toFixed(1)} s), ${stats.drifts} drift detections; forecasts served by ${served}`;
}
