// Invariants of decide() for arbitrary configurations, replica counts, observations, forecasts
// (NaN, ±Infinity, negative, huge, missing) and decision histories. The limits are restated here
// from their definitions (SPEC section 3 and src/decision/limits.ts), not computed with its code.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScalerConfig, ScheduleConfig } from '../../../src/api/config.js';
import { decide } from '../../../src/decision/decide.js';
import type { DecisionInput, MetricInput, RecommendationRecord, ScaleEventRecord } from '../../../src/decision/types.js';
import type { Forecast } from '../../../src/forecast/types.js';
import { MIN, NOW, scalerConfig } from '../decision/fixtures.js';
import { RUNS } from './hostile.js';

const RATE_PERIOD_MS = 60_000;
const METRIC_NAMES = ['rps', 'cpu', 'queue'];

const hostileNumber = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 10_000, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -1, -1e9, 1e308, Number.MAX_VALUE, 5e-324, 0, -0) },
  { weight: 1, arbitrary: fc.double() },
);

const target = fc.oneof(fc.double({ min: 0.01, max: 1000, noNaN: true }), fc.constantFrom(1e-300, 1e300, Number.MIN_VALUE, Number.MAX_VALUE));

const schedule: fc.Arbitrary<ScheduleConfig> = fc
  .record({
    name: fc.constantFrom('sale', 'launch'),
    startOffset: fc.integer({ min: -120, max: 60 }),
    lengthMinutes: fc.integer({ min: 0, max: 240 }),
    minReplicas: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
    multiplier: fc.option(fc.oneof(fc.double({ min: 0.01, max: 20, noNaN: true }), fc.constant(1e300)), { nil: undefined }),
  })
  .map(({ startOffset, lengthMinutes, ...e }) => ({ ...e, start: NOW + startOffset * MIN, end: NOW + (startOffset + lengthMinutes) * MIN }));

const config: fc.Arbitrary<ScalerConfig> = fc
  .record({
    minReplicas: fc.integer({ min: 0, max: 50 }),
    span: fc.integer({ min: 0, max: 300 }),
    targets: fc.array(target, { minLength: 1, maxLength: 3 }),
    intervalMs: fc.constantFrom(15_000, 30_000, 60_000, 3_600_000),
    quantile: fc.constantFrom(0.5, 0.9, 0.95),
    headroom: fc.oneof(fc.double({ min: 0, max: 2, noNaN: true }), fc.constant(0)),
    reactiveFloor: fc.boolean(),
    scaleUpMaxReplicasPerMinute: fc.integer({ min: 0, max: 100 }),
    scaleDownStabilizationMs: fc.constantFrom(0, 15_000, 60_000, 300_000, 3_600_000),
    scaleDownMaxPercentPerMinute: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(12.5, 33.3, 150)),
    schedule: fc.array(schedule, { maxLength: 2 }),
  })
  .map((c) => {
    const base = scalerConfig();
    return {
      ...base,
      minReplicas: c.minReplicas,
      maxReplicas: c.minReplicas + c.span,
      intervalMs: c.intervalMs,
      metrics: c.targets.map((targetPerReplica, i) => ({ name: METRIC_NAMES[i]!, query: 'q', targetPerReplica })),
      forecast: { ...base.forecast, quantile: c.quantile },
      scaling: {
        ...base.scaling,
        headroom: c.headroom,
        reactiveFloor: c.reactiveFloor,
        scaleUpMaxReplicasPerMinute: c.scaleUpMaxReplicasPerMinute,
        scaleDownStabilizationMs: c.scaleDownStabilizationMs,
        scaleDownMaxPercentPerMinute: c.scaleDownMaxPercentPerMinute,
      },
      schedule: c.schedule,
    };
  });

