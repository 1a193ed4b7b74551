import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import type { ModelName } from '../../../src/api/types.js';
import { DEFAULT_PLAN_GRID, choosePlan, meetsObjective, type PlanOutcome } from '../../../src/planner/plan.js';
import { configForPlan, replayPlans, type ReplayInput } from '../../../src/planner/replay.js';
import type { TimeSeriesData } from '../../../src/simulate/types.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const T0 = Date.UTC(2026, 0, 5);
const CAPACITY = 80;

function scalerConfig(model: ModelName, step = '1m'): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 100,
    interval: '30s',
    metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: CAPACITY }],
    forecast: { model, history: '7d', step, horizon: '30m', seasonality: 'Auto', retrainEvery: '6h' },
    // No tolerance band: it moves the under-provisioning of neighbouring plans by a few tenths of a point, which the monotonicity checks below would read as noise.
    scaling: { leadTime: '10m', tolerance: '0%' },
  });
}

function minutes(days: number, at: (minuteOfDay: number) => number): TimeSeriesData {
  return { start: T0, stepMs: MIN, values: Array.from({ length: days * 1440 }, (_, i) => at(i % 1440)) };
}

/**
 * A daily plateau: 100 at night, a one-hour ramp from 07:00 to 800 until 20:00, with multiplicative
 * noise (about ±15%, deterministic), so a plan at the median forecast with no headroom falls short often.
 */
function dailyPlateau(days: number): TimeSeriesData {
  let seed = 7;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return minutes(days, (m) => {
    const hour = m / 60;
    const level = hour >= 7 && hour < 8 ? 100 + 700 * (hour - 7) : hour >= 8 && hour < 20 ? 800 : 100;
    return level * (1 + (uniform() + uniform() + uniform() - 1.5) * 0.15);
  });
}

function input(demand: TimeSeriesData, model: ModelName, warmUpMs: number): ReplayInput {
  return { demand, config: scalerConfig(model), capacityPerReplica: CAPACITY, leadTimeMs: 10 * MIN, startupDelayMs: 10 * MIN, metricLagMs: MIN, warmUpMs };
}

/** The cheapest meeting outcome, computed independently of choosePlan's ordering code. */
function cheapestMeeting(outcomes: readonly PlanOutcome[], max: number): PlanOutcome[] {
  const meeting = outcomes.filter((o) => o.underProvisioned <= max);
  const least = Math.min(...meeting.map((o) => o.replicaMinutes));
  return meeting.filter((o) => o.replicaMinutes === least);
}

function find(outcomes: readonly PlanOutcome[], quantile: number, headroom: number): PlanOutcome {
  return outcomes.find((o) => o.plan.quantile === quantile && o.plan.headroom === headroom)!;
}

describe('replayPlans on constant demand', () => {
  // 390 per minute at 80 per replica: 5 replicas serve it exactly; any headroom buys a sixth.
  const result = replayPlans(input(minutes(2, () => 390), 'HoltWinters', DAY), { maxUnderProvisioned: 0 });

  it('simulates every plan of the default grid over the evaluated day, and the oracle', () => {
    expect(result.evaluatedMinutes).toBe(1440);
    expect(result.outcomes.map((o) => o.plan)).toEqual(DEFAULT_PLAN_GRID.map((p) => ({ ...p })));
    expect(result.oracleReplicaMinutes).toBe(5 * 1440);
  });

  it('every plan meets even the objective 0, and the choice is the cheapest: headroom 0, the lowest quantile', () => {
    for (const o of result.outcomes) expect(o.underProvisioned).toBe(0);
    const choice = choosePlan(result.outcomes, { maxUnderProvisioned: 0 }, '1d');
    expect(choice.met).toBe(true);
    const cheapest = cheapestMeeting(result.outcomes, 0);
    expect(cheapest).toContain(choice.outcome);
    expect(choice.plan).toEqual({ quantile: 0.5, headroom: 0 });
    expect(choice.outcome.replicaMinutes).toBe(result.oracleReplicaMinutes);
  });

  it('the HPA at its target serves the constant load with the oracle replicas, and meets the objective there', () => {
    expect(result.hpa.atTarget).toEqual({ underProvisioned: 0, replicaMinutes: 5 * 1440, scaleEvents: 0 });
    expect(result.hpa.targetForObjective).toBe(1);
    expect(result.hpa.sweep.map((h) => h.targetUtilization)).toEqual([1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4]);
  });
});

