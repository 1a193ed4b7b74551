// The scaling decision (SPEC section 3): metrics -> schedule -> min/max -> scale-up rate limit ->
// scale-down stabilization -> scale-down rate limit, explaining every step that changed the number.
// Pure: `now`, the history and the configuration all come in through DecisionInput.
import { formatDuration } from '../api/units.js';
import { formatNumber } from './format.js';
import { replicasAdded, replicasRemoved, scaleDownFloor, scaleUpLimit, stabilizeScaleDown } from './limits.js';
import { evaluateMetric, type MetricEvaluation } from './metric.js';
import { clamp } from './rounding.js';
import { applySchedule } from './schedule.js';
import type { Decision, DecisionInput, DecisionRule, DecisionStep } from './types.js';

export { predictiveReplicas, reactiveReplicas, withinTolerance, HPA_TOLERANCE } from './replicas.js';
export { windowPeak, planningValues, type WindowPeak } from './window.js';

/** Rules that hold the count back from the metric-driven value (the ScalingLimited condition). */
const LIMITING_RULES: ReadonlySet<DecisionRule> = new Set(['minReplicas', 'maxReplicas', 'scaleUpRate', 'stabilization', 'scaleDownRate']);

const RULE_LABEL: Partial<Record<DecisionRule, string>> = { scaleUpRate: 'scaleUp', scaleDownRate: 'scaleDown' };

export function decide(input: DecisionInput): Decision {
  const { now, config, currentReplicas } = input;
  const ctx = { now, config, currentReplicas, leadTimeMs: input.leadTimeMs, explain: input.explain };
  const evaluations = config.metrics.map((m) =>
    evaluateMetric(
      m,
      input.metrics.find((mi) => mi.name === m.name),
      ctx,
    ),
  );
  const metrics = evaluations.map((e) => e.decision);
  const noData = evaluations.filter((e) => e.missingData).map((e) => e.decision.name);

  if (noData.length === evaluations.length) {
    // No data at all: keep the current count exactly, whatever the bounds and limits say.
    const detail = `no data for ${noData.join(', ')}; holding ${currentReplicas} replicas`;
    return {
      desiredReplicas: currentReplicas,
      reason: 'HoldNoData',
      message: detail,
      recommendation: currentReplicas,
      steps: [{ rule: 'noData', from: currentReplicas, to: currentReplicas, detail }],
      limitedBy: [],
      metrics,
      missingData: true,
    };
  }

  const driver = drivingMetric(evaluations);
  // The first step is where the number comes from, so it is recorded even when it equals the current count.
  const steps: DecisionStep[] = [{ rule: driver.rule, from: currentReplicas, to: driver.replicas, detail: driver.text }];
  const explain = input.explain !== false;
  const explanation = explain ? evaluations.map((e) => e.text) : [];
  if (explain && evaluations.length > 1) explanation.push(`max over metrics ${driver.replicas} (${driver.decision.name})`);

  let value = driver.replicas;
  const apply = (rule: DecisionRule, to: number, detail: string, text: string) => {
    if (to === value) return;
    steps.push({ rule, from: value, to, detail });
    if (explain) explanation.push(text);
    value = to;
  };
  const limit = (rule: DecisionRule, to: number, detail: string) =>
    apply(rule, to, detail, `limited by ${RULE_LABEL[rule] ?? rule} to ${to} (${detail})`);

  for (const effect of applySchedule(value, config.schedule, now).effects) {
    apply('schedule', effect.to, effect.detail, `${effect.detail} => ${effect.to}`);
  }
  if (noData.length > 0 && value < currentReplicas) {
    const detail = `no data for ${noData.join(', ')}, so no scale-down`;
    apply('noData', currentReplicas, detail, `held at ${currentReplicas}: ${detail}`);
  }
  limit('minReplicas', Math.max(value, config.minReplicas), `minReplicas ${config.minReplicas}`);
  limit('maxReplicas', Math.min(value, config.maxReplicas), `maxReplicas ${config.maxReplicas}`);
  const recommendation = value;

  // The limits never push outside [minReplicas, maxReplicas]; when the current count is already
  // outside, the bounds win and the result moves into them.
  const intoBounds = (n: number) => clamp(n, config.minReplicas, config.maxReplicas);
  const { scaling } = config;
  if (value > currentReplicas) {
    const upTo = intoBounds(scaleUpLimit(currentReplicas, scaling.scaleUpMaxReplicasPerMinute, input.scaleEvents, now));
    const added = replicasAdded(input.scaleEvents, now);
    if (value > upTo) limit('scaleUpRate', upTo, `at most ${scaling.scaleUpMaxReplicasPerMinute} per minute, ${added} added in the last minute`);
  } else if (value < currentReplicas) {
    const windowMs = scaling.scaleDownStabilizationMs;
    const stabilized = intoBounds(stabilizeScaleDown(value, currentReplicas, input.recommendations, now, windowMs));
    limit('stabilization', Math.max(value, stabilized), `highest recommendation within ${formatDuration(windowMs)}`);
    if (value < currentReplicas) {
      const floor = intoBounds(scaleDownFloor(currentReplicas, scaling.scaleDownMaxPercentPerMinute, input.scaleEvents, now));
      const removed = replicasRemoved(input.scaleEvents, now);
      if (value < floor) {
        const detail =
          scaling.scaleDownMaxPercentPerMinute <= 0
            ? 'scale-down disabled (maxPercentPerMinute 0)'
            : `at most ${formatNumber(scaling.scaleDownMaxPercentPerMinute)}% per minute, ${removed} removed in the last minute`;
        limit('scaleDownRate', floor, detail);
      }
    }
  }

  return {
    desiredReplicas: value,
    reason: value > currentReplicas ? 'ScaleUp' : value < currentReplicas ? 'ScaleDown' : 'NoChange',
    message: explanation.join('; '),
    recommendation,
    steps,
    limitedBy: [...new Set(steps.map((s) => s.rule).filter((r) => LIMITING_RULES.has(r)))],
    metrics,
    missingData: noData.length > 0,
  };
}

/** The metric asking for the most replicas; on a tie, one with data beats a no-data hold. */
function drivingMetric(evaluations: MetricEvaluation[]): MetricEvaluation {
  return evaluations.reduce((best, e) =>
    e.replicas > best.replicas || (e.replicas === best.replicas && best.missingData && !e.missingData) ? e : best,
  );
}
