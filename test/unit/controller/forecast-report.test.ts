import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import type { ForecastSpec } from '../../../src/api/types.js';
import {
  forecastAbsPctError,
  forecastSteps,
  forecastSummary,
  latestObservation,
  MAX_FORECAST_POINTS,
  planningPointValues,
  requestedQuantiles,
  STALENESS_MS,
} from '../../../src/controller/forecast-report.js';
import type { ModelOutcome } from '../../../src/controller/models.js';
import type { Decision, MetricDecision } from '../../../src/decision/types.js';
import type { Forecast, Series } from '../../../src/forecast/types.js';

const MIN = 60_000;
const NOW = Date.parse('2026-03-02T14:00:00Z');

function config(forecast: ForecastSpec = {}, interval = '30s'): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 50,
    interval,
    metrics: [
      { name: 'rps', query: 'rps', targetPerReplica: '10' },
      { name: 'cpu', query: 'cpu', targetPerReplica: '1' },
    ],
    forecast: { step: '1m', horizon: '30m', quantile: 0.9, ...forecast },
  });
}

/** A series whose last point is at `lastAt`. */
function seriesEndingAt(lastAt: number, values: number[], stepMs = MIN): Series {
  return { start: lastAt - (values.length - 1) * stepMs, stepMs, values };
}

/** A forecast with one point per minute from `start`; quantile series given as functions of the index. */
function forecast(start: number, mean: number[], quantiles: Record<number, (i: number) => number> = {}, stepMs = MIN): Forecast {
  return {
    model: 'HoltWinters',
    start,
    stepMs,
    mean,
    quantiles: Object.entries(quantiles)
      .map(([q, f]) => ({ q: Number(q), values: mean.map((_, i) => f(i)) }))
      .sort((a, b) => a.q - b.q),
  };
}

describe('latestObservation', () => {
  it('returns the newest finite sample', () => {
    const s = seriesEndingAt(NOW - 20_000, [1, 2, 3]);
    expect(latestObservation(s, NOW)).toEqual({ time: NOW - 20_000, value: 3 });
  });

  it('skips trailing NaN', () => {
    const s = seriesEndingAt(NOW, [1, 2, NaN, NaN]);
    expect(latestObservation(s, NOW)).toEqual({ time: NOW - 2 * MIN, value: 2 });
  });

  it.each([
    // step, age of the only finite sample, expected to be fresh
    { step: MIN, age: STALENESS_MS, fresh: true },
    { step: MIN, age: STALENESS_MS + 1, fresh: false },
    { step: 5 * MIN, age: 15 * MIN, fresh: true }, // three steps beat five minutes
    { step: 5 * MIN, age: 15 * MIN + 1, fresh: false },
    { step: 30_000, age: 5 * MIN, fresh: true }, // five minutes beat three steps
    { step: 30_000, age: 6 * MIN, fresh: false },
  ])('with step $step a sample $age ms old is fresh: $fresh', ({ step, age, fresh }) => {
    const obsAt = NOW - age;
    // The sample followed by NaN up to now, as a metric that stopped reporting looks.
    const trailing = Math.floor(age / step);
    const s = seriesEndingAt(obsAt + trailing * step, [7, ...new Array<number>(trailing).fill(NaN)], step);
    const obs = latestObservation(s, NOW);
    if (fresh) expect(obs).toEqual({ time: obsAt, value: 7 });
    else expect(obs).toBeUndefined();
  });

  it('is undefined for an empty or all-NaN series', () => {
    expect(latestObservation({ start: NOW, stepMs: MIN, values: [] }, NOW)).toBeUndefined();
    expect(latestObservation(seriesEndingAt(NOW, [NaN, NaN, NaN]), NOW)).toBeUndefined();
  });

  it('does not fall back to an older finite sample beyond the staleness limit', () => {
    const s = seriesEndingAt(NOW, [5, ...new Array<number>(10).fill(NaN)]);
    expect(latestObservation(s, NOW)).toBeUndefined();
  });
});

