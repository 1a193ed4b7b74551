import { describe, expect, it } from 'vitest';
import { MINUTE_MS, TICK_MS, observedAt, oracleRun, replicasFor, runSimulation, type SimulationSetup } from '../../../src/simulate/engine.js';
import { hpaFrontier, summarize } from '../../../src/simulate/frontier.js';
import { nativeStep, toMinuteGrid } from '../../../src/simulate/grid.js';
import type { ClusterView, PolicyResult, ReplicaController } from '../../../src/simulate/types.js';
import { SimulatedWorkload } from '../../../src/simulate/workload.js';

const T0 = Date.UTC(2026, 0, 1);

function setup(values: number[], over: Partial<SimulationSetup> = {}): SimulationSetup {
  return {
    demand: { start: T0, stepMs: MINUTE_MS, values },
    capacityPerReplica: 10,
    startupDelayMs: 2 * MINUTE_MS,
    metricLagMs: MINUTE_MS,
    evaluateFrom: T0,
    minReplicas: 1,
    maxReplicas: 100,
    ...over,
  };
}

/** Asks for a fixed count, and records what it saw. */
class Fixed implements ReplicaController {
  readonly views: ClusterView[] = [];
  constructor(
    readonly name: string,
    private readonly replicas: (view: ClusterView) => number,
    readonly periodMs = TICK_MS,
  ) {}
  sync(view: ClusterView): number {
    this.views.push(view);
    return this.replicas(view);
  }
}

describe('simulated workload', () => {
  it('makes requested replicas Ready after the start-up delay and removes not-Ready ones first', () => {
    const w = new SimulatedWorkload(120_000, 2, T0);
    w.scaleTo(5, T0);
    expect([w.specReplicas, w.readyPods(T0), w.readyPods(T0 + 119_999), w.readyPods(T0 + 120_000)]).toEqual([5, 2, 2, 5]);
    w.scaleTo(7, T0 + 60_000);
    w.scaleTo(4, T0 + 90_000); // removes the 3 youngest (not Ready) requests
    expect([w.specReplicas, w.readyPods(T0 + 120_000), w.readyPods(T0 + 180_000)]).toEqual([4, 4, 4]);
    expect(w.scaleEvents).toBe(3);
  });
});

describe('observations and replica arithmetic', () => {
  it.each([
    [0, undefined],
    [59_999, undefined],
    [60_000, 1],
    [119_999, 1],
    [120_000, 2],
    [10 * 60_000, 4], // past the end: the last value
  ])('observation at +%i ms with a one-minute lag is %s', (offset, expected) => {
    expect(observedAt({ start: T0, stepMs: MINUTE_MS, values: [1, 2, 3, 4] }, T0 + offset, MINUTE_MS)).toBe(expected);
  });

  it.each([
    [0, 1],
    [10, 1],
    [10.0000000001, 1],
    [11, 2],
    [5000, 100],
  ])('demand %d needs %d replicas of 10 within [1, 100]', (d, r) => {
    expect(replicasFor(d, 10, 1, 100)).toBe(r);
  });
});

