// The simulated Kubernetes HPA. Every expected number is worked out by hand in the comment beside
// it, from the HPA documentation (kubernetes.io, "Horizontal Pod Autoscaling": algorithm details,
// default behavior) or from the upstream functions named in src/simulate/hpa*.ts.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_HPA_BEHAVIOR,
  HpaController,
  calculateScaleDownLimitWithBehaviors,
  calculateScaleUpLimitWithScalingRules,
  getReplicasChangePerPeriod,
  hpaDesiredReplicas,
  normalizeDesiredReplicas,
  normalizeDesiredReplicasWithBehaviors,
  stabilizeRecommendationWithBehaviors,
  EMPTY_HPA_HISTORY,
  type HpaBehavior,
  type HpaControllerOptions,
  type ReplicaCalculatorInput,
  type TimestampedScaleEvent,
} from '../../../src/simulate/hpa.js';
import type { ClusterView } from '../../../src/simulate/types.js';

const SEC = 1000;
const T0 = Date.UTC(2024, 0, 1);

const calc = (over: Partial<ReplicaCalculatorInput>): number | undefined =>
  hpaDesiredReplicas({ currentReplicas: 4, readyPods: 4, unreadyPods: 0, utilization: 0.8, targetUtilization: 0.8, ...over });

describe('hpaDesiredReplicas: the documented formula ceil(current * current/desired)', () => {
  it.each([
    // docs: "if the current metric value is 200m, and the desired value is 100m, the number of replicas will be doubled"
    { case: '200m vs 100m doubles', over: { utilization: 2.0, targetUtilization: 1.0 }, want: 8 },
    // docs: "if the current value is instead 50m, you'll halve the number of replicas"
    { case: '50m vs 100m halves', over: { utilization: 0.5, targetUtilization: 1.0 }, want: 2 },
    // docs: "the control plane skips any scaling action if the ratio is sufficiently close to 1.0 (within 0.1)"; 84 % / 80 % = 1.05
    { case: 'ratio 1.05 is within tolerance', over: { currentReplicas: 5, readyPods: 5, utilization: 0.84 }, want: 5 },
    // 88 / 80 = 1.1: Tolerances.isWithin is inclusive
    { case: 'ratio exactly 1.1 keeps the count', over: { currentReplicas: 10, readyPods: 10, utilization: 0.88 }, want: 10 },
    // 89 / 80 = 1.1125 -> ceil(1.1125 * 10) = ceil(11.125) = 12
    { case: 'ratio 1.1125 scales up', over: { currentReplicas: 10, readyPods: 10, utilization: 0.89 }, want: 12 },
    // 72 / 80 = 0.9: inclusive lower bound
    { case: 'ratio exactly 0.9 keeps the count', over: { currentReplicas: 10, readyPods: 10, utilization: 0.72 }, want: 10 },
    // 71 / 80 = 0.8875 -> ceil(8.875) = 9
    { case: 'ratio 0.8875 scales down', over: { currentReplicas: 10, readyPods: 10, utilization: 0.71 }, want: 9 },
    // GetResourceUtilizationRatio truncates to whole percent: 88.99 % -> 88 % -> 1.1, inside the band
    { case: 'utilization is truncated to a whole percent', over: { currentReplicas: 10, readyPods: 10, utilization: 0.8899 }, want: 10 },
    // 29 % / 10 % = 2.9 -> ceil(2.9 * 10) = 29; 0.29 * 100 is 28.999... in floating point
    { case: 'float noise does not lose a percent', over: { currentReplicas: 10, readyPods: 10, utilization: 0.29, targetUtilization: 0.1 }, want: 29 },
    // idle pods: 0 % -> ceil(0) = 0 (the min clamp is the normalization's job)
    { case: 'zero usage proposes zero', over: { utilization: 0 }, want: 0 },
    // custom tolerance 0.3: ratio 1.25 (100 % / 80 %) is inside
    { case: 'tolerance is configurable', over: { utilization: 1.0, tolerance: 0.3 }, want: 4 },
  ])('$case -> $want', ({ over, want }) => {
    expect(calc(over)).toBe(want);
  });

  it('gives no proposal when no Ready pod has a metric (upstream: "did not receive metrics")', () => {
    expect(calc({ readyPods: 0, unreadyPods: 4 })).toBeUndefined();
  });
});

