import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { predictiveReplicas, reactiveReplicas, windowPeak } from '../../../src/decision/decide.js';
import { historyRetention, pruneHistory } from '../../../src/decision/history.js';
import type { Forecast } from '../../../src/forecast/types.js';
import { MIN, NOW, scalerConfig } from './fixtures.js';

describe('reactiveReplicas (HPA formula, tolerance 0.1)', () => {
  it.each([
    { observed: 100, current: 4, target: 25, want: 4 }, // ratio 1
    { observed: 150, current: 4, target: 25, want: 6 }, // ratio 1.5
    { observed: 0, current: 4, target: 25, want: 0 },
    { observed: 26, current: 0, target: 25, want: 2 }, // from zero: ceil(observed / target)
    { observed: -5, current: 3, target: 25, want: 0 }, // a negative reading asks for nothing
  ])('$observed at $target per replica with $current running => $want', ({ observed, current, target, want }) => {
    expect(reactiveReplicas(observed, current, target)).toBe(want);
  });
});

describe('predictiveReplicas', () => {
  it.each([
    { peak: 512, target: 40, headroom: 0.1, want: 15 },
    { peak: 400, target: 40, headroom: 0, want: 10 },
    { peak: 401, target: 40, headroom: 0, want: 11 },
    { peak: 0, target: 40, headroom: 0.1, want: 0 },
  ])('$peak / $target +$headroom => $want', ({ peak, target, headroom, want }) => {
    expect(predictiveReplicas(peak, target, headroom)).toBe(want);
  });
});

describe('windowPeak', () => {
  const forecast: Forecast = {
    model: 'Test',
    start: NOW + MIN,
    stepMs: MIN,
    mean: [10, 20, 30, 40],
    quantiles: [{ q: 0.9, values: [15, NaN, 45, 35] }],
  };

  it.each([
    { case: 'inside the forecast', from: NOW + 3 * MIN, to: NOW + 4 * MIN, q: 0.9, want: { value: 45, at: NOW + 3 * MIN, source: 'quantile', position: 'within' } },
    { case: 'quantile matched within 1e-9', from: NOW + 3 * MIN, to: NOW + 3 * MIN, q: 0.9 + 1e-12, want: { value: 45, source: 'quantile' } },
    { case: 'mean when the quantile is absent', from: NOW + 3 * MIN, to: NOW + 4 * MIN, q: 0.8, want: { value: 40, at: NOW + 4 * MIN, source: 'mean' } },
    { case: 'NaN points are skipped', from: NOW + MIN, to: NOW + 2 * MIN, q: 0.9, want: { value: 15, at: NOW + MIN } },
    { case: 'beyond the end: last point', from: NOW + 10 * MIN, to: NOW + 11 * MIN, q: 0.9, want: { value: 35, position: 'beyondEnd' } },
    { case: 'before the start: first point', from: NOW, to: NOW + 30_000, q: 0.9, want: { value: 15, position: 'beforeStart' } },
  ])('$case', ({ from, to, q, want }) => {
    expect(windowPeak(forecast, q, from, to)).toMatchObject(want);
  });

  it('is undefined when the forecast holds no finite value', () => {
    expect(windowPeak({ ...forecast, mean: [NaN], quantiles: [] }, 0.9, NOW, NOW + MIN)).toBeUndefined();
  });

  /** The rule as documented, by brute force over every point. */
  function reference(f: Forecast, from: number, to: number): { value: number; at: number; position: string } | undefined {
    const points = f.mean.map((value, i) => ({ value, at: f.start + i * f.stepMs })).filter((p) => Number.isFinite(p.value));
    if (points.length === 0) return undefined;
    const inside = points.filter((p) => p.at <= to && p.at + f.stepMs > from);
    if (inside.length > 0) {
      const best = inside.reduce((a, b) => (b.value > a.value ? b : a));
      return { ...best, position: 'within' };
    }
    if (to < points[0]!.at) return { ...points[0]!, position: 'beforeStart' };
    if (from >= points.at(-1)!.at) return { ...points.at(-1)!, position: 'beyondEnd' };
    return { ...points.find((p) => p.at > to)!, position: 'within' };
  }

  it('reads the peak as the documented rule does, for any window over any forecast with gaps', () => {
    const value = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -50, max: 50 }) }, { weight: 1, arbitrary: fc.constant(NaN) });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 40 }), fc.integer({ min: -5, max: 45 }), fc.integer({ min: 0, max: 8 }), (mean, fromStep, widthSteps) => {
        const f: Forecast = { model: 'Test', start: NOW, stepMs: MIN, mean, quantiles: [] };
        const from = NOW + fromStep * MIN + 20_000;
        const to = from + widthSteps * 30_000;
        const got = windowPeak(f, 0.9, from, to);
        const want = reference(f, from, to);
        expect(got === undefined ? undefined : { value: got.value, at: got.at, position: got.position }).toEqual(want);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pruneHistory', () => {
  it('keeps only records newer than now - keepMs, without changing the input', () => {
    const records = [
      { time: NOW - 6 * MIN, replicas: 1 },
      { time: NOW - 5 * MIN, replicas: 2 },
      { time: NOW - 4 * MIN, replicas: 3 },
      { time: NOW, replicas: 4 },
    ];
    expect(pruneHistory(records, NOW, 5 * MIN).map((r) => r.replicas)).toEqual([3, 4]);
    expect(records).toHaveLength(4);
  });

  it('keeps what decide looks at: the stabilization window and one minute of scale events', () => {
    const config = scalerConfig({ scaling: { scaleDown: { stabilizationWindow: '10m' } } });
    expect(historyRetention(config)).toEqual({ recommendationsMs: 10 * MIN, scaleEventsMs: MIN });
  });
});