describe('forecastAbsPctError', () => {
  const LEAD = 2 * MIN;
  const obs = { time: NOW, value: 100 };
  /** A forecast made at `madeAt` whose points all read `value`, covering the next 30 minutes. */
  const made = (madeAt: number, value: number, points = 30) => ({
    madeAt,
    forecast: forecast(madeAt + MIN, new Array<number>(points).fill(value)),
  });

  it('is |forecast - actual| / actual in percent', () => {
    expect(forecastAbsPctError([made(NOW - 5 * MIN, 110)], obs, LEAD)).toBeCloseTo(10);
    expect(forecastAbsPctError([made(NOW - 5 * MIN, 75)], obs, LEAD)).toBeCloseTo(25);
  });

  it('picks the newest forecast made at least leadTime before the observation', () => {
    const past = [made(NOW - 10 * MIN, 150), made(NOW - 3 * MIN, 120), made(NOW - LEAD, 105), made(NOW - LEAD + 1, 999), made(NOW - 30_000, 999)];
    expect(forecastAbsPctError(past, obs, LEAD)).toBeCloseTo(5);
  });

  it('skips a forecast that does not reach the observation time', () => {
    const past = [made(NOW - 20 * MIN, 130), made(NOW - 15 * MIN, 999, 5)];
    expect(forecastAbsPctError(past, obs, LEAD)).toBeCloseTo(30);
  });

  it('reads the forecast point at the observation time', () => {
    const f = forecast(NOW - 9 * MIN, Array.from({ length: 20 }, (_, i) => 100 + i));
    // index of NOW is 9, so the prediction was 109
    expect(forecastAbsPctError([{ madeAt: NOW - 10 * MIN, forecast: f }], obs, LEAD)).toBeCloseTo(9);
  });

  it('is undefined when no forecast qualifies, the observation is zero, or the prediction is not finite', () => {
    expect(forecastAbsPctError([], obs, LEAD)).toBeUndefined();
    expect(forecastAbsPctError([made(NOW - MIN, 100)], obs, LEAD)).toBeUndefined();
    expect(forecastAbsPctError([made(NOW - 5 * MIN, 100)], { time: NOW, value: 0 }, LEAD)).toBeUndefined();
    expect(forecastAbsPctError([made(NOW - 5 * MIN, NaN)], obs, LEAD)).toBeUndefined();
  });
});

describe('planningPointValues', () => {
  const f = forecast(NOW + MIN, [10, 20, 30], { 0.5: (i) => 10 * (i + 1), 0.9: (i) => 10 * (i + 1) + 5 });

  it('gives each quantile and the mean at the point nearest the time, labelled', () => {
    expect(planningPointValues(f, NOW + 2 * MIN)).toEqual([
      ['0.5', 20],
      ['0.9', 25],
      ['mean', 20],
    ]);
    expect(planningPointValues(f, NOW + 2 * MIN + 20_000)).toContainEqual(['mean', 20]);
    expect(planningPointValues(f, NOW + 2 * MIN + 40_000)).toContainEqual(['mean', 30]);
  });

  it('clamps to the first point before the forecast and the last point after it', () => {
    expect(planningPointValues(f, NOW - 10 * MIN)).toContainEqual(['mean', 10]);
    expect(planningPointValues(f, NOW + 60 * MIN)).toContainEqual(['mean', 30]);
  });

  it('drops values that are not finite', () => {
    const g = forecast(NOW, [NaN, 1], { 0.9: () => 2 });
    expect(planningPointValues(g, NOW)).toEqual([['0.9', 2]]);
  });
});

