// Keeps one plan per scaler and decides when to make a new one: when there is none, when the spec's
// planning inputs change, when the lead time moved a lot, and otherwise once a day (or at each
// retrain when that is rarer). Replans run on a PlanRunner (the training workers in the operator);
// a reconcile never waits for one: the previous plan, or the spec's defaults, serve meanwhile.
import type { ScalerConfig } from '../api/config.js';
import type { Series } from '../forecast/types.js';
import { PlanningUnavailable, type PlanReport, type ReplanInput } from '../planner/replan.js';
import type { PlanRunner } from './training/trainer.js';

/** A plan is made over days of history; a day moves that window by a seventh. */
export const PLAN_REFRESH_MS = 24 * 3600_000;
/** A lead time this much longer or shorter than the plan's makes the plan stale. */
const LEAD_TIME_CHANGE = 0.5;
/** After a failed or unavailable replan, the next attempt waits this long (history grows meanwhile). */
const RETRY_MS = 15 * 60_000;

export type PlanView =
  /** `pending`: a newer plan is being made. */
  | { state: 'Planned'; report: PlanReport; pending: boolean }
  | { state: 'Pending'; message: string }
  | { state: 'Unavailable'; message: string };

interface KeyState {
  report?: PlanReport;
  /** The planKey the report was made for, and when (operator clock). */
  reportKey?: string;
  madeAt?: number;
  pending?: { key: string; startedAt: number };
  retryAt?: number;
  /** Why the latest attempt gave no plan. */
  problem?: { key: string; message: string };
}

export interface PlanManagerOptions {
  now: () => number;
  runner: PlanRunner;
  /** Called when a background replan settled (either way), so the scaler is reconciled again. */
  onSettled?: (key: string) => void;
  logger?: { warn(fields: Record<string, unknown>, message: string): void };
  /** Reports each replan's duration and outcome. */
  onPlanned?: (seconds: number, outcome: 'success' | 'unavailable' | 'failure') => void;
}

export class PlanManager {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly opts: PlanManagerOptions) {}

  /** The plan serving this scaler's current spec; undefined when the spec plans nothing. */
  view(key: string, cfg: ScalerConfig): PlanView | undefined {
    if (!cfg.planner) {
      this.keys.delete(key);
      return undefined;
    }
    const state = this.keys.get(key);
    const wanted = planKey(cfg);
    if (state?.report && state.reportKey === wanted) return { state: 'Planned', report: state.report, pending: state.pending !== undefined };
    if (state?.problem && state.problem.key === wanted) return { state: 'Unavailable', message: state.problem.message };
    if (state?.pending) {
      // No elapsed time in the message: it lands in a condition, and status is rewritten only when that changes.
      return { state: 'Pending', message: `the planner is simulating the recent history (since ${new Date(state.pending.startedAt).toISOString()})` };
    }
    return { state: 'Pending', message: 'no plan yet: the first one is made once the history is loaded' };
  }

  /** Starts a replan in the background when one is due. `history` is the first metric's. */
  refresh(key: string, cfg: ScalerConfig, history: Series | undefined, context: { leadTimeMs: number; startupDelayMs?: number }): void {
    if (!cfg.planner || !history) return;
    const now = this.opts.now();
    let state = this.keys.get(key);
    if (!state) this.keys.set(key, (state = {}));
    const wanted = planKey(cfg);
    if (state.pending || (state.retryAt !== undefined && now < state.retryAt && state.problem?.key === wanted)) return;
    const report = state.reportKey === wanted ? state.report : undefined;
    const refreshMs = Math.max(PLAN_REFRESH_MS, cfg.forecast.retrainEveryMs);
    const leadMoved = report !== undefined && Math.abs(context.leadTimeMs - report.leadTimeMs) > LEAD_TIME_CHANGE * Math.max(report.leadTimeMs, cfg.intervalMs);
    const due = !report || now - (state.madeAt ?? 0) >= refreshMs || leadMoved;
    if (!due) return;
    this.start(key, state, wanted, { demand: history, config: cfg, leadTimeMs: context.leadTimeMs, ...(context.startupDelayMs !== undefined ? { startupDelayMs: context.startupDelayMs } : {}) });
  }

  /** Drops the scaler's plan (it was deleted). */
  forget(key: string): void {
    this.keys.delete(key);
  }

  private start(key: string, state: KeyState, wanted: string, request: ReplanInput): void {
    const startedAt = this.opts.now();
    state.pending = { key: wanted, startedAt };
    const settle = (report: PlanReport | undefined, err: unknown) => {
      const seconds = (this.opts.now() - startedAt) / 1000;
      if (this.keys.get(key) !== state) return; // forgotten meanwhile
      state.pending = undefined;
      if (report) {
        state.report = report;
        state.reportKey = wanted;
        state.madeAt = this.opts.now();
        state.problem = undefined;
        state.retryAt = undefined;
        this.opts.onPlanned?.(seconds, 'success');
      } else {
        const unavailable = err instanceof PlanningUnavailable;
        const message = err instanceof Error ? err.message : String(err);
        state.problem = { key: wanted, message: unavailable ? message : `planning failed: ${message}` };
        state.retryAt = this.opts.now() + RETRY_MS;
        this.opts.onPlanned?.(seconds, unavailable ? 'unavailable' : 'failure');
        if (!unavailable) this.opts.logger?.warn({ key, err: message }, 'planning failed');
      }
    };
    let result: PlanReport | Promise<PlanReport>;
    try {
      result = this.opts.runner.plan(request);
    } catch (err) {
      settle(undefined, err);
      return;
    }
    if (!(result instanceof Promise)) {
      settle(result, undefined);
      return;
    }
    result
      .then(
        (r) => settle(r, undefined),
        (err: unknown) => settle(undefined, err),
      )
      .finally(() => {
        if (this.keys.get(key) === state) this.opts.onSettled?.(key);
      })
      .catch((err: unknown) => this.opts.logger?.warn({ key, err: err instanceof Error ? err.message : String(err) }, 'reconciling after a replan failed'));
  }
}

/**
 * What a plan depends on in the spec: everything the replay simulates except the fields it chooses.
 * A change (a new objective, other limits, another model) makes the plan stale.
 */
export function planKey(cfg: ScalerConfig): string {
  const planner = cfg.planner!;
  const metric = cfg.metrics[0]!;
  return JSON.stringify({
    planner,
    minReplicas: cfg.minReplicas,
    maxReplicas: cfg.maxReplicas,
    intervalMs: cfg.intervalMs,
    targetPerReplica: metric.targetPerReplica,
    metric: metric.name,
    forecast: { ...cfg.forecast, quantile: planner.autoQuantile ? 'Auto' : cfg.forecast.quantile },
    scaling: { ...cfg.scaling, headroom: planner.autoHeadroom ? 'Auto' : cfg.scaling.headroom },
    schedule: cfg.schedule,
  });
}