const forecast: fc.Arbitrary<Forecast> = fc
  .record({
    startOffset: fc.oneof(fc.integer({ min: -30, max: 60 }).map((m) => m * MIN), fc.constantFrom(NaN, Infinity, 1e300, -1e300, 9e15)),
    stepMs: fc.oneof(fc.constantFrom(60_000, 300_000), fc.constantFrom(0, -60_000, NaN, Infinity, 1)),
    mean: fc.array(hostileNumber, { maxLength: 40 }),
    quantiles: fc.array(fc.record({ q: fc.constantFrom(0.5, 0.9, 0.95, NaN), values: fc.array(hostileNumber, { maxLength: 40 }) }), { maxLength: 3 }),
  })
  .map(({ startOffset, ...f }) => ({ model: 'Hostile', start: NOW + startOffset, ...f }));

const metricInput = (name: string): fc.Arbitrary<MetricInput | undefined> =>
  fc.option(
    fc.record({ name: fc.constant(name), observed: fc.option(hostileNumber, { nil: undefined }), forecast: fc.option(forecast, { nil: undefined }) }, { requiredKeys: ['name'] }),
    { nil: undefined, freq: 6 },
  );

const recommendation: fc.Arbitrary<RecommendationRecord> = fc.record({
  time: fc.integer({ min: NOW - 2 * 3_600_000, max: NOW + MIN }),
  replicas: fc.integer({ min: 0, max: 400 }),
});

const scaleEvent: fc.Arbitrary<ScaleEventRecord> = fc.record({
  time: fc.integer({ min: NOW - 3 * MIN, max: NOW + 10_000 }),
  from: fc.integer({ min: 0, max: 400 }),
  to: fc.integer({ min: 0, max: 400 }),
});

const decisionInput: fc.Arbitrary<DecisionInput> = config.chain((c) =>
  fc.record({
    now: fc.constant(NOW),
    config: fc.constant(c),
    currentReplicas: fc.oneof(fc.integer({ min: c.minReplicas, max: c.maxReplicas }), fc.integer({ min: 0, max: 400 })),
    leadTimeMs: fc.constantFrom(0, 30_000, 2 * MIN, 10 * MIN, 3_600_000),
    metrics: fc.tuple(...c.metrics.map((m) => metricInput(m.name))).map((inputs) => inputs.filter((i): i is MetricInput => i !== undefined)),
    recommendations: fc.array(recommendation, { maxLength: 8 }),
    scaleEvents: fc.array(scaleEvent, { maxLength: 5 }),
  }),
);

