// One replan: a scaler's recent history in, the plan it should act on and the evidence for it out.
// Turns the spec's Auto fields into the grid to simulate, the history into the simulator's demand, and
// replayPlans' outcomes into the report that status, metrics and `prescale forecast` show. Pure.
import type { PlannerConfig, ScalerConfig } from '../api/config.js';
import { formatDuration } from '../api/units.js';
import { createForecaster, isStatisticalModel } from '../forecast/registry.js';
import { MINUTE_MS, TICK_MS } from '../simulate/engine.js';
import type { TimeSeriesData } from '../simulate/types.js';
import { DEFAULT_PLAN_GRID, choosePlan, type Objective, type Plan } from './plan.js';
import { replayPlans } from './replay.js';

/** Less history than this gives too few scored minutes to tell plans apart. */
export const MIN_PLANNING_HISTORY_MS = 24 * 60 * MINUTE_MS;
/** The models need history before their forecasts mean anything: the first part of the window is not scored. */
const MAX_WARM_UP_MS = 2 * 24 * 60 * MINUTE_MS;
const WARM_UP_SHARE = 0.3;
/** At least this much of the window is scored, after the models' warm-up. */
const MIN_SCORED_MS = 12 * 60 * MINUTE_MS;
/** A history with more gaps than this does not show how the workload behaves. */
const MAX_MISSING_SHARE = 0.1;
/** The planner's view of the metric pipeline's delay (a scrape plus a rate() window) when none is known. */
export const DEFAULT_PLANNING_METRIC_LAG_MS = MINUTE_MS;

export interface ReplanInput {
  /** The first metric's history, as the operator holds it (step = spec.forecast.step). */
  demand: TimeSeriesData;
  config: ScalerConfig;
  leadTimeMs: number;
  /** Pods' start-up to Ready; the lead time when unknown. */
  startupDelayMs?: number;
  metricLagMs?: number;
}

export interface SimulatedSummary {
  /** Share of scored minutes with Ready capacity below demand. */
  underProvisioned: number;
  /** Replica-minutes / the oracle's (replicas that exactly serve each minute). */
  replicaMinutesRatio: number;
  scaleEvents: number;
}

export interface PlanReport {
  plan: Plan;
  objective: Objective;
  /** The chosen plan meets the objective in simulation. */
  met: boolean;
  reason: string;
  /** How many plans were simulated. */
  plans: number;
  simulated: SimulatedSummary;
  /** The HPA at the scaler's own targetPerReplica, on the same history. */
  hpa: SimulatedSummary & { targetForObjective?: number };
  /** The replayed history span, and the part of it that was scored. */
  windowMs: number;
  evaluatedMinutes: number;
  leadTimeMs: number;
  /** When the history ends (the planning instant). */
  plannedAt: number;
}

const isShare = (x: unknown): x is number => typeof x === 'number' && x >= 0 && x <= 1;
const isNonNegative = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;

function summaryProblem(s: unknown, label: string): string | undefined {
  if (typeof s !== 'object' || s === null) return `${label} is missing`;
  const o = s as Record<string, unknown>;
  if (!isShare(o.underProvisioned)) return `${label}.underProvisioned is not a share`;
  if (!isNonNegative(o.replicaMinutesRatio)) return `${label}.replicaMinutesRatio is not a finite number at least 0`;
  if (!isNonNegative(o.scaleEvents) || !Number.isInteger(o.scaleEvents)) return `${label}.scaleEvents is not a count`;
  return undefined;
}

/**
 * Why `value` is not a PlanReport as replan() makes it, or undefined when it is. A report comes back
 * from a worker thread and ends up in status and metrics, so it is checked field by field.
 */