describe('hpaDesiredReplicas: unready and missing pods (GetResourceReplicas)', () => {
  it('counts unready pods at 0 usage on a scale-up, which can cancel it', () => {
    // 3 ready at 110 %, 1 unready, target 80 %: ratio 1.375, alone ceil(1.375 * 3) = 5.
    // Recomputed over 4 pods: 330 / 4 = 82.5 -> 82 % -> 1.025, within tolerance -> keep 4.
    expect(calc({ currentReplicas: 4, readyPods: 3, unreadyPods: 1, utilization: 1.1 })).toBe(4);
    // Without the unready pod the same ready pods scale up to 5.
    expect(calc({ currentReplicas: 4, readyPods: 3, unreadyPods: 0, utilization: 1.1 })).toBe(5);
  });

  it('keeps the current count when the recomputation flips the direction', () => {
    // 2 ready at 120 %, 3 unready: ratio 1.5 (up), recomputed 240 / 5 = 48 % -> 0.6 (down) -> keep 5.
    expect(calc({ currentReplicas: 5, readyPods: 2, unreadyPods: 3, utilization: 1.2 })).toBe(5);
  });

  it('still scales up through unready pods when the load is far above target', () => {
    // 1 ready at 1000 %, 4 unready: recomputed 1000 / 5 = 200 % -> 2.5 -> ceil(2.5 * 5) = 13.
    expect(calc({ currentReplicas: 5, readyPods: 1, unreadyPods: 4, utilization: 10 })).toBe(13);
  });

  it('ignores unready pods on a scale-down', () => {
    // 4 ready at 40 %: ratio 0.5 < 1, so no rebalance -> ceil(0.5 * 4) = 2.
    expect(calc({ currentReplicas: 6, readyPods: 4, unreadyPods: 2, utilization: 0.4 })).toBe(2);
  });

  it('counts missing pods at 100 % of request on a scale-down', () => {
    // 3 ready at 40 % + 1 missing at 100 %: 220 / 4 = 55 % -> 0.6875 -> ceil(2.75) = 3 (not 2).
    expect(calc({ currentReplicas: 4, readyPods: 3, missingPods: 1, utilization: 0.4 })).toBe(3);
  });

  it('counts missing pods at the target when the target is above 100 %', () => {
    // target 150 %: 3 ready at 75 % + 1 missing at 150 %: 375 / 4 = 93.75 -> 93 % -> 0.62 -> ceil(2.48) = 3.
    expect(calc({ currentReplicas: 4, readyPods: 3, missingPods: 1, utilization: 0.75, targetUtilization: 1.5 })).toBe(3);
    // 4 ready at 30 % + 4 missing at 150 %: 720 / 8 = 90 % -> 0.6 -> ceil(4.8) = 5 (at 100 % it would be 65 % -> 4).
    expect(calc({ currentReplicas: 8, readyPods: 4, missingPods: 4, utilization: 0.3, targetUtilization: 1.5 })).toBe(5);
  });

  it('counts missing pods at 0 on a scale-up', () => {
    // 2 ready at 160 % + 2 missing at 0: 320 / 4 = 80 % -> 1.0 -> keep 4.
    expect(calc({ currentReplicas: 4, readyPods: 2, missingPods: 2, utilization: 1.6 })).toBe(4);
  });

  it('keeps the current count when the extra pods would move against the ratio', () => {
    // spec already lowered to 2: 3 ready at 40 % + 1 missing: 55 % -> 0.6875 -> ceil(2.75) = 3 > 2 -> keep 2.
    expect(calc({ currentReplicas: 2, readyPods: 3, missingPods: 1, utilization: 0.4 })).toBe(2);
  });
});