/** A metric without a finite observation has no data, whatever its forecast says. */
function metricsWithoutData(input: DecisionInput): string[] {
  return input.config.metrics
    .filter((m) => {
      const observed = input.metrics.find((i) => i.name === m.name)?.observed;
      return observed === undefined || !Number.isFinite(observed);
    })
    .map((m) => m.name);
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const inLastMinute = (e: { time: number }, now: number) => e.time > now - RATE_PERIOD_MS && e.time <= now;
const added = (input: DecisionInput) => input.scaleEvents.filter((e) => inLastMinute(e, input.now)).reduce((s, e) => s + Math.max(0, e.to - e.from), 0);
const removed = (input: DecisionInput) => input.scaleEvents.filter((e) => inLastMinute(e, input.now)).reduce((s, e) => s + Math.max(0, e.from - e.to), 0);

describe('decide', () => {
  it('never throws and always gives a whole, non-negative count with a reason and a message', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        const d = decide(input);
        expect(Number.isInteger(d.desiredReplicas)).toBe(true);
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(0);
        expect(['ScaleUp', 'ScaleDown', 'NoChange', 'HoldNoData']).toContain(d.reason);
        expect(typeof d.message).toBe('string');
        expect(d.message.length).toBeGreaterThan(0);
        const expectedReason = d.missingData && d.reason === 'HoldNoData' ? 'HoldNoData' : d.desiredReplicas > input.currentReplicas ? 'ScaleUp' : d.desiredReplicas < input.currentReplicas ? 'ScaleDown' : 'NoChange';
        expect(d.reason).toBe(expectedReason);
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('stays within [minReplicas, maxReplicas] whenever some metric has data', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        fc.pre(metricsWithoutData(input).length < input.config.metrics.length);
        const d = decide(input);
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(input.config.minReplicas);
        expect(d.desiredReplicas).toBeLessThanOrEqual(input.config.maxReplicas);
        expect(d.recommendation).toBeGreaterThanOrEqual(input.config.minReplicas);
        expect(d.recommendation).toBeLessThanOrEqual(input.config.maxReplicas);
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('holds the current count exactly when no metric has data, even outside [minReplicas, maxReplicas]', () => {
    // Deliberate: without any observation the operator does not know enough to move the target,
    // not even into new bounds; the next decision with data moves it.
    fc.assert(
      fc.property(decisionInput, (input) => {
        fc.pre(metricsWithoutData(input).length === input.config.metrics.length);
        const d = decide(input);
        expect(d.desiredReplicas).toBe(input.currentReplicas);
        expect(d.reason).toBe('HoldNoData');
        expect(d.missingData).toBe(true);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });

  it('never goes below the current count while a metric has no data (unless maxReplicas is lower)', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        fc.pre(metricsWithoutData(input).length > 0);
        const d = decide(input);
        expect(d.missingData).toBe(true);
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(Math.min(input.currentReplicas, input.config.maxReplicas));
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('adds at most maxReplicasPerMinute within any minute, given the recorded scale events (unless minReplicas is higher)', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        const d = decide(input);
        if (d.desiredReplicas <= input.currentReplicas) return;
        const { minReplicas, maxReplicas, scaling } = input.config;
        const allowed = input.currentReplicas + Math.max(0, scaling.scaleUpMaxReplicasPerMinute - added(input));
        expect(d.desiredReplicas).toBeLessThanOrEqual(clamp(allowed, minReplicas, maxReplicas));
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('removes at most maxPercentPerMinute of the replicas at the start of the minute (at least one when none went), unless maxReplicas is lower', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        const d = decide(input);
        if (d.desiredReplicas >= input.currentReplicas) return;
        const { minReplicas, maxReplicas, scaling } = input.config;
        const gone = removed(input);
        const percent = Math.min(100, scaling.scaleDownMaxPercentPerMinute);
        const budget = percent <= 0 ? 0 : Math.floor(((input.currentReplicas + gone) * percent) / 100 + 1e-9);
        const mayRemoveNow = percent <= 0 ? 0 : gone === 0 ? Math.max(1, budget) : Math.max(0, budget - gone);
        const lowest = Math.max(0, input.currentReplicas - mayRemoveNow);
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(clamp(lowest, minReplicas, maxReplicas));
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('never scales down below the highest recommendation within the stabilization window (unless maxReplicas is lower)', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        const d = decide(input);
        if (d.desiredReplicas >= input.currentReplicas) return;
        const windowMs = input.config.scaling.scaleDownStabilizationMs;
        const recent = input.recommendations.filter((r) => r.time > input.now - windowMs && r.time <= input.now);
        if (recent.length === 0) return;
        const highest = Math.min(input.currentReplicas, Math.max(...recent.map((r) => r.replicas)));
        expect(d.desiredReplicas).toBeGreaterThanOrEqual(clamp(highest, input.config.minReplicas, input.config.maxReplicas));
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('explains a chain of steps from the current count to the desired one', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        const d = decide(input);
        expect(d.steps.length).toBeGreaterThan(0);
        expect(d.steps[0]!.from).toBe(input.currentReplicas);
        for (let i = 1; i < d.steps.length; i++) expect(d.steps[i]!.from).toBe(d.steps[i - 1]!.to);
        expect(d.steps.at(-1)!.to).toBe(d.desiredReplicas);
        for (const step of d.steps) {
          expect(Number.isInteger(step.to)).toBe(true);
          expect(step.detail.length).toBeGreaterThan(0);
        }
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('is deterministic: the same input gives the same decision', () => {
    fc.assert(
      fc.property(decisionInput, (input) => {
        expect(decide(structuredClone(input))).toEqual(decide(input));
      }),
      { ...RUNS, numRuns: 200 },
    );
  });
});
