import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import { parsePercent } from '../../../src/api/units.js';
import { DEFAULT_PLAN_GRID } from '../../../src/planner/plan.js';
import { applyPlan, replan } from '../../../src/planner/replan.js';
import { AutoPrescaleController, PLAN_GRID_QUANTILES, planRefreshMs } from '../../../src/simulate/auto-policy.js';
import { runSimulation, type SimulationSetup } from '../../../src/simulate/engine.js';
import { PrescaleController, SharedForecasts } from '../../../src/simulate/prescale-policy.js';
import { autoScalerConfig, simulate, simulatedScalerConfig, type SimulateOptions } from '../../../src/simulate/simulate.js';
import type { ClusterView, ReplicaController, TimeSeriesData } from '../../../src/simulate/types.js';
import type { TracePoint } from '../../../src/traces/csv.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 1440 * MIN;
const T0 = Date.UTC(2026, 0, 5);
const CAPACITY = 80;

/**
 * One-minute points of a daily plateau: 100 at night, a one-hour ramp from 07:00 to 800 until 20:00,
 * with multiplicative noise (about ±15%, deterministic): a plan at the median with no headroom falls
 * short often, one at a high quantile with headroom almost never.
 */
function plateauTrace(minutes: number): TracePoint[] {
  let seed = 7;
  const uniform = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  return Array.from({ length: minutes }, (_, i) => {
    const hour = (i % 1440) / 60;
    const level = hour >= 7 && hour < 8 ? 100 + 700 * (hour - 7) : hour >= 8 && hour < 20 ? 800 : 100;
    return [T0 + i * MIN, level * (1 + (uniform() + uniform() + uniform() - 1.5) * 0.15)] as TracePoint;
  });
}

const asDemand = (points: TracePoint[]): TimeSeriesData => ({ start: points[0]![0], stepMs: MIN, values: points.map((p) => p[1]) });

const base: SimulateOptions = {
  traceName: 'plateau',
  points: plateauTrace(3 * 1440),
  capacityPerReplica: CAPACITY,
  startupDelayMs: 2 * MIN,
  metricLagMs: MIN,
  policies: ['prescale', 'auto', 'hpa', 'oracle'],
  model: 'SeasonalNaive',
  quantiles: [0.5, 0.9],
  hpaTargets: [1, 0.8, 0.6],
  warmupMs: 1.5 * DAY,
  minReplicas: 1,
  maxReplicas: 100,
};

