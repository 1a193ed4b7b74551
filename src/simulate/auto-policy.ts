// prescale@auto: prescale with the planner on (issue 13), as the operator runs it. It decides with the
// defaults (quantile 0.9, headroom 10%) until its first plan, replans on the demand it could have
// observed (the last spec.forecast.history of it, metric-lag old) as soon as that history is long
// enough, then every max(24 h, spec.forecast.retrainEvery), and from each plan on decides with the
// config acting on it. The forecasts are the quantile sweep's (SharedForecasts): they do not depend
// on the plan.
import type { ScalerConfig } from '../api/config.js';
import { DecisionHistory } from '../decision/history.js';
import { DEFAULT_PLAN_GRID, meetsObjective, type Plan } from '../planner/plan.js';
import { PlanningUnavailable, applyPlan, replan, type PlanReport } from '../planner/replan.js';
import { MINUTE_MS } from './engine.js';
import { decideAt, type SharedForecasts } from './prescale-policy.js';
import type { AutoPlanOutput, AutoPolicyOutput, ClusterView, PolicyResult, ReplicaController, TimeSeriesData } from './types.js';

export const AUTO_POLICY_NAME = 'prescale@auto';

const DAY_MS = 24 * 60 * MINUTE_MS;

/** The quantiles a plan may pick: SharedForecasts must forecast all of them. */
export const PLAN_GRID_QUANTILES: readonly number[] = Object.freeze([...new Set(DEFAULT_PLAN_GRID.map((p) => p.quantile))]);

/** How often the operator replans once it has a plan (PLAN_REFRESH_MS). */
export function planRefreshMs(config: ScalerConfig): number {
  return Math.max(DAY_MS, config.forecast.retrainEveryMs);
}

/** One replan of the run: when (ms epoch), what it chose, and what the choice came to in the planner's replay. */
export type AutoPlanRecord = Omit<AutoPlanOutput, 'time' | 'evaluated'> & { at: number };

export interface AutoPlanningOptions {
  /** Passed to replan(); undefined = what replan assumes (the operator knows neither). */
  startupDelayMs?: number;
  metricLagMs?: number;
}

export class AutoPrescaleController implements ReplicaController {
  readonly name = AUTO_POLICY_NAME;
  readonly periodMs: number;
  readonly plans: AutoPlanRecord[] = [];
  /** Replans refused with PlanningUnavailable, and the last reason (until the first plan: too short a history). */
  readonly unavailable = { attempts: 0, lastReason: '' };
  private readonly history = new DecisionHistory();
  private readonly refreshMs: number;
  private acting: ScalerConfig;
  private plan: Plan | undefined;
  private lastPlanAt = -Infinity;
  /** The last observed minute a replan was attempted on: a retry waits for new data. */
  private attemptedOn = -1;

  /**
   * @param config the scaler's config with the planner on (config.planner set).
   * @param demand the whole trace; the controller only reads what was observable at each instant.
   * @param observationLagMs how old the data the controller sees is (the simulation's metric lag).
   */
  constructor(
    private readonly config: ScalerConfig,
    private readonly forecasts: SharedForecasts,
    private readonly leadTimeMs: number,
    private readonly demand: TimeSeriesData,
    private readonly observationLagMs: number,
    private readonly planning: AutoPlanningOptions = {},
  ) {
    if (!config.planner) throw new Error(`${AUTO_POLICY_NAME} needs a config with the planner on (an objective or an Auto field)`);
    if (demand.stepMs !== MINUTE_MS) throw new Error(`${AUTO_POLICY_NAME} replans on a one-minute demand grid`);
    this.periodMs = config.intervalMs;
    this.refreshMs = planRefreshMs(config);
    this.acting = config;
  }

  /** The config decisions use now: the defaults until the first plan, then the plan's. */
  get actingConfig(): ScalerConfig {
    return this.acting;
  }

  get objective(): number {
    return this.config.planner!.maxUnderProvisioned;
  }

  sync(view: ClusterView): number {
    this.maybeReplan(view.now);
    return decideAt(view, this.acting, this.forecasts, this.leadTimeMs, this.history);
  }

  /** The operator replans when it has no plan, and otherwise once the refresh period has passed. */
  private maybeReplan(now: number): void {
    const last = Math.min(this.demand.values.length - 1, Math.floor((now - this.observationLagMs - this.demand.start) / MINUTE_MS));
    if (last < 0 || last === this.attemptedOn) return;
    if (this.plan && now - this.lastPlanAt < this.refreshMs) return;
    this.attemptedOn = last;
    const historySteps = Math.max(1, Math.floor(this.config.forecast.historyMs / MINUTE_MS));
    const first = Math.max(0, last - historySteps + 1);
    const observed: TimeSeriesData = { start: this.demand.start + first * MINUTE_MS, stepMs: MINUTE_MS, values: this.demand.values.slice(first, last + 1) };
    let report: PlanReport;
    try {
      report = replan({ demand: observed, config: this.config, leadTimeMs: this.leadTimeMs, ...this.planning });
    } catch (err) {
      if (!(err instanceof PlanningUnavailable)) throw err;
      // The operator keeps acting on what it has: the defaults, or the last plan.
      this.unavailable.attempts++;
      this.unavailable.lastReason = err.message;
      return;
    }
    this.plan = report.plan;
    this.lastPlanAt = now;
    this.acting = applyPlan(this.config, report.plan);
    this.plans.push({
      at: now,
      quantile: report.plan.quantile,
      headroom: report.plan.headroom,
      met: report.met,
      underProvisioned: report.simulated.underProvisioned,
      replicaMinutesRatio: report.simulated.replicaMinutesRatio,
      historyMinutes: observed.values.length,
    });
  }
}

export function autoPolicyOutput(controller: AutoPrescaleController, result: PolicyResult, hpa: readonly PolicyResult[], evaluateFrom: number): AutoPolicyOutput {
  const objective = controller.objective;
  const closest = hpa.reduce<PolicyResult | undefined>(
    (best, h) => (best === undefined || Math.abs(h.replicaMinutes - result.replicaMinutes) < Math.abs(best.replicaMinutes - result.replicaMinutes) ? h : best),
    undefined,
  );
  return {
    policy: controller.name,
    // As the percentage reads: "0.7%" parses to 0.006999999999999999.
    objective: Number(objective.toPrecision(12)),
    objectiveMet: meetsObjective({ underProvisioned: result.underProvisionedFraction, replicaMinutes: result.replicaMinutes, scaleEvents: result.scaleEvents }, { maxUnderProvisioned: objective }),
    result,
    plans: controller.plans.map(({ at, ...p }) => ({ time: new Date(at).toISOString(), evaluated: at >= evaluateFrom, ...p })),
    hpaClosestInCost: closest ? { policy: closest.name, replicaMinutes: closest.replicaMinutes, scaleEvents: closest.scaleEvents } : null,
    scaleEventsRatio: closest && closest.scaleEvents > 0 ? result.scaleEvents / closest.scaleEvents : null,
  };
}