describe('behaviour: rate limits (calculateScale{Up,Down}Limit*)', () => {
  const up = DEFAULT_HPA_BEHAVIOR.scaleUp;
  const down = DEFAULT_HPA_BEHAVIOR.scaleDown;
  const event = (replicaChange: number, agoMs: number): TimestampedScaleEvent => ({ replicaChange, timestamp: T0 - agoMs, outdated: false });

  it.each([
    // docs default scaleUp: Pods 4 / 15 s and Percent 100 / 15 s, selectPolicy Max
    { current: 1, want: 5 }, // max(1 + 4, ceil(1 * 2)) = 5
    { current: 3, want: 7 }, // max(3 + 4, 6) = 7
    { current: 10, want: 20 }, // max(14, 20) = 20
  ])('default scale-up limit from $current is $want', ({ current, want }) => {
    expect(calculateScaleUpLimitWithScalingRules(current, [], [], up, T0)).toBe(want);
  });

  it('counts events strictly inside the policy period', () => {
    // getReplicasChangePerPeriod uses timestamp.After(now - period)
    expect(getReplicasChangePerPeriod(15, [event(4, 15 * SEC)], T0)).toBe(0);
    expect(getReplicasChangePerPeriod(15, [event(4, 15 * SEC - 1), event(2, 5 * SEC)], T0)).toBe(6);
  });

  it('measures the limit from the replica count at the start of the period', () => {
    // 1 -> 5 ten seconds ago: period start 5 - 4 = 1 -> max(1 + 4, 2) = 5: nothing more this period.
    expect(calculateScaleUpLimitWithScalingRules(5, [event(4, 10 * SEC)], [], up, T0)).toBe(5);
    // a scale-down inside the period raises the start: 8 now, 2 removed -> start 10 -> max(14, 20) = 20.
    expect(calculateScaleUpLimitWithScalingRules(8, [], [event(2, 10 * SEC)], up, T0)).toBe(20);
  });

  it('rounds a Percent scale-up up, so that a small target can always grow', () => {
    const percentOnly = (value: number) => ({ ...up, policies: [{ type: 'Percent' as const, value, periodSeconds: 60 }] });
    expect(calculateScaleUpLimitWithScalingRules(1, [], [], percentOnly(10), T0)).toBe(2); // ceil(1.1)
    expect(calculateScaleUpLimitWithScalingRules(3, [], [], percentOnly(50), T0)).toBe(5); // ceil(4.5)
  });

  it('applies selectPolicy Min and Disabled', () => {
    const min = { ...up, selectPolicy: 'Min' as const };
    expect(calculateScaleUpLimitWithScalingRules(10, [], [], min, T0)).toBe(14); // min(14, 20)
    expect(calculateScaleUpLimitWithScalingRules(10, [], [], { ...up, selectPolicy: 'Disabled' }, T0)).toBe(10);
  });

  it('lets the default scale-down remove everything in one period', () => {
    // Percent 100 / 15 s: trunc(10 * (1 - 1)) = 0.
    expect(calculateScaleDownLimitWithBehaviors(10, [], [], down, T0)).toBe(0);
    // Percent 50: trunc(7 * 0.5) = 3 (Go's int32 conversion truncates).
    const half = { ...down, policies: [{ type: 'Percent' as const, value: 50, periodSeconds: 60 }] };
    expect(calculateScaleDownLimitWithBehaviors(7, [], [], half, T0)).toBe(3);
  });
});

