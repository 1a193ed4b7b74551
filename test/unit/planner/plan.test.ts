import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OBJECTIVE, DEFAULT_PLAN_GRID, choosePlan, meetsObjective, planLabel, type PlanOutcome } from '../../../src/planner/plan.js';

function outcome(quantile: number, headroom: number, underProvisioned: number, replicaMinutes: number, scaleEvents = 10): PlanOutcome {
  return { plan: { quantile, headroom }, underProvisioned, replicaMinutes, scaleEvents };
}

const objective = { maxUnderProvisioned: 0.005 };

describe('the defaults', () => {
  it('the objective is 0.5% and the grid is 6 quantiles x 4 headrooms, each plan once', () => {
    expect(DEFAULT_OBJECTIVE.maxUnderProvisioned).toBe(0.005);
    expect(DEFAULT_PLAN_GRID).toHaveLength(24);
    expect(new Set(DEFAULT_PLAN_GRID.map(planLabel)).size).toBe(24);
    expect([...new Set(DEFAULT_PLAN_GRID.map((p) => p.quantile))]).toEqual([0.5, 0.7, 0.8, 0.9, 0.95, 0.99]);
    expect([...new Set(DEFAULT_PLAN_GRID.map((p) => p.headroom))]).toEqual([0, 0.05, 0.1, 0.2]);
    expect(Object.isFrozen(DEFAULT_PLAN_GRID) && Object.isFrozen(DEFAULT_PLAN_GRID[0])).toBe(true);
  });

  it('labels a plan as its quantile and headroom', () => {
    expect(planLabel({ quantile: 0.8, headroom: 0.05 })).toBe('q0.8 +5%');
    expect(planLabel({ quantile: 0.99, headroom: 0 })).toBe('q0.99 +0%');
  });
});