describe('replayPlans on a noisy daily plateau with a 10-minute start-up', () => {
  const objective = { maxUnderProvisioned: 0.01 };
  const result = replayPlans(input(dailyPlateau(4), 'HoltWinters', 2 * DAY), objective);
  const choice = choosePlan(result.outcomes, objective, '2d');

  it('more quantile or more headroom buys less under-provisioning (allowing 0.1 point of noise)', () => {
    const quantiles = [...new Set(DEFAULT_PLAN_GRID.map((p) => p.quantile))];
    const headrooms = [...new Set(DEFAULT_PLAN_GRID.map((p) => p.headroom))];
    for (const h of headrooms) {
      for (let i = 1; i < quantiles.length; i++) {
        expect(find(result.outcomes, quantiles[i]!, h).underProvisioned).toBeLessThanOrEqual(find(result.outcomes, quantiles[i - 1]!, h).underProvisioned + 0.001);
      }
      expect(find(result.outcomes, 0.99, h).underProvisioned).toBeLessThanOrEqual(find(result.outcomes, 0.5, h).underProvisioned);
    }
    // With no headroom the quantile is the only lever, and it matters a lot.
    expect(find(result.outcomes, 0.99, 0).underProvisioned).toBeLessThan(find(result.outcomes, 0.5, 0).underProvisioned / 4);
    for (const q of quantiles) {
      for (let i = 1; i < headrooms.length; i++) {
        expect(find(result.outcomes, q, headrooms[i]!).underProvisioned).toBeLessThanOrEqual(find(result.outcomes, q, headrooms[i - 1]!).underProvisioned + 0.001);
      }
    }
  });

  it('the chosen plan meets 1% where q0.5 +0% does not, and is the cheapest that does', () => {
    expect(find(result.outcomes, 0.5, 0).underProvisioned).toBeGreaterThan(objective.maxUnderProvisioned);
    expect(choice.met).toBe(true);
    expect(choice.outcome.underProvisioned).toBeLessThanOrEqual(objective.maxUnderProvisioned);
    expect(cheapestMeeting(result.outcomes, objective.maxUnderProvisioned)).toContain(choice.outcome);
    expect(choice.plan).not.toEqual({ quantile: 0.5, headroom: 0 });
  });

  it('the HPA at the scaler’s own target under-provisions more than the chosen plan; a lower target meets the objective', () => {
    expect(result.hpa.atTarget.underProvisioned).toBeGreaterThan(choice.outcome.underProvisioned);
    expect(result.hpa.atTarget.underProvisioned).toBeGreaterThan(objective.maxUnderProvisioned);
    const meeting = result.hpa.sweep.filter((h) => meetsObjective(h, objective)).map((h) => h.targetUtilization);
    expect(result.hpa.targetForObjective).toBe(Math.max(...meeting));
    expect(result.hpa.targetForObjective).toBeLessThan(1);
  });

  it('no plan costs less than the oracle without falling short', () => {
    for (const o of result.outcomes) if (o.underProvisioned === 0) expect(o.replicaMinutes).toBeGreaterThanOrEqual(result.oracleReplicaMinutes);
    expect(result.evaluatedMinutes).toBe(2 * 1440);
  });
});

describe('replayPlans input checks', () => {
  const short = minutes(1, () => 100);

  it('refuses a warm-up that leaves nothing to score, an empty grid and a model step other than one minute', () => {
    expect(() => replayPlans(input(short, 'Linear', DAY), { maxUnderProvisioned: 0.005 })).toThrow(/warm-up/);
    expect(() => replayPlans({ ...input(short, 'Linear', 0), grid: [] }, { maxUnderProvisioned: 0.005 })).toThrow(/grid is empty/);
    expect(() => replayPlans({ ...input(short, 'Linear', 0), config: scalerConfig('Linear', '5m') }, { maxUnderProvisioned: 0.005 })).toThrow(/one-minute/);
  });

  it('a plan changes only the quantile and the headroom of a copy of the config', () => {
    const config = scalerConfig('HoltWinters');
    const before = structuredClone(config);
    const planned = configForPlan(config, { quantile: 0.7, headroom: 0.2 });
    expect(config).toEqual(before);
    expect(planned).toEqual({ ...before, forecast: { ...before.forecast, quantile: 0.7 }, scaling: { ...before.scaling, headroom: 0.2 } });
  });
});

describe('replayPlans cost', () => {
  it('times one replan on 7 days of one-minute history with HoltWinters and the default grid (printed, not asserted)', () => {
    const started = performance.now();
    const result = replayPlans(input(dailyPlateau(7), 'HoltWinters', DAY), { maxUnderProvisioned: 0.005 });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `planner: replayPlans on 7 days of 1-minute history, HoltWinters, ${result.outcomes.length} plans + ${result.hpa.sweep.length} HPA runs: ${seconds.toFixed(2)} s`,
    );
    expect(result.outcomes).toHaveLength(DEFAULT_PLAN_GRID.length);
  });
});