describe('behaviour: stabilization (stabilizeRecommendationWithBehaviors)', () => {
  const args = { now: T0, minReplicas: 1, maxReplicas: 100, currentReplicas: 10, desiredReplicas: 3 };
  const rec = (recommendation: number, agoSeconds: number) => ({ recommendation, timestamp: T0 - agoSeconds * SEC });

  it('holds the highest recommendation of the last 300 s on a scale-down', () => {
    const out = stabilizeRecommendationWithBehaviors([rec(10, 200), rec(6, 100)], DEFAULT_HPA_BEHAVIOR, args);
    expect(out.recommendation).toBe(10);
    expect(out.recommendations.at(-1)).toEqual({ recommendation: 3, timestamp: T0 }); // the raw one is recorded
  });

  it('forgets a recommendation exactly 300 s old', () => {
    const out = stabilizeRecommendationWithBehaviors([rec(10, 300), rec(6, 100)], DEFAULT_HPA_BEHAVIOR, args);
    expect(out.recommendation).toBe(6);
  });

  it('holds the lowest recommendation of a scale-up window', () => {
    const slowUp: HpaBehavior = { ...DEFAULT_HPA_BEHAVIOR, scaleUp: { ...DEFAULT_HPA_BEHAVIOR.scaleUp, stabilizationWindowSeconds: 60 } };
    const out = stabilizeRecommendationWithBehaviors([rec(6, 30)], slowUp, { ...args, currentReplicas: 4, desiredReplicas: 8 });
    expect(out.recommendation).toBe(6); // min(6, 8), above the current 4
  });

  it('overwrites a sample older than both windows instead of growing', () => {
    const out = stabilizeRecommendationWithBehaviors([rec(9, 400), rec(6, 100)], DEFAULT_HPA_BEHAVIOR, args);
    expect(out.recommendations).toEqual([rec(3, 0), rec(6, 100)]);
  });

  it('normalizes: stabilized, then rate-limited, then clamped', () => {
    // No history: desired 50 from 10 -> limit max(14, 20) = 20 -> within max 100.
    const a = normalizeDesiredReplicasWithBehaviors(EMPTY_HPA_HISTORY, DEFAULT_HPA_BEHAVIOR, { ...args, desiredReplicas: 50 });
    expect(a.desiredReplicas).toBe(20);
    // max 12 is below the rate limit: 12.
    const b = normalizeDesiredReplicasWithBehaviors(EMPTY_HPA_HISTORY, DEFAULT_HPA_BEHAVIOR, { ...args, desiredReplicas: 50, maxReplicas: 12 });
    expect(b.desiredReplicas).toBe(12);
    // desired 0 after the window: min 2 wins over the 100 % scale-down limit 0.
    const c = normalizeDesiredReplicasWithBehaviors(EMPTY_HPA_HISTORY, DEFAULT_HPA_BEHAVIOR, { ...args, desiredReplicas: 0, minReplicas: 2 });
    expect(c.desiredReplicas).toBe(2);
  });

  it('legacy path (no spec.behavior): scale-up capped at max(2 * current, 4) per sync', () => {
    // convertDesiredReplicasWithRules / calculateScaleUpLimit
    expect(normalizeDesiredReplicas([], { ...args, currentReplicas: 1, desiredReplicas: 50 }).desiredReplicas).toBe(4);
    expect(normalizeDesiredReplicas([], { ...args, currentReplicas: 10, desiredReplicas: 50 }).desiredReplicas).toBe(20);
    // stabilizeRecommendation: a recommendation exactly 300 s old still counts (timestamp.Before(cutoff) is false)
    expect(normalizeDesiredReplicas([rec(10, 300)], args).desiredReplicas).toBe(10);
    expect(normalizeDesiredReplicas([rec(10, 301)], args).desiredReplicas).toBe(3);
  });
});

// ---- the controller ----

const OPTIONS: HpaControllerOptions = { targetUtilization: 0.8, capacityPerReplica: 100, minReplicas: 1, maxReplicas: 100 };

const view = (now: number, specReplicas: number, observedDemand: number | undefined, readyPods = specReplicas, unreadyPods = 0): ClusterView => ({
  now,
  specReplicas,
  readyPods,
  unreadyPods,
  observedDemand,
});

/** Runs syncs every 15 s with all pods Ready at once; returns spec.replicas after each sync. */
function runAllReady(hpa: HpaController, start: number, demandAt: (i: number) => number, ticks: number): number[] {
  let spec = start;
  const out: number[] = [];
  for (let i = 0; i < ticks; i++) {
    spec = hpa.sync(view(T0 + i * 15 * SEC, spec, demandAt(i)));
    out.push(spec);
  }
  return out;
}