export function planReportProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'the plan is not an object';
  const r = value as Record<string, unknown>;
  const plan = r.plan as Record<string, unknown> | undefined;
  if (typeof plan !== 'object' || plan === null) return 'plan is missing';
  if (!(typeof plan.quantile === 'number' && plan.quantile > 0 && plan.quantile < 1)) return 'plan.quantile is not in (0, 1)';
  if (!(isNonNegative(plan.headroom) && plan.headroom <= 10)) return 'plan.headroom is not a fraction in [0, 10]';
  const objective = r.objective as Record<string, unknown> | undefined;
  if (typeof objective !== 'object' || objective === null || !isShare(objective.maxUnderProvisioned)) return 'objective is not a share';
  if (typeof r.met !== 'boolean') return 'met is not a boolean';
  if (typeof r.reason !== 'string' || r.reason.length > 2000) return 'reason is not a short text';
  if (!(isNonNegative(r.plans) && Number.isInteger(r.plans) && r.plans >= 1)) return 'plans is not a positive count';
  const problem = summaryProblem(r.simulated, 'simulated') ?? summaryProblem(r.hpa, 'hpa');
  if (problem) return problem;
  const target = (r.hpa as Record<string, unknown>).targetForObjective;
  if (target !== undefined && !(typeof target === 'number' && target > 0 && target <= 1)) return 'hpa.targetForObjective is not in (0, 1]';
  for (const k of ['windowMs', 'evaluatedMinutes', 'leadTimeMs', 'plannedAt'] as const) {
    if (!isNonNegative(r[k])) return `${k} is not a finite number at least 0`;
  }
  return undefined;
}

export class PlanningUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanningUnavailable';
  }
}

