// Plan to an SLO (issue 13): a plan is the forecast quantile prescale acts on and the headroom it adds;
// the planner simulates each plan of a small grid on the scaler's recent history (replay.ts) and keeps
// the cheapest one whose simulated under-provisioning meets the objective. Pure.
import { formatPercent } from '../decision/format.js';

export interface Plan {
  quantile: number;
  /** Fraction: 0.1 = 10%. */
  headroom: number;
}

export interface Objective {
  /** Share of evaluated minutes with Ready capacity below demand: 0.005 = 0.5%. */
  maxUnderProvisioned: number;
}

export const DEFAULT_OBJECTIVE: Objective = Object.freeze({ maxUnderProvisioned: 0.005 });

const GRID_QUANTILES = [0.5, 0.7, 0.8, 0.9, 0.95, 0.99] as const;
const GRID_HEADROOMS = [0, 0.05, 0.1, 0.2] as const;

/** 24 plans; each costs one simulated run per replan, so the grid stays small. */
export const DEFAULT_PLAN_GRID: readonly Plan[] = Object.freeze(
  GRID_QUANTILES.flatMap((quantile) => GRID_HEADROOMS.map((headroom) => Object.freeze({ quantile, headroom }))),
);

/** What one simulated run of a policy came to over the evaluated minutes. */
export interface SimulatedOutcome {
  /** Share of evaluated minutes with Ready capacity below demand. */
  underProvisioned: number;
  replicaMinutes: number;
  scaleEvents: number;
}

export interface PlanOutcome extends SimulatedOutcome {
  plan: Plan;
}

export interface PlanChoice {
  plan: Plan;
  outcome: PlanOutcome;
  /** Whether the chosen plan's simulated under-provisioning meets the objective. */
  met: boolean;
  /** One sentence for status. */
  reason: string;
}

// Shares are sums of quarter-minutes divided by the evaluated minutes, and objectives come from
// percentages ("0.5%" -> 0.005): a rounding error must not turn a plan that exactly meets it into a miss.
const SHARE_EPSILON = 1e-12;

export function meetsObjective(outcome: SimulatedOutcome, objective: Objective): boolean {
  return outcome.underProvisioned <= objective.maxUnderProvisioned + SHARE_EPSILON;
}

/** "q0.8 +5%". */
export function planLabel(plan: Plan): string {
  return `q${plan.quantile} +${formatPercent(plan.headroom)}`;
}

/**
 * Cheaper first; among equally cheap runs the calmer one, then the lower quantile, then the lower
 * headroom (and, for the same plan listed twice, the lower under-provisioning, so order never matters).
 */
function byCost(a: PlanOutcome, b: PlanOutcome): number {
  return (
    a.replicaMinutes - b.replicaMinutes ||
    a.scaleEvents - b.scaleEvents ||
    a.plan.quantile - b.plan.quantile ||
    a.plan.headroom - b.plan.headroom ||
    a.underProvisioned - b.underProvisioned
  );
}

function byShortfall(a: PlanOutcome, b: PlanOutcome): number {
  return a.underProvisioned - b.underProvisioned || byCost(a, b);
}

function best(outcomes: readonly PlanOutcome[], order: (a: PlanOutcome, b: PlanOutcome) => number): PlanOutcome {
  return outcomes.reduce((a, b) => (order(b, a) < 0 ? b : a));
}

/**
 * The cheapest replicaMinutes among the outcomes meeting the objective (ties: fewer scale events,
 * then lower quantile, then lower headroom); when none meets it, the lowest underProvisioned (ties:
 * cheaper, then as above). Throws on an empty list or an objective that is not a share in [0, 1].
 */
export function choosePlan(outcomes: readonly PlanOutcome[], objective: Objective, windowLabel: string): PlanChoice {
  if (outcomes.length === 0) throw new Error('choosePlan needs at least one simulated plan');
  const max = objective.maxUnderProvisioned;
  if (!(max >= 0 && max <= 1)) throw new RangeError(`the objective maxUnderProvisioned must be a share in [0, 1], got ${max}`);
  const plans = `${outcomes.length} plan${outcomes.length === 1 ? '' : 's'}`;
  const meeting = outcomes.filter((o) => meetsObjective(o, objective));
  if (meeting.length > 0) {
    const outcome = best(meeting, byCost);
    const count = meeting.length === outcomes.length ? 'all do' : meeting.length === 1 ? 'the only one that does' : `${meeting.length} of them do`;
    return {
      plan: outcome.plan,
      outcome,
      met: true,
      reason:
        `${planLabel(outcome.plan)} is the cheapest of ${plans} whose simulated under-provisioning (${formatPercent(outcome.underProvisioned)}) ` +
        `meets the objective ${formatPercent(max)} over the last ${windowLabel} (${count})`,
    };
  }
  const outcome = best(outcomes, byShortfall);
  return {
    plan: outcome.plan,
    outcome,
    met: false,
    reason:
      `none of ${plans} met the objective ${formatPercent(max)} over the last ${windowLabel}: ` +
      `${planLabel(outcome.plan)} comes closest with ${formatPercent(outcome.underProvisioned)} simulated under-provisioning`,
  };
}