describe('HpaController', () => {
  it('is named after its target and syncs every 15 s by default', () => {
    const hpa = new HpaController(OPTIONS);
    expect(hpa.name).toBe('hpa@0.8');
    expect(hpa.periodMs).toBe(15_000);
  });

  it('rejects options the HPA API would reject', () => {
    expect(() => new HpaController({ ...OPTIONS, minReplicas: 0 })).toThrow(RangeError);
    expect(() => new HpaController({ ...OPTIONS, maxReplicas: 0 })).toThrow(RangeError);
    expect(() => new HpaController({ ...OPTIONS, targetUtilization: 0 })).toThrow(RangeError);
    expect(() => new HpaController({ ...OPTIONS, capacityPerReplica: 0 })).toThrow(RangeError);
  });

  it('scales up from 1 in the default steps 5, 10, 20, 40 while new pods are still starting', () => {
    const hpa = new HpaController(OPTIONS);
    // 1 Ready pod at 10000 / 100 = 10000 %; the new pods stay unready, so usage over all pods stays far above target.
    let spec = 1;
    const steps: number[] = [];
    for (let i = 0; i < 4; i++) {
      spec = hpa.sync(view(T0 + i * 15 * SEC, spec, 10_000, 1, spec - 1));
      steps.push(spec);
    }
    // max(1+4, 2) = 5; max(5+4, 10) = 10; max(14, 20) = 20; max(24, 40) = 40
    expect(steps).toEqual([5, 10, 20, 40]);
  });

  it('doubles 10 replicas in one sync when the load asks for more', () => {
    // 10 Ready at 2000 / 1000 = 200 % vs 80 %: ratio 2.5 -> 25, limited to max(14, 20) = 20.
    expect(new HpaController(OPTIONS).sync(view(T0, 10, 2000))).toBe(20);
  });

  it('does not scale up twice within one policy period', () => {
    const hpa = new HpaController(OPTIONS);
    expect(hpa.sync(view(T0, 1, 10_000))).toBe(5);
    // 14 s later: the +4 event is still inside the 15 s period: start 1 -> limit 5.
    expect(hpa.sync(view(T0 + 14 * SEC, 5, 10_000))).toBe(5);
  });

  it('waits 300 s of stabilization before scaling down, then drops at once', () => {
    const hpa = new HpaController(OPTIONS);
    // 800 over 10 pods = 80 % -> 10 at t=0; then 320 -> 32 % -> 0.4 -> ceil(4) = 4 from t=15 s.
    const replicas = runAllReady(hpa, 10, (i) => (i === 0 ? 800 : 320), 22);
    // the recommendations of 10 at t=0 leave the window only at t=300 s (tick 20)
    expect(replicas.slice(0, 20)).toEqual(Array(20).fill(10));
    expect(replicas[20]).toBe(4); // 100 % per 15 s allows 10 -> 4 in one step
    expect(replicas[21]).toBe(4); // 320 / 400 = 80 %: steady
  });

  it('does not scale down during the first window after start (initial recommendation)', () => {
    const hpa = new HpaController(OPTIONS);
    // recordInitialRecommendation stores 10 at t=0 even though the first calculation already says 4
    const replicas = runAllReady(hpa, 10, () => 320, 21);
    expect(replicas[19]).toBe(10);
    expect(replicas[20]).toBe(4);
  });

  it('applies the highest recommendation still inside the window', () => {
    const hpa = new HpaController(OPTIONS);
    expect(hpa.sync(view(T0, 10, 800))).toBe(10); // 80 % -> 10
    expect(hpa.sync(view(T0 + 60 * SEC, 10, 560))).toBe(10); // 56 % -> 0.7 -> 7, held by 10
    expect(hpa.sync(view(T0 + 120 * SEC, 10, 320))).toBe(10); // 32 % -> 4, held by 10
    // at 300 s the recommendations of t=0 leave; 7 (t=60 s) is the highest left
    expect(hpa.sync(view(T0 + 300 * SEC, 10, 320))).toBe(7);
    // at 360 s the 7 leaves too: 320 / 700 = 45 % -> 0.5625 -> ceil(3.94) = 4
    expect(hpa.sync(view(T0 + 360 * SEC, 7, 320))).toBe(4);
  });

  it('clamps to maxReplicas and minReplicas', () => {
    const capped = new HpaController({ ...OPTIONS, maxReplicas: 6 });
    expect(capped.sync(view(T0, 4, 10_000))).toBe(6); // limit max(8, 8) = 8, max 6
    const floored = new HpaController({ ...OPTIONS, minReplicas: 3 });
    const replicas = runAllReady(floored, 5, () => 0, 21);
    expect(replicas[20]).toBe(3); // desired 0 after the window -> min 3
  });

  it('rescales to the bounds without metrics when spec.replicas is outside them', () => {
    const hpa = new HpaController({ ...OPTIONS, minReplicas: 2, maxReplicas: 10 });
    expect(hpa.sync(view(T0, 12, undefined))).toBe(10);
    expect(new HpaController({ ...OPTIONS, minReplicas: 2 }).sync(view(T0, 1, undefined))).toBe(2);
  });

  it('keeps spec.replicas when metrics are unavailable', () => {
    const hpa = new HpaController(OPTIONS);
    expect(hpa.sync(view(T0, 3, undefined))).toBe(3);
    expect(hpa.sync(view(T0 + 15 * SEC, 3, 10_000, 0, 3))).toBe(3); // no Ready pod has a metric
    expect(hpa.sync(view(T0 + 30 * SEC, 3, Number.NaN))).toBe(3);
    expect(hpa.state.recommendations).toHaveLength(1); // only the initial one: failed syncs record nothing
  });

  it('leaves a target scaled to zero alone', () => {
    expect(new HpaController(OPTIONS).sync(view(T0, 0, 500, 0, 0))).toBe(0);
  });

  it('follows the legacy limits when the HPA has no spec.behavior', () => {
    const hpa = new HpaController({ ...OPTIONS, behavior: null });
    expect(hpa.sync(view(T0, 1, 10_000, 1, 0))).toBe(4); // max(2 * 1, 4)
    expect(hpa.sync(view(T0 + 15 * SEC, 4, 10_000, 1, 3))).toBe(8); // max(2 * 4, 4), per sync
    expect(hpa.state.scaleUpEvents).toHaveLength(0); // storeScaleEvent keeps nothing without a behavior
  });

  it('keeps its history bounded over a long run', () => {
    const hpa = new HpaController(OPTIONS);
    runAllReady(hpa, 4, (i) => (i % 40 < 20 ? 320 : 1200), 2000);
    // 300 s / 15 s = 20 in-window samples, plus slots not yet reused
    expect(hpa.state.recommendations.length).toBeLessThanOrEqual(23);
    expect(hpa.state.scaleUpEvents.length + hpa.state.scaleDownEvents.length).toBeLessThanOrEqual(6);
  });
});