/** The plans to simulate: the grid over the Auto fields; an explicit field stays at its value. */
export function planGrid(config: ScalerConfig, planner: PlannerConfig): Plan[] {
  const grid = DEFAULT_PLAN_GRID.map((p) => ({
    quantile: planner.autoQuantile ? p.quantile : config.forecast.quantile,
    headroom: planner.autoHeadroom ? p.headroom : config.scaling.headroom,
  }));
  const seen = new Set<string>();
  return grid.filter((p) => {
    const key = `${p.quantile}/${p.headroom}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** The history on the simulator's one-minute grid: gaps carried forward, leading gaps dropped. */
export function planningDemand(history: TimeSeriesData): TimeSeriesData {
  if (history.stepMs !== MINUTE_MS) {
    throw new PlanningUnavailable(`the planner replays a one-minute history; spec.forecast.step is ${formatDuration(history.stepMs)}: set it to 1m to plan`);
  }
  const first = history.values.findIndex(Number.isFinite);
  if (first < 0) throw new PlanningUnavailable('the history holds no data');
  const values = history.values.slice(first);
  let missing = 0;
  let last = values[0]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v) && v >= 0) last = v;
    else {
      values[i] = last;
      missing++;
    }
  }
  if (missing > MAX_MISSING_SHARE * values.length) {
    throw new PlanningUnavailable(`${missing} of the last ${values.length} minutes have no data (more than ${MAX_MISSING_SHARE * 100}%); planning waits for a fuller history`);
  }
  return { start: history.start + first * MINUTE_MS, stepMs: MINUTE_MS, values };
}

/**
 * Simulates the grid on the history and picks the plan. Throws PlanningUnavailable when the history
 * cannot be planned on (too short, too gappy, a step other than one minute).
 */
export function replan(input: ReplanInput): PlanReport {
  const planner = input.config.planner;
  if (!planner) throw new PlanningUnavailable('the spec sets no objective and no Auto field');
  const demand = planningDemand(input.demand);
  const windowMs = demand.values.length * MINUTE_MS;
  if (windowMs < MIN_PLANNING_HISTORY_MS) {
    throw new PlanningUnavailable(`planning needs ${formatDuration(MIN_PLANNING_HISTORY_MS)} of history, have ${formatDuration(windowMs)}`);
  }
  // Minutes before the replayed model can forecast are reactive in every plan alike and would only
  // blur the comparison: the warm-up covers at least what the model needs.
  const modelNeedsMs = modelWarmUpMs(input.config);
  const warmUpMs = Math.max(modelNeedsMs, Math.min(MAX_WARM_UP_MS, Math.floor((WARM_UP_SHARE * windowMs) / MINUTE_MS) * MINUTE_MS));
  if (windowMs - warmUpMs < MIN_SCORED_MS) {
    throw new PlanningUnavailable(
      `planning needs ${formatDuration(modelNeedsMs + MIN_SCORED_MS)} of history (${replayModel(input.config)} forecasts after ${formatDuration(modelNeedsMs)}, then at least ${formatDuration(MIN_SCORED_MS)} is scored), have ${formatDuration(windowMs)}`,
    );
  }
  const objective: Objective = { maxUnderProvisioned: planner.maxUnderProvisioned };
  const grid = planGrid(input.config, planner);
  const metric = input.config.metrics[0]!;
  const result = replayPlans(
    {
      demand,
      config: replayConfig(input.config),
      capacityPerReplica: metric.targetPerReplica,
      leadTimeMs: input.leadTimeMs,
      startupDelayMs: input.startupDelayMs ?? input.leadTimeMs,
      metricLagMs: input.metricLagMs ?? DEFAULT_PLANNING_METRIC_LAG_MS,
      warmUpMs,
      grid,
    },
    objective,
  );
  const windowLabel = formatDuration(windowMs);
  const choice = choosePlan(result.outcomes, objective, windowLabel);
  const model = replayModel(input.config);
  const standIn = model !== input.config.forecast.model ? ` (simulated with ${model}, the statistical stand-in for ${input.config.forecast.model})` : '';
  const oracle = Math.max(1e-9, result.oracleReplicaMinutes);
  const summary = (o: { underProvisioned: number; replicaMinutes: number; scaleEvents: number }): SimulatedSummary => ({
    underProvisioned: o.underProvisioned,
    replicaMinutesRatio: o.replicaMinutes / oracle,
    scaleEvents: o.scaleEvents,
  });
  return {
    plan: choice.plan,
    objective,
    met: choice.met,
    reason: choice.reason + standIn,
    plans: grid.length,
    simulated: summary(choice.outcome),
    hpa: { ...summary(result.hpa.atTarget), ...(result.hpa.targetForObjective !== undefined ? { targetForObjective: result.hpa.targetForObjective } : {}) },
    windowMs,
    evaluatedMinutes: result.evaluatedMinutes,
    leadTimeMs: input.leadTimeMs,
    plannedAt: demand.start + windowMs,
  };
}

/**
 * The model the replay forecasts with: the scaler's own when statistical; for LSTM and Ensemble the
 * Holt-Winters model that stands in for them on fallback, since retraining a network every few hours
 * of a week of replayed history would cost minutes per plan.
 */
export function replayModel(config: ScalerConfig): ScalerConfig['forecast']['model'] {
  return isStatisticalModel(config.forecast.model) ? config.forecast.model : 'HoltWinters';
}

/** How much history the replayed model needs before it forecasts (what the model manager waits for). */
function modelWarmUpMs(config: ScalerConfig): number {
  const forecaster = createForecaster(replayModel(config), { seasonality: config.forecast.seasonality });
  const points = Math.max(forecaster.minHistoryPoints(MINUTE_MS), 2 * Math.ceil(config.forecast.horizonMs / MINUTE_MS));
  return points * MINUTE_MS;
}

/** The spec as the replay runs it: no planner inside the replay, an interval the 15-second clock can step. */
function replayConfig(config: ScalerConfig): ScalerConfig {
  const { planner: _planner, ...rest } = config;
  const intervalMs = Math.max(TICK_MS, Math.round(config.intervalMs / TICK_MS) * TICK_MS);
  return { ...rest, intervalMs, forecast: { ...config.forecast, model: replayModel(config) } };
}

/** The scaler's config acting on the plan's values for its Auto fields. */
export function applyPlan(config: ScalerConfig, plan: Plan | undefined): ScalerConfig {
  const planner = config.planner;
  if (!planner || !plan) return config;
  return {
    ...config,
    forecast: planner.autoQuantile ? { ...config.forecast, quantile: plan.quantile } : config.forecast,
    scaling: planner.autoHeadroom ? { ...config.scaling, headroom: plan.headroom } : config.scaling,
  };
}
