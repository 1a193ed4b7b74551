// How a plan reads in status, in the explanation and in `prescale forecast`.
import type { ScalerConfig } from '../api/config.js';
import type { PlanStatus, SimulatedPolicyStatus } from '../api/types.js';
import { formatDuration } from '../api/units.js';
import { formatPercent } from '../decision/format.js';
import { planLabel } from '../planner/plan.js';
import type { PlanReport, SimulatedSummary } from '../planner/replan.js';
import type { PlanView } from './plans.js';

function policyStatus(s: SimulatedSummary): SimulatedPolicyStatus {
  return {
    underProvisioned: formatPercent(s.underProvisioned),
    replicaMinutes: `${s.replicaMinutesRatio.toFixed(2)}x oracle`,
    scaleEvents: s.scaleEvents,
  };
}

export function planStatus(r: PlanReport): PlanStatus {
  return {
    quantile: r.plan.quantile,
    headroom: formatPercent(r.plan.headroom),
    objective: formatPercent(r.objective.maxUnderProvisioned),
    objectiveMet: r.met,
    simulated: policyStatus(r.simulated),
    hpa: { ...policyStatus(r.hpa), ...(r.hpa.targetForObjective !== undefined ? { targetForObjective: r.hpa.targetForObjective } : {}) },
    window: formatDuration(r.windowMs),
    evaluatedMinutes: r.evaluatedMinutes,
    plans: r.plans,
    plannedAt: new Date(r.plannedAt).toISOString(),
    message: r.reason,
  };
}

/** The explanation's first clause: which plan acts, and what it came to against the HPA. */
export function planSummary(spec: ScalerConfig, view: PlanView): string {
  if (view.state !== 'Planned') {
    return `no plan yet (${view.message}): ${planLabel({ quantile: spec.forecast.quantile, headroom: spec.scaling.headroom })}`;
  }
  const r = view.report;
  const verdict = r.met ? `meets the objective ${formatPercent(r.objective.maxUnderProvisioned)}` : `misses the objective ${formatPercent(r.objective.maxUnderProvisioned)}`;
  return (
    `plan ${planLabel(r.plan)} ${verdict} in simulation over the last ${formatDuration(r.windowMs)} ` +
    `(under-provisioned ${formatPercent(r.simulated.underProvisioned)}, ${r.simulated.replicaMinutesRatio.toFixed(2)}x oracle; ` +
    `HPA ${formatPercent(r.hpa.underProvisioned)}, ${r.hpa.replicaMinutesRatio.toFixed(2)}x)`
  );
}

/** Lines for `prescale forecast`. */
export function formatPlanLines(p: PlanStatus): string[] {
  const hpaTarget = p.hpa.targetForObjective !== undefined ? `; the HPA would meet it at target utilization ${p.hpa.targetForObjective}` : '; no HPA target of 1.0 .. 0.4 meets it';
  return [
    `plan:        q${p.quantile} +${p.headroom} (objective ${p.objective} under-provisioned: ${p.objectiveMet ? 'met' : 'NOT met'} in simulation over ${p.window}, ${p.evaluatedMinutes} minutes scored, ${p.plans} plans)`,
    `  prescale:  under-provisioned ${p.simulated.underProvisioned}, replica-minutes ${p.simulated.replicaMinutes}, ${p.simulated.scaleEvents} scale events`,
    `  HPA:       under-provisioned ${p.hpa.underProvisioned}, replica-minutes ${p.hpa.replicaMinutes}, ${p.hpa.scaleEvents} scale events${hpaTarget}`,
    `  why:       ${p.message}`,
  ];
}