describe('HpaController in a little workload: demand steps up, pods start in 30 s', () => {
  /** Pods with the time they become Ready; a scale-down removes the most recently created first. */
  function simulate(demandAt: (t: number) => number, ticks: number): number[] {
    const hpa = new HpaController(OPTIONS);
    let pods: number[] = [T0];
    const spec: number[] = [];
    for (let i = 0; i < ticks; i++) {
      const now = T0 + i * 15 * SEC;
      const ready = pods.filter((at) => at <= now).length;
      const next = hpa.sync(view(now, pods.length, demandAt(now - T0), ready, pods.length - ready));
      if (next > pods.length) pods = pods.concat(Array<number>(next - pods.length).fill(now + 30 * SEC));
      else pods = pods.slice(0, next);
      spec.push(next);
    }
    return spec;
  }

  it('rises 1 -> 5 -> 10 -> 13 and holds, then steps down 300 s after the load falls', () => {
    const demand = (ms: number): number => (ms < 60 * SEC ? 80 : ms < 150 * SEC ? 1000 : 400);
    const spec = simulate(demand, 32);
    // t=0..45: 80 % on 1 pod -> 1.
    // t=60: 1000 % -> 12.5 -> 13, limited to max(1+4, 2) = 5.
    // t=75: 1 Ready at 1000 %, 4 unready: 1000 / 5 = 200 % -> 2.5 -> 13, limited to max(9, 10) = 10.
    // t=90: 5 Ready at 200 %, 5 unready: 1000 / 10 = 100 % -> 1.25 -> ceil(12.5) = 13 (limit max(14, 20)).
    // t=105: 10 Ready at 100 %, 3 unready: 1000 / 13 = 76 % -> 0.95, within tolerance -> 13.
    // t=120, 135: 13 Ready at 76 % -> 13.
    // t=150..: 400 / 1300 = 30 % -> 0.375 -> ceil(4.875) = 5, held until the last 13 (t=135) leaves at t=435.
    const expected = [1, 1, 1, 1, 5, 10, 13, ...Array<number>(22).fill(13), 5, 5, 5];
    expect(spec).toEqual(expected);
  });
});
