import { describe, expect, it } from 'vitest';
import { leadTimeInEffect, nearestRankPercentile } from '../../../src/controller/lead-time.js';

const S = 1000;
const MIN = 60 * S;
const DEFAULT = 2 * MIN;
const INTERVAL = 30 * S;
const STEP = 60 * S;

describe('leadTimeInEffect', () => {
  it.each<[string, number | null, number[] | undefined, number, string]>([
    ['a fixed lead time, whatever was observed', 5 * MIN, [10 * S, 20 * S, 30 * S], 5 * MIN, 'Fixed'],
    ['Auto with no start-up seen', null, [], DEFAULT, 'Default'],
    ['Auto with two start-ups seen', null, [40 * S, 50 * S], DEFAULT, 'Default'],
    ['Auto with a target that reports no selector', null, undefined, DEFAULT, 'Default'],
    ['Auto with three start-ups: p90 (the slowest) plus the interval and the step', null, [40 * S, 50 * S, 45 * S], 140 * S, 'Learned'],
    ['Auto rounds up to whole seconds', null, [40_100, 41_001, 30_000], 132 * S, 'Learned'],
    ['Auto ten start-ups: p90 is the 9th smallest', null, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((k) => k * 10 * S), 180 * S, 'Learned'],
    ['Auto ignores negative and non-finite durations', null, [-5 * S, Number.NaN, 40 * S, 50 * S], DEFAULT, 'Default'],
    ['Auto may learn a lead time longer than the default', null, [3 * MIN, 4 * MIN, 5 * MIN], 5 * MIN + INTERVAL + STEP, 'Learned'],
  ])('%s', (_what, fixedMs, startupsMs, leadTimeMs, source) => {
    expect(leadTimeInEffect({ fixedMs, startupsMs, defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP })).toMatchObject({ leadTimeMs, source });
  });

  it('uses only the 20 most recent start-ups', () => {
    // Newest first: twenty fast start-ups, then thirty slow ones from long ago.
    const startups = [...Array.from({ length: 20 }, (_, i) => (30 + i) * S), ...Array.from({ length: 30 }, () => 10 * MIN)];
    const lead = leadTimeInEffect({ fixedMs: null, startupsMs: startups, defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP });
    expect(lead).toMatchObject({ leadTimeMs: 137 * S, source: 'Learned' });
    expect(lead.detail).toBe('p90 of the last 20 pod start-ups (creation to Ready) plus the 30s interval and the 60s forecast step');
  });

  it('with learning off (--no-learn-lead-time), keeps Auto on the default and says why, however many start-ups are known', () => {
    const startups = [40 * S, 50 * S, 45 * S];
    expect(leadTimeInEffect({ fixedMs: null, startupsMs: startups, defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP, learning: true }).source).toBe('Learned');
    const off = leadTimeInEffect({ fixedMs: null, startupsMs: startups, defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP, learning: false });
    expect(off).toEqual({ leadTimeMs: DEFAULT, source: 'Default', detail: expect.stringContaining('--no-learn-lead-time') });
    // A fixed lead time does not depend on learning.
    expect(leadTimeInEffect({ fixedMs: 5 * MIN, startupsMs: undefined, defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP, learning: false })).toMatchObject({
      leadTimeMs: 5 * MIN,
      source: 'Fixed',
    });
  });

  it('says how many start-ups are still missing while on the default', () => {
    expect(leadTimeInEffect({ fixedMs: null, startupsMs: [30 * S], defaultMs: DEFAULT, intervalMs: INTERVAL, stepMs: STEP }).detail).toBe(
      '1 of the 3 pod start-ups needed to learn the lead time observed',
    );
  });
});

describe('nearestRankPercentile', () => {
  it.each<[number[], number, number]>([
    [[7], 0.9, 7],
    [[3, 1, 2], 0.5, 2],
    [[5, 1, 4, 2, 3], 0.9, 5],
    [[5, 1, 4, 2, 3], 0.2, 1],
    [Array.from({ length: 20 }, (_, i) => i + 1), 0.9, 18],
  ])('%j at %d -> %d', (values, p, expected) => {
    expect(nearestRankPercentile(values, p)).toBe(expected);
  });

  it('refuses an empty list', () => {
    expect(() => nearestRankPercentile([], 0.9)).toThrow(/no values/);
  });
});
