import { describe, expect, it } from 'vitest';
import { simulate, simulateAtDelays, type SimulateOptions } from '../../../src/simulate/simulate.js';
import type { TracePoint } from '../../../src/traces/csv.js';

const MIN = 60_000;
const DAY = 1440 * MIN;
const T0 = Date.UTC(2026, 0, 5);

/** Five-minute points of a daily cycle with a steep morning ramp, and mild noise. */
function dailyRampTrace(days: number): TracePoint[] {
  let seed = 3;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 20;
  const points: TracePoint[] = [];
  for (let t = T0; t < T0 + days * DAY; t += 5 * MIN) {
    const hour = ((t - T0) % DAY) / 3_600_000;
    const busy = hour >= 8 && hour < 20 ? 800 : 100;
    const ramp = hour >= 7 && hour < 8 ? 100 + 700 * (hour - 7) : busy;
    points.push([t, ramp + noise()]);
  }
  return points;
}

const base: SimulateOptions = {
  traceName: 'synthetic',
  points: dailyRampTrace(6),
  capacityPerReplica: 80,
  startupDelayMs: 10 * MIN,
  metricLagMs: MIN,
  policies: ['prescale', 'hpa', 'oracle'],
  model: 'HoltWinters',
  quantiles: [0.5, 0.9],
  hpaTargets: [1, 0.8, 0.6],
  warmupMs: 3 * DAY,
  minReplicas: 1,
  maxReplicas: 100,
};

describe('simulate', () => {
  const result = simulate({ ...base, collectReport: true });

  it('scores every policy over the evaluated span in the --json shape', () => {
    expect(result.output).toMatchObject({ trace: 'synthetic', evaluatedMinutes: 3 * 1440, capacityPerReplica: 80, startupDelaySeconds: 600 });
    expect(result.output.policies.map((p) => p.name)).toEqual(['prescale@q0.5', 'prescale@q0.9', 'hpa@1', 'hpa@0.8', 'hpa@0.6', 'oracle']);
    expect(result.output.summary.map((s) => s.policy)).toEqual(['prescale@q0.5', 'prescale@q0.9']);
    for (const p of result.output.policies) {
      expect(Object.keys(p).sort()).toEqual(['name', 'replicaMinutes', 'scaleEvents', 'underProvisionedFraction', 'underProvisionedMinutes', 'unservedDemand']);
    }
  });

  it('the oracle is the lower bound of replica-minutes without under-provisioning', () => {
    const oracle = result.output.policies.find((p) => p.name === 'oracle')!;
    expect(oracle.underProvisionedMinutes).toBe(0);
    for (const p of result.output.policies) if (p.underProvisionedMinutes === 0) expect(p.replicaMinutes).toBeGreaterThanOrEqual(oracle.replicaMinutes);
  });

  it('starts pods ahead of a learnable daily ramp: less under-provisioning than the HPA at the same cost', () => {
    const q9 = result.output.summary.find((s) => s.policy === 'prescale@q0.9')!;
    const hpa = result.output.policies.filter((p) => p.name.startsWith('hpa@'));
    const prescale = result.output.policies.find((p) => p.name === 'prescale@q0.9')!;
    // Every HPA run is short during each ramp: its pods start ten minutes after the load arrives.
    for (const h of hpa) expect(h.underProvisionedMinutes).toBeGreaterThan(prescale.underProvisionedMinutes);
    if (q9.underRatioAtEqualCost !== null) expect(q9.underRatioAtEqualCost).toBeLessThan(0.5);
    else expect(q9.costRatioAtEqualUnder).toBeLessThan(1);
  });

  it('collects what the report plots: demand, per-policy capacity and the forecast band', () => {
    const r = result.report!;
    expect(r.demand.values).toHaveLength(3 * 1440);
    expect(r.policies).toHaveLength(6);
    for (const p of r.policies) expect(p.readyCapacity.values).toHaveLength(3 * 1440);
    expect(r.forecast?.model).toBe('HoltWinters');
    expect(r.forecast?.aheadMs).toBe(10 * MIN);
    const covered = r.forecast!.upper.values.filter((u, i) => Number.isFinite(u) && r.forecast!.actual.values[i]! <= u).length;
    expect(covered / r.forecast!.upper.values.filter(Number.isFinite).length).toBeGreaterThan(0.6);
    expect(r.notes.join()).toMatch(/interpolated linearly to 1m/);
  });

  it('simulates several start-up delays in one run, each result the same as a run at that delay alone', () => {
    const o: SimulateOptions = { ...base, policies: ['prescale', 'auto', 'hpa', 'oracle'], points: dailyRampTrace(3), warmupMs: 2 * DAY };
    const both = simulateAtDelays(o, [2 * MIN, 10 * MIN]);
    expect(both.map((r) => r.output.startupDelaySeconds)).toEqual([120, 600]);
    expect(both.map((r) => r.output.auto!.plans.length)).toEqual([2, 2]);
    for (const [i, delay] of [2 * MIN, 10 * MIN].entries()) {
      const alone = simulate({ ...o, startupDelayMs: delay });
      expect(both[i]!.output).toEqual(alone.output);
    }
    // The slower start-up is short of capacity for longer under the reactive HPA.
    const hpaUnder = (r: (typeof both)[number]) => r.output.policies.find((p) => p.name === 'hpa@1')!.underProvisionedMinutes;
    expect(hpaUnder(both[1]!)).toBeGreaterThan(hpaUnder(both[0]!));
    expect(both[1]!.notes.join('\n')).toMatch(/^start-up 10m: prescale@auto/m);
    expect(() => simulateAtDelays({ ...o, collectReport: true }, [2 * MIN, 10 * MIN])).toThrow(/one start-up delay/);
  });

  it('refuses a trace no longer than the warm-up', () => {
    expect(() => simulate({ ...base, points: dailyRampTrace(2) })).toThrow(/pass a shorter --warmup/);
  });
});