describe('prescale simulate with prescale@auto', () => {
  const { output, notes } = simulate(base);
  const auto = output.auto!;

  it('runs once next to the quantile sweep and is summarized against the HPA frontier like it', () => {
    expect(output.policies.map((p) => p.name)).toEqual(['prescale@q0.5', 'prescale@q0.9', 'prescale@auto', 'hpa@1', 'hpa@0.8', 'hpa@0.6', 'oracle']);
    expect(output.summary.map((s) => s.policy)).toEqual(['prescale@q0.5', 'prescale@q0.9', 'prescale@auto']);
    const s = output.summary.find((x) => x.policy === 'prescale@auto')!;
    expect(s.underRatioAtEqualCost ?? s.costRatioAtEqualUnder).not.toBeNull();
  });

  it('reports its plans over time, its result, the objective and the HPA run closest in cost', () => {
    expect(Object.keys(auto)).toEqual(['policy', 'objective', 'objectiveMet', 'result', 'plans', 'hpaClosestInCost', 'scaleEventsRatio']);
    expect(auto.policy).toBe('prescale@auto');
    expect(auto.objective).toBe(0.005);
    expect(auto.result).toEqual(output.policies.find((p) => p.name === 'prescale@auto'));
    expect(auto.objectiveMet).toBe(auto.result.underProvisionedFraction <= 0.005);
    for (const p of auto.plans) {
      expect(Object.keys(p)).toEqual(['time', 'evaluated', 'quantile', 'headroom', 'met', 'underProvisioned', 'replicaMinutesRatio', 'historyMinutes']);
      expect(DEFAULT_PLAN_GRID).toContainEqual({ quantile: p.quantile, headroom: p.headroom });
    }
    const hpa = output.policies.filter((p) => p.name.startsWith('hpa@'));
    const gap = (rm: number) => Math.abs(rm - auto.result.replicaMinutes);
    const closest = hpa.reduce((a, b) => (gap(b.replicaMinutes) < gap(a.replicaMinutes) ? b : a));
    expect(auto.hpaClosestInCost).toEqual({ policy: closest.name, replicaMinutes: closest.replicaMinutes, scaleEvents: closest.scaleEvents });
    expect(auto.scaleEventsRatio).toBeCloseTo(auto.result.scaleEvents / closest.scaleEvents, 12);
    expect(notes.join('\n')).toMatch(/prescale@auto: 2 plans from 2026-01-06T00:00:00.000Z/);
  });

  it('replans once a day of history has been observed (metric lag 1m: at one day), then every 24 h, on the whole observed history', () => {
    expect(auto.plans.map((p) => p.time)).toEqual(['2026-01-06T00:00:00.000Z', '2026-01-07T00:00:00.000Z']);
    expect(auto.plans.map((p) => p.evaluated)).toEqual([false, true]);
    expect(auto.plans.map((p) => p.historyMinutes)).toEqual([1440, 2880]);
    // Each plan is what replan() makes of the days observed so far, independently of the simulation.
    const demand = asDemand(base.points as TracePoint[]);
    const config = autoScalerConfig(base, 0.005, base.startupDelayMs);
    for (const [k, p] of auto.plans.entries()) {
      const days = k + 1;
      const report = replan({ demand: { ...demand, values: demand.values.slice(0, days * 1440) }, config, leadTimeMs: base.startupDelayMs });
      expect({ quantile: p.quantile, headroom: p.headroom, met: p.met, underProvisioned: p.underProvisioned }).toEqual({
        quantile: report.plan.quantile,
        headroom: report.plan.headroom,
        met: report.met,
        underProvisioned: report.simulated.underProvisioned,
      });
    }
  });

  it('meets the objective on the evaluated days when a grid plan meets it in replay', () => {
    const evaluated = auto.plans.filter((p) => p.evaluated);
    expect(evaluated.every((p) => p.met)).toBe(true);
    // A day and a half scored: the objective 0.5% allows 10.8 minutes.
    expect(auto.result.underProvisionedFraction).toBeLessThanOrEqual(0.005);
    expect(auto.objectiveMet).toBe(true);
    // Meeting it costs no more than the default plan (q0.9 +10%) does.
    const q9 = output.policies.find((p) => p.name === 'prescale@q0.9')!;
    expect(auto.result.replicaMinutes).toBeLessThanOrEqual(q9.replicaMinutes * 1.01);
  });

  it('plans to another objective when asked', () => {
    const strict = simulate({ ...base, points: plateauTrace(2 * 1440 + 60), warmupMs: DAY, policies: ['auto'], objective: 0 });
    expect(strict.output.policies.map((p) => p.name)).toEqual(['prescale@auto']);
    expect(strict.output.auto!.objective).toBe(0);
    expect(strict.output.auto!.objectiveMet).toBe(strict.output.auto!.result.underProvisionedMinutes === 0);
    expect(strict.output.auto!.hpaClosestInCost).toBeNull();
    expect(strict.output.auto!.scaleEventsRatio).toBeNull();
  });

  it('leaves the output as it was without the policy', () => {
    const without = simulate({ ...base, points: plateauTrace(2 * 1440 + 60), warmupMs: DAY, policies: ['prescale', 'hpa'] });
    expect('auto' in without.output).toBe(false);
    expect(without.output.summary.map((s) => s.policy)).toEqual(['prescale@q0.5', 'prescale@q0.9']);
  });
});

/** Records what a controller asked for at each sync. */
class Recording implements ReplicaController {
  readonly decisions: { now: number; replicas: number }[] = [];
  constructor(
    private readonly inner: ReplicaController,
    private readonly after?: (now: number) => void,
  ) {}
  get name() {
    return this.inner.name;
  }
  get periodMs() {
    return this.inner.periodMs;
  }
  sync(view: ClusterView): number {
    const replicas = this.inner.sync(view);
    this.decisions.push({ now: view.now, replicas });
    this.after?.(view.now);
    return replicas;
  }
}

