import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import { PlanningUnavailable, applyPlan, planGrid, planReportProblem, planningDemand, replan, replayModel } from '../../../src/planner/replan.js';
import type { TimeSeriesData } from '../../../src/simulate/types.js';

const MIN = 60_000;
const DAY = 1440 * MIN;

function config(forecast: Record<string, unknown> = {}, scaling: Record<string, unknown> = {}): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 100,
    metrics: [{ name: 'rps', query: 'q', targetPerReplica: 80 }],
    forecast: { model: 'HoltWinters', history: '3d', seasonality: ['1d'], ...forecast },
    scaling: { leadTime: '10m', ...scaling },
  });
}

/** A daily plateau with ±15% noise (deterministic): 100 at night, 800 from 08:00 to 20:00. */
function plateau(days: number): TimeSeriesData {
  let seed = 11;
  const u = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const values = Array.from({ length: days * 1440 }, (_, i) => {
    const h = (i % 1440) / 60;
    const level = h >= 7 && h < 8 ? 100 + 700 * (h - 7) : h >= 8 && h < 20 ? 800 : 100;
    return level * (1 + (u() + u() + u() - 1.5) * 0.15);
  });
  return { start: Date.UTC(2026, 0, 5), stepMs: MIN, values };
}

describe('planGrid', () => {
  it('spans quantile x headroom when both are Auto, and one axis when the other is explicit', () => {
    const both = config({}, { objective: { maxUnderProvisioned: '1%' } });
    expect(planGrid(both, both.planner!)).toHaveLength(24);
    const quantileOnly = config({}, { objective: { maxUnderProvisioned: '1%' }, headroom: '15%' });
    expect(planGrid(quantileOnly, quantileOnly.planner!)).toEqual([0.5, 0.7, 0.8, 0.9, 0.95, 0.99].map((quantile) => ({ quantile, headroom: 0.15 })));
    const fixed = config({ quantile: 0.8 }, { objective: { maxUnderProvisioned: '1%' }, headroom: '5%' });
    expect(planGrid(fixed, fixed.planner!)).toEqual([{ quantile: 0.8, headroom: 0.05 }]);
  });
});

describe('planningDemand', () => {
  it('carries gaps forward and drops leading ones', () => {
    expect(planningDemand({ start: 0, stepMs: MIN, values: [NaN, NaN, 3, NaN, 5, ...Array(30).fill(1)] })).toEqual({ start: 2 * MIN, stepMs: MIN, values: [3, 3, 5, ...Array(30).fill(1)] });
  });
  it('refuses a step other than a minute, an empty history and one with more than 10% gaps', () => {
    expect(() => planningDemand({ start: 0, stepMs: 5 * MIN, values: [1] })).toThrow(/spec.forecast.step is 5m/);
    expect(() => planningDemand({ start: 0, stepMs: MIN, values: [NaN, NaN] })).toThrow(PlanningUnavailable);
    expect(() => planningDemand({ start: 0, stepMs: MIN, values: [1, NaN, 1, NaN, 1, 1, 1, 1] })).toThrow(/2 of the last 8 minutes have no data/);
  });
});

describe('replan', () => {
  it('picks the cheapest grid plan that meets the objective, and reports the HPA beside it', () => {
    const cfg = config({}, { objective: { maxUnderProvisioned: '1%' } });
    const r = replan({ demand: plateau(3), config: cfg, leadTimeMs: 10 * MIN });
    expect(r.plans).toBe(24);
    expect(r.met).toBe(true);
    expect(r.simulated.underProvisioned).toBeLessThanOrEqual(0.01);
    expect(r.windowMs).toBe(3 * DAY);
    // Holt-Winters with a daily season forecasts after two days: those warm the replay up, unscored.
    expect(r.evaluatedMinutes).toBe(1440);
    // The HPA reacts to a ramp that takes 10 minutes to serve: it falls short far more often.
    expect(r.hpa.underProvisioned).toBeGreaterThan(r.simulated.underProvisioned);
    expect(r.simulated.replicaMinutesRatio).toBeGreaterThan(1);
    expect(r.reason).toMatch(/is the cheapest of 24 plans/);
    expect(planReportProblem(r)).toBeUndefined();
    expect(planReportProblem(JSON.parse(JSON.stringify(r)))).toBeUndefined();
  });

  it('refuses less than a day of history and a spec that plans nothing', () => {
    const cfg = config({}, { objective: { maxUnderProvisioned: '1%' } });
    expect(() => replan({ demand: plateau(3), config: config(), leadTimeMs: MIN })).toThrow(/no objective/);
    const short = { ...plateau(1), values: plateau(1).values.slice(0, 1439) };
    expect(() => replan({ demand: short, config: cfg, leadTimeMs: MIN })).toThrow(/planning needs 1d of history, have 23h59m/);
    // Two days for Holt-Winters' daily season, then half a day to score.
    expect(() => replan({ demand: { ...plateau(2), values: plateau(3).values.slice(0, 3500) }, config: cfg, leadTimeMs: MIN })).toThrow(
      /planning needs 2d12h of history \(HoltWinters forecasts after 2d, then at least 12h is scored\), have 2d10h20m/,
    );
  });

  it('plans a hostile spec (two billion replicas of 0.001 each) without a per-replica cost', () => {
    const cfg = toScalerConfig({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 2_147_483_647,
      metrics: [{ name: 'rps', query: 'q', targetPerReplica: '1m' }],
      forecast: { model: 'HoltWinters', history: '3d', seasonality: ['1d'] },
      scaling: { leadTime: '10m', objective: { maxUnderProvisioned: '1%' } },
    });
    const huge = { ...plateau(3), values: plateau(3).values.map((v) => v * 1e6) };
    const r = replan({ demand: huge, config: cfg, leadTimeMs: 10 * MIN });
    expect(planReportProblem(r)).toBeUndefined();
    expect(r.evaluatedMinutes).toBe(1440);
  });

  it('replays LSTM and Ensemble scalers with Holt-Winters, and says so', () => {
    expect(replayModel(config({ model: 'LSTM' }))).toBe('HoltWinters');
    expect(replayModel(config({ model: 'SeasonalNaive' }))).toBe('SeasonalNaive');
  });
});

describe('applyPlan', () => {
  it('sets only the Auto fields', () => {
    const both = config({}, { objective: { maxUnderProvisioned: '1%' } });
    expect(applyPlan(both, { quantile: 0.7, headroom: 0.2 })).toMatchObject({ forecast: { quantile: 0.7 }, scaling: { headroom: 0.2 } });
    const headroomFixed = config({}, { objective: { maxUnderProvisioned: '1%' }, headroom: '15%' });
    expect(applyPlan(headroomFixed, { quantile: 0.7, headroom: 0.2 })).toMatchObject({ forecast: { quantile: 0.7 }, scaling: { headroom: 0.15 } });
    expect(applyPlan(config(), { quantile: 0.7, headroom: 0.2 })).toMatchObject({ forecast: { quantile: 0.9 }, scaling: { headroom: 0.1 } });
    expect(applyPlan(both, undefined)).toBe(both);
  });
});

describe('planReportProblem', () => {
  it.each([
    ['null', null, /not an object/],
    ['a quantile of 1', { plan: { quantile: 1, headroom: 0 } }, /plan.quantile/],
    ['a negative share', { plan: { quantile: 0.5, headroom: 0 }, objective: { maxUnderProvisioned: -1 } }, /objective/],
  ])('rejects %s', (_label, value, message) => {
    expect(planReportProblem(value)).toMatch(message);
  });
});