describe('forecastSummary', () => {
  function decision(metrics: Partial<MetricDecision>[]): Decision {
    return {
      desiredReplicas: 1,
      reason: 'NoChange',
      message: '',
      recommendation: 1,
      steps: [],
      limitedBy: [],
      missingData: false,
      metrics: metrics.map((m) => ({ name: 'rps', ...m })),
    };
  }
  function outcome(f: Forecast | undefined, model = 'HoltWinters'): ModelOutcome {
    return { requestedModel: 'HoltWinters', model, forecast: f, trained: false, events: [] };
  }
  /** 40 points from now + 1m; mean rises to a hump at index `at`, quantiles around it. */
  function hump(at: number, height: number, points = 40): Forecast {
    const mean = Array.from({ length: points }, (_, i) => (i === at ? height : 100));
    return forecast(NOW + MIN, mean, { 0.05: (i) => mean[i]! * 0.8, 0.9: (i) => mean[i]! * 1.1, 0.95: (i) => mean[i]! * 1.2 });
  }

  it('reports the peak of the planning quantile within the horizon, with the 5..95 % band at the peak', () => {
    const cfg = config();
    const out = forecastSummary(cfg, decision([{ name: 'rps', predictive: 3 }]), new Map([['rps', outcome(hump(9, 500))]]), NOW);
    expect(out).toEqual({
      model: 'HoltWinters',
      generatedAt: new Date(NOW).toISOString(),
      peak: 550,
      peakAt: new Date(NOW + 10 * MIN).toISOString(),
      lower: 400,
      upper: 600,
      points: expect.any(Array),
    });
  });

  it('ignores points beyond the horizon and points more than a step in the past', () => {
    const cfg = config({ horizon: '30m' });
    const inside = hump(29, 200); // at now + 30m: the last point within the horizon
    const beyond = { ...inside, quantiles: inside.quantiles.map((q) => ({ ...q, values: q.values.map((v, i) => (i === 30 ? 9999 : v)) })) };
    expect(forecastSummary(cfg, decision([{ predictive: 1 }]), new Map([['rps', outcome(beyond)]]), NOW)?.peak).toBe(220);

    const past = forecast(NOW - 3 * MIN, [900, 100, 100, 100, 100], { 0.9: (i) => (i === 0 ? 900 : 100) });
    const out = forecastSummary(cfg, decision([{ predictive: 1 }]), new Map([['rps', outcome(past)]]), NOW);
    expect(out?.peak).toBe(100);
    expect(Date.parse(out!.peakAt)).toBeGreaterThanOrEqual(NOW - MIN);
  });

  it('counts a point up to one step before now, since the history may end a little before now', () => {
    const f = forecast(NOW - 40_000, [100, 100, 100], { 0.9: (i) => (i === 0 ? 180 : 110) });
    const out = forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW);
    expect(out).toMatchObject({ peak: 180, peakAt: new Date(NOW - 40_000).toISOString() });
  });

  it('reads the mean when the forecast lacks the planning quantile, and clamps the band around the peak', () => {
    const f = forecast(NOW + MIN, [100, 300, 100], { 0.05: (i) => (i === 1 ? 320 : 90), 0.95: (i) => (i === 1 ? 250 : 110) });
    const out = forecastSummary(config({ quantile: 0.9 }), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW);
    expect(out).toMatchObject({ peak: 300, lower: 300, upper: 300 });
  });

  it('uses the peak for both ends of the band when the band quantiles are missing', () => {
    const f = forecast(NOW + MIN, [100, 250, 100], { 0.9: (i) => [110, 260, 110][i]! });
    const out = forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW);
    expect(out).toMatchObject({ peak: 260, lower: 260, upper: 260 });
  });

  it('is driven by the metric asking for the most predictive replicas that has a forecast', () => {
    const outcomes = new Map([
      ['rps', outcome(hump(5, 300), 'HoltWinters')],
      ['cpu', outcome(hump(5, 2), 'SeasonalNaive')],
    ]);
    expect(forecastSummary(config(), decision([{ name: 'rps', predictive: 3 }, { name: 'cpu', predictive: 8 }]), outcomes, NOW)?.model).toBe(
      'SeasonalNaive',
    );
    expect(forecastSummary(config(), decision([{ name: 'rps', predictive: 9 }, { name: 'cpu', predictive: 8 }]), outcomes, NOW)?.model).toBe(
      'HoltWinters',
    );
    // The metric with more replicas has no forecast: the next one drives.
    const partial = new Map([['rps', outcome(hump(5, 300))], ['cpu', outcome(undefined)]]);
    expect(forecastSummary(config(), decision([{ name: 'rps', predictive: 3 }, { name: 'cpu', predictive: 8 }]), partial, NOW)?.peak).toBe(330);
  });

  it('names the requested model when the outcome has no model name', () => {
    const o: ModelOutcome = { requestedModel: 'Linear', forecast: hump(3, 200), trained: true, events: [] };
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', o]]), NOW)?.model).toBe('Linear');
  });

  it('rounds to four significant digits', () => {
    const f = forecast(NOW + MIN, [123.456789], { 0.9: () => 1234.5678, 0.05: () => 0.000123456, 0.95: () => 98765.4321 });
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW)).toMatchObject({
      peak: 1235,
      lower: 0.0001235,
      upper: 98770,
    });
  });

  it('holds the planning quantile over the horizon at 24 evenly spaced points, ends included, to three significant digits', () => {
    // 40 points from now + 1m; the 30m horizon holds the first 30 (indices 0..29).
    const f = forecast(NOW + MIN, Array.from({ length: 40 }, () => 100), { 0.9: (i) => 1000 + i * 1.23456, 0.95: (i) => 2000 + i });
    const points = forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW)!.points!;
    expect(points).toHaveLength(MAX_FORECAST_POINTS);
    expect(points[0]).toBe(1000);
    expect(points.at(-1)).toBe(Number((1000 + 29 * 1.23456).toPrecision(3)));
    for (const p of points) expect(p).toBe(Number(p.toPrecision(3)));
    expect([...points].sort((a, b) => a - b)).toEqual(points);
  });

  it('keeps every point of a horizon shorter than 24 steps, and drops the ones that are not finite', () => {
    const f = forecast(NOW + MIN, [100, 100, 100, 100, 100], { 0.9: (i) => [110, NaN, 130, Infinity, 150.55][i]! });
    const out = forecastSummary(config({ horizon: '5m' }, '1m'), decision([{ predictive: 1 }]), new Map([['rps', outcome(f)]]), NOW);
    expect(out?.points).toEqual([110, 130, 151]);
  });

  it('is undefined without any forecast or without a finite point in range', () => {
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map(), NOW)).toBeUndefined();
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(undefined)]]), NOW)).toBeUndefined();
    const allNaN = forecast(NOW + MIN, [NaN, NaN], { 0.9: () => NaN });
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(allNaN)]]), NOW)).toBeUndefined();
    const late = forecast(NOW + 40 * MIN, [100], { 0.9: () => 100 });
    expect(forecastSummary(config(), decision([{ predictive: 1 }]), new Map([['rps', outcome(late)]]), NOW)).toBeUndefined();
  });
});