describe('AutoPrescaleController', () => {
  // A 36-hour history window and retrainEvery 36h: replans at most every 36 h, on the last 36 h.
  const spec = {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 100,
    interval: '30s',
    metrics: [{ name: 'demand', query: 'trace', targetPerReplica: CAPACITY }],
    forecast: { model: 'SeasonalNaive' as const, history: '36h', step: '1m', horizon: '30m', retrainEvery: '36h' },
    scaling: { leadTime: '2m' },
  };
  const config: ScalerConfig = toScalerConfig({ ...spec, scaling: { ...spec.scaling, objective: { maxUnderProvisioned: '0.5%' } } });
  const defaults: ScalerConfig = toScalerConfig(spec);
  const points = plateauTrace(2.5 * 1440 + 60);
  const demand = asDemand(points);
  const lag = 2 * MIN;
  const setup: SimulationSetup = { demand, capacityPerReplica: CAPACITY, startupDelayMs: 2 * MIN, metricLagMs: lag, evaluateFrom: T0 + DAY, minReplicas: 1, maxReplicas: 100 };
  const forecasts = new SharedForecasts(demand, config, lag, 2 * MIN, [...PLAN_GRID_QUANTILES]);
  const auto = new AutoPrescaleController(config, forecasts, 2 * MIN, demand, lag);
  const acting: { now: number; quantile: number; headroom: number }[] = [];
  const autoRun = new Recording(auto, (now) => acting.push({ now, quantile: auto.actingConfig.forecast.quantile, headroom: auto.actingConfig.scaling.headroom }));
  const defaultRun = new Recording(new PrescaleController(defaults, forecasts, 2 * MIN));
  runSimulation([autoRun, defaultRun], setup);

  it('replans first when the observed history reaches a day (lag 2m: one minute later), then after max(24 h, retrainEvery)', () => {
    expect(planRefreshMs(config)).toBe(36 * HOUR);
    expect(planRefreshMs(toScalerConfig({ ...spec, forecast: { ...spec.forecast, retrainEvery: '6h' }, scaling: { ...spec.scaling, headroom: 'Auto' } }))).toBe(DAY);
    expect(auto.plans.map((p) => p.at - T0)).toEqual([DAY + MIN, DAY + MIN + 36 * HOUR]);
    // The first one on all of the first day, the second on the last 36 h the window keeps.
    expect(auto.plans.map((p) => p.historyMinutes)).toEqual([1440, 2160]);
    // Before, replan refused each new minute of a history shorter than a day.
    expect(auto.unavailable.attempts).toBe(1439);
    expect(auto.unavailable.lastReason).toMatch(/planning needs 1d of history, have 23h59m/);
    const second = replan({ demand: { start: T0 + 1440 * MIN, stepMs: MIN, values: demand.values.slice(1440, 3600) }, config, leadTimeMs: 2 * MIN });
    expect({ quantile: auto.plans[1]!.quantile, headroom: auto.plans[1]!.headroom }).toEqual(second.plan);
  });

  it('decides with the defaults until the first plan, exactly as a q0.9 +10% run, then with the plan', () => {
    const firstPlanAt = auto.plans[0]!.at;
    const before = autoRun.decisions.filter((d) => d.now < firstPlanAt);
    expect(before.length).toBe((DAY + MIN) / (30 * 1000));
    expect(before).toEqual(defaultRun.decisions.slice(0, before.length));
    for (const a of acting) {
      const plan = [...auto.plans].reverse().find((p) => p.at <= a.now);
      expect({ quantile: a.quantile, headroom: a.headroom }).toEqual(plan ? { quantile: plan.quantile, headroom: plan.headroom } : { quantile: 0.9, headroom: 0.1 });
    }
    expect(applyPlan(config, auto.plans[0]).forecast.quantile).toBe(auto.plans[0]!.quantile);
  });

  it('refuses a config without the planner', () => {
    expect(() => new AutoPrescaleController(defaults, forecasts, 2 * MIN, demand, lag)).toThrow(/needs a config with the planner on/);
  });
});

describe('the simulated specs', () => {
  it('prescale@auto plans quantile and headroom to the objective, with the defaults until it has a plan', () => {
    const c = autoScalerConfig(base, 0.007, 2 * MIN);
    // As the spec's "0.7%" parses.
    expect(c.planner).toEqual({ maxUnderProvisioned: parsePercent('0.7%'), autoQuantile: true, autoHeadroom: true });
    expect(c.forecast.quantile).toBe(0.9);
    expect(c.scaling.headroom).toBe(0.1);
    const { planner: _p, ...rest } = c;
    expect(rest).toEqual(simulatedScalerConfig(base, 0.9, 2 * MIN));
  });
});