describe('choosePlan', () => {
  it('picks the cheapest plan among those meeting the objective, not the cheapest overall', () => {
    const outcomes = [
      outcome(0.5, 0, 0.03, 900), // cheapest, misses
      outcome(0.8, 0.05, 0.003, 1000),
      outcome(0.9, 0, 0.004, 1010),
      outcome(0.99, 0.2, 0, 1500),
    ];
    const choice = choosePlan(outcomes, objective, '7d');
    expect(choice.plan).toEqual({ quantile: 0.8, headroom: 0.05 });
    expect(choice.outcome).toBe(outcomes[1]);
    expect(choice.met).toBe(true);
    expect(choice.reason).toBe('q0.8 +5% is the cheapest of 4 plans whose simulated under-provisioning (0.3%) meets the objective 0.5% over the last 7d (3 of them do)');
  });

  it('counts an outcome exactly at the objective as meeting it', () => {
    const choice = choosePlan([outcome(0.5, 0, 0.005, 900), outcome(0.9, 0, 0, 1000)], objective, '7d');
    expect(choice.plan.quantile).toBe(0.5);
    expect(choice.met).toBe(true);
    expect(choice.reason).toMatch(/\(all do\)$/);
  });

  it.each([
    ['fewer scale events', [outcome(0.5, 0, 0, 1000, 12), outcome(0.9, 0, 0, 1000, 8)], { quantile: 0.9, headroom: 0 }],
    ['then the lower quantile', [outcome(0.9, 0, 0, 1000, 8), outcome(0.7, 0.2, 0, 1000, 8)], { quantile: 0.7, headroom: 0.2 }],
    ['then the lower headroom', [outcome(0.7, 0.1, 0, 1000, 8), outcome(0.7, 0.05, 0, 1000, 8)], { quantile: 0.7, headroom: 0.05 }],
  ])('breaks a tie in cost by %s', (_, outcomes, expected) => {
    expect(choosePlan(outcomes, objective, '7d').plan).toEqual(expected);
    expect(choosePlan([...outcomes].reverse(), objective, '7d').plan).toEqual(expected);
  });

  it('when none meets the objective, picks the closest one and says so', () => {
    const outcomes = [outcome(0.5, 0, 0.04, 900), outcome(0.99, 0.2, 0.012, 1500), outcome(0.95, 0.1, 0.02, 1300)];
    const choice = choosePlan(outcomes, objective, '7d');
    expect(choice.plan).toEqual({ quantile: 0.99, headroom: 0.2 });
    expect(choice.met).toBe(false);
    expect(choice.reason).toBe('none of 3 plans met the objective 0.5% over the last 7d: q0.99 +20% comes closest with 1.2% simulated under-provisioning');
  });

  it('when none meets it and two are equally close, picks the cheaper', () => {
    const choice = choosePlan([outcome(0.99, 0.2, 0.01, 1500), outcome(0.95, 0.2, 0.01, 1400)], objective, '1d');
    expect(choice.plan).toEqual({ quantile: 0.95, headroom: 0.2 });
    expect(choice.met).toBe(false);
  });

  it('with objective 0 only a plan without any under-provisioned minute qualifies', () => {
    const outcomes = [outcome(0.5, 0, 0.0001, 900), outcome(0.9, 0.1, 0, 1200), outcome(0.99, 0.2, 0, 1600)];
    const choice = choosePlan(outcomes, { maxUnderProvisioned: 0 }, '7d');
    expect(choice.plan).toEqual({ quantile: 0.9, headroom: 0.1 });
    expect(choice.met).toBe(true);
    expect(choice.reason).toContain('(0%) meets the objective 0% over the last 7d (2 of them do)');
  });

  it('a single plan is chosen whether or not it meets the objective', () => {
    expect(choosePlan([outcome(0.9, 0.1, 0, 1000)], objective, '7d').reason).toBe(
      'q0.9 +10% is the cheapest of 1 plan whose simulated under-provisioning (0%) meets the objective 0.5% over the last 7d (all do)',
    );
    expect(choosePlan([outcome(0.9, 0.1, 0.5, 1000)], objective, '7d').met).toBe(false);
  });

  it('throws on an empty list and on an objective that is not a share', () => {
    expect(() => choosePlan([], objective, '7d')).toThrow(/at least one/);
    expect(() => choosePlan([outcome(0.9, 0, 0, 1)], { maxUnderProvisioned: Number.NaN }, '7d')).toThrow(RangeError);
    expect(() => choosePlan([outcome(0.9, 0, 0, 1)], { maxUnderProvisioned: -0.01 }, '7d')).toThrow(RangeError);
  });

  const arbOutcome = fc.record({
    plan: fc.record({ quantile: fc.constantFrom(0.5, 0.7, 0.8, 0.9, 0.95, 0.99), headroom: fc.constantFrom(0, 0.05, 0.1, 0.2) }),
    underProvisioned: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.05, noNaN: true })),
    replicaMinutes: fc.integer({ min: 0, max: 4000 }).map((quarters) => quarters / 4),
    scaleEvents: fc.integer({ min: 0, max: 50 }),
  });
  const arbObjective = fc.record({ maxUnderProvisioned: fc.oneof(fc.constant(0), fc.constant(0.005), fc.double({ min: 0, max: 0.05, noNaN: true })) });

  it('property: the choice is one of the outcomes; it meets the objective whenever any does, and no meeting outcome is cheaper', () => {
    fc.assert(
      fc.property(fc.array(arbOutcome, { minLength: 1, maxLength: 30 }), arbObjective, (outcomes, obj) => {
        const choice = choosePlan(outcomes, obj, '7d');
        expect(outcomes).toContain(choice.outcome);
        const meeting = outcomes.filter((o) => meetsObjective(o, obj));
        expect(choice.met).toBe(meeting.length > 0);
        if (meeting.length > 0) {
          expect(meetsObjective(choice.outcome, obj)).toBe(true);
          for (const o of meeting) expect(o.replicaMinutes).toBeGreaterThanOrEqual(choice.outcome.replicaMinutes);
        } else {
          for (const o of outcomes) expect(o.underProvisioned).toBeGreaterThanOrEqual(choice.outcome.underProvisioned);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('property: the choice does not depend on the order of the outcomes', () => {
    fc.assert(
      fc.property(fc.array(arbOutcome, { minLength: 1, maxLength: 20 }), arbObjective, fc.integer(), (outcomes, obj, seed) => {
        const shuffled = [...outcomes].sort((a, b) => ((outcomes.indexOf(a) * 7919 + seed) % 13) - ((outcomes.indexOf(b) * 7919 + seed) % 13));
        const a = choosePlan(outcomes, obj, '7d');
        const b = choosePlan(shuffled, obj, '7d');
        expect({ ...b.outcome }).toEqual({ ...a.outcome });
      }),
      { numRuns: 300 },
    );
  });
});