describe('runSimulation', () => {
  it('counts under-provisioned minutes while new replicas start, and replica-minutes for all requested pods', () => {
    // Demand jumps from 10 to 50 at minute 5; a policy that sees it (one minute late) asks for 5 replicas.
    const values = [...Array(5).fill(10), ...Array(10).fill(50)];
    const reactive = new Fixed('reactive', (v) => replicasFor(v.observedDemand ?? 0, 10, 1, 100));
    const [run] = runSimulation([reactive], setup(values));
    // Seen at minute 6 (lag), Ready at minute 8 (2-minute start-up): minutes 5, 6 and 7 are short.
    expect(run!.result.underProvisionedMinutes).toBe(3);
    expect(run!.result.underProvisionedFraction).toBeCloseTo(3 / 15);
    expect(run!.result.unservedDemand).toBe(3 * 40);
    expect(run!.result.replicaMinutes).toBe(6 * 1 + 9 * 5);
    expect(run!.result.scaleEvents).toBe(1);
    expect(run!.replicas).toEqual([1, 1, 1, 1, 1, 1, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
    expect(run!.readyCapacity.slice(5, 9)).toEqual([10, 10, 10, 50]);
  });

  it('asks each controller only at its own period and scores only after the warm-up', () => {
    const slow = new Fixed('slow', (v) => v.specReplicas, 60_000);
    const [run] = runSimulation([slow], setup(Array(10).fill(30), { evaluateFrom: T0 + 4 * MINUTE_MS }));
    expect(slow.views).toHaveLength(10);
    expect(slow.views.every((v) => (v.now - T0) % 60_000 === 0)).toBe(true);
    expect(run!.replicas).toHaveLength(6);
    expect(run!.result.underProvisionedMinutes).toBe(0);
    expect(run!.result.replicaMinutes).toBe(6 * 3);
  });

  it('shows every controller the same lagged observation and its own cluster state', () => {
    const a = new Fixed('a', () => 4);
    const b = new Fixed('b', () => 1);
    runSimulation([a, b], setup([10, 20, 30]));
    const at = (c: Fixed, t: number) => c.views.find((v) => v.now === T0 + t)!;
    expect(at(a, 90_000).observedDemand).toBe(at(b, 90_000).observedDemand);
    expect(at(a, 90_000)).toMatchObject({ specReplicas: 4, readyPods: 1, unreadyPods: 3 });
    expect(at(b, 90_000)).toMatchObject({ specReplicas: 1, readyPods: 1, unreadyPods: 0 });
  });

  it('runs each controller against a workload with its own start-up delay when given one per controller', () => {
    const values = [...Array(5).fill(10), ...Array(10).fill(50)];
    const reactive = (name: string) => new Fixed(name, (v) => replicasFor(v.observedDemand ?? 0, 10, 1, 100));
    const [fast, slow] = runSimulation([reactive('fast'), reactive('slow')], setup(values), [2 * MINUTE_MS, 5 * MINUTE_MS]);
    const [alone] = runSimulation([reactive('slow alone')], setup(values, { startupDelayMs: 5 * MINUTE_MS }));
    expect(fast!.result.underProvisionedMinutes).toBe(3);
    // Seen at minute 6, Ready at minute 11: minutes 5 to 10 are short.
    expect(slow!.result.underProvisionedMinutes).toBe(6);
    expect({ ...slow!, result: { ...slow!.result, name: '' } }).toEqual({ ...alone!, result: { ...alone!.result, name: '' } });
    expect(() => runSimulation([reactive('a')], setup(values), [MINUTE_MS, MINUTE_MS])).toThrow(/2 start-up delays for 1 controllers/);
  });

  it('rejects a period that is not a multiple of the 15 s tick', () => {
    expect(() => runSimulation([new Fixed('odd', () => 1, 20_000)], setup([1]))).toThrow(/multiple of 15000/);
  });
});

describe('oracle', () => {
  it('runs exactly the replicas each minute needs: the least replica-minutes without under-provisioning', () => {
    const run = oracleRun(setup([10, 25, 25, 5, 0], { evaluateFrom: T0 + MINUTE_MS }));
    expect(run.replicas).toEqual([3, 3, 1, 1]);
    expect(run.result).toMatchObject({ name: 'oracle', underProvisionedMinutes: 0, replicaMinutes: 8, scaleEvents: 2 });
  });
});

describe('equal-cost frontier', () => {
  const p = (name: string, replicaMinutes: number, under: number): PolicyResult => ({
    name,
    replicaMinutes,
    underProvisionedMinutes: under,
    underProvisionedFraction: 0,
    unservedDemand: 0,
    scaleEvents: 0,
  });
  const hpa = [p('hpa@1', 100, 50), p('hpa@0.8', 150, 20), p('hpa@0.5', 250, 0)];

  it('keeps only HPA runs that no cheaper run beats', () => {
    expect(hpaFrontier([...hpa, p('hpa@0.9', 160, 40)]).map((x) => x.cost)).toEqual([100, 150, 250]);
  });

  it.each([
    // policy point, under ratio at equal cost, cost ratio at equal under
    [p('prescale@q0.9', 150, 10), 10 / 20, 150 / 200],
    [p('prescale@q0.5', 125, 35), 35 / 35, 125 / 125],
    [p('prescale@q0.99', 250, 0), 1, 1],
    [p('prescale@q0.95', 300, 0), null, 300 / 250], // costlier than any HPA run
    [p('prescale@q0.1', 90, 60), null, null], // cheaper and worse than any HPA run
  ])('%s', (point, under, cost) => {
    const [s] = summarize([point], hpa);
    expect(s!.policy).toBe(point.name);
    if (under === null) expect(s!.underRatioAtEqualCost).toBeNull();
    else expect(s!.underRatioAtEqualCost).toBeCloseTo(under, 9);
    if (cost === null) expect(s!.costRatioAtEqualUnder).toBeNull();
    else expect(s!.costRatioAtEqualUnder).toBeCloseTo(cost, 9);
  });
});

describe('minute grid', () => {
  const iso = (m: number) => T0 + m * MINUTE_MS;
  it('interpolates a 5-minute trace linearly to minutes', () => {
    const grid = toMinuteGrid([[iso(0), 10], [iso(5), 20], [iso(10), 20]]);
    expect(grid.demand.values).toEqual([10, 12, 14, 16, 18, 20, 20, 20, 20, 20, 20, 20, 20, 20, 20]);
    expect(grid.nativeStepMs).toBe(5 * MINUTE_MS);
    expect(grid.notes.join()).toMatch(/interpolated linearly/);
  });

  it('averages a 30-second trace to minutes', () => {
    const grid = toMinuteGrid([[iso(0), 1], [iso(0.5), 3], [iso(1), 5], [iso(1.5), 7]]);
    expect(grid.demand.values).toEqual([2, 6]);
  });

  it('fills and reports gaps', () => {
    const grid = toMinuteGrid([[iso(0), 10], [iso(1), 10], [iso(4), 40], [iso(5), 50]]);
    expect(grid.demand.values).toEqual([10, 10, 20, 30, 40, 50]);
    expect(grid.notes.join()).toMatch(/1 gap in the trace \(2 missing 1m steps, longest 2m\)/);
  });

  it('refuses steps outside 30 s .. 30 min', () => {
    expect(() => toMinuteGrid([[iso(0), 1], [iso(60), 1]])).toThrow(/from 30s to 30m/);
    expect(nativeStep([[0, 1], [10_000, 1], [20_000, 1]])).toBe(10_000);
  });
});