describe('forecastSteps', () => {
  it.each([
    // what, age of the last point, lead time, interval, horizon, steps
    { what: 'the horizon when data is fresh', age: 30_000, lead: 2 * MIN, interval: '30s', horizon: '30m', steps: 30 },
    { what: 'lead time + interval beyond a stale last point', age: 40 * MIN, lead: 2 * MIN, interval: '30s', horizon: '30m', steps: 43 },
    { what: 'a lead time longer than the horizon', age: 0, lead: 45 * MIN, interval: '1m', horizon: '30m', steps: 46 },
    { what: 'at least one step', age: 0, lead: 0, interval: '30s', horizon: '10s', steps: 1 },
  ])('covers $what', ({ age, lead, interval, horizon, steps }) => {
    const cfg = config({ horizon }, interval);
    const s = seriesEndingAt(NOW - age, [1, 2, 3]);
    expect(forecastSteps(s, cfg, NOW, lead)).toBe(steps);
  });

  it('counts steps of the configured forecast step', () => {
    const cfg = config({ step: '5m', horizon: '1h' });
    expect(forecastSteps(seriesEndingAt(NOW, [1, 2], 5 * MIN), cfg, NOW, 2 * MIN)).toBe(12);
  });
});

describe('requestedQuantiles', () => {
  it.each([
    [0.9, [0.05, 0.5, 0.9, 0.95]],
    [0.95, [0.05, 0.5, 0.95]],
    [0.5, [0.05, 0.5, 0.95]],
    [0.99, [0.05, 0.5, 0.95, 0.99]],
    [0.01, [0.01, 0.05, 0.5, 0.95]],
  ])('planning quantile %s asks for %j', (q, expected) => {
    expect(requestedQuantiles(config({ quantile: q }))).toEqual(expected);
  });
});
