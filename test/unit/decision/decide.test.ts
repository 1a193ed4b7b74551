import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/decision/decide.js';
import type { DecisionRule, MetricInput, RecommendationRecord, ScaleEventRecord } from '../../../src/decision/types.js';
import type { Forecast } from '../../../src/forecast/types.js';
import { MIN, NOW, SEC, flatForecast, forecast, input, scalerConfig, unlimited, type SpecOverrides } from './fixtures.js';

const rps = (observed: number | undefined, fc?: Forecast): MetricInput => ({ name: 'rps', observed, forecast: fc });

/** p90 rises 100 per minute ahead: 100 at +1m, 200 at +2m, ... (mean is half of it). */
const ramp = forecast({ mean: (m) => 50 * m, quantiles: { 0.5: (m) => 50 * m, 0.9: (m) => 100 * m } });
/** p90 falls 100 per minute ahead: 900 at +1m, 800 at +2m, ... */
const fall = forecast({ mean: (m) => 1000 - 100 * m, quantiles: { 0.9: (m) => 1000 - 100 * m } });

describe('decide: one metric', () => {
  it.each([
    // predictive ahead of a ramp: window [+2m, +2m30s] touches only the +2m point (p90 200) => 200/40*1.1 = 5.5 -> 6
    { case: 'predictive ahead of a ramp', spec: {}, current: 2, observed: 80, fc: ramp, lead: 2 * MIN, want: 6, rule: 'predictive' },
    { case: 'longer lead time reaches further up the ramp', spec: {}, current: 2, observed: 80, fc: ramp, lead: 10 * MIN, want: 28, rule: 'predictive' },
    { case: 'reactive floor on: load above forecast wins', spec: {}, current: 5, observed: 1000, fc: flatForecast(400), lead: 2 * MIN, want: 25, rule: 'reactive' },
    { case: 'reactive floor off: forecast alone', spec: { scaling: { reactiveFloor: false } }, current: 5, observed: 1000, fc: flatForecast(400), lead: 2 * MIN, want: 11, rule: 'predictive' },
    { case: 'no forecast: reactive only even with floor off', spec: { scaling: { reactiveFloor: false } }, current: 5, observed: 1000, fc: undefined, lead: 2 * MIN, want: 25, rule: 'reactive' },
    { case: 'forecast of only NaN counts as no forecast', spec: {}, current: 5, observed: 100, fc: forecast({ mean: () => NaN, quantiles: { 0.9: () => NaN } }), lead: 2 * MIN, want: 3, rule: 'reactive' },
    { case: 'tolerance: usage 1.075 of capacity keeps the count', spec: {}, current: 10, observed: 430, fc: undefined, lead: 2 * MIN, want: 10, rule: 'reactive' },
    { case: 'tolerance: exactly 1.1 is inside the band', spec: {}, current: 10, observed: 440, fc: undefined, lead: 2 * MIN, want: 10, rule: 'reactive' },
    { case: 'tolerance: just above 1.1 scales up', spec: {}, current: 10, observed: 441, fc: undefined, lead: 2 * MIN, want: 12, rule: 'reactive' },
    { case: 'tolerance: exactly 0.9 is inside the band', spec: {}, current: 10, observed: 360, fc: undefined, lead: 2 * MIN, want: 10, rule: 'reactive' },
    { case: 'tolerance: below 0.9 scales down', spec: {}, current: 10, observed: 359, fc: undefined, lead: 2 * MIN, want: 9, rule: 'reactive' },
    { case: 'reactive from zero replicas', spec: { minReplicas: 0 }, current: 0, observed: 50, fc: undefined, lead: 2 * MIN, want: 2, rule: 'reactive' },
    { case: 'headroom: 2000/40 * 1.1 is 55, not 56 (float noise)', spec: {}, current: 55, observed: 2200, fc: flatForecast(2000), lead: 2 * MIN, want: 55, rule: 'predictive' },
    { case: 'reactive: 2.1 / 0.3 is 7, not 8 (float noise)', spec: { metrics: [{ name: 'rps', query: 'q', targetPerReplica: '300m' }] }, current: 1, observed: 2.1, fc: undefined, lead: 2 * MIN, want: 7, rule: 'reactive' },
    { case: 'headroom 0%: 400/40 = 10', spec: { scaling: { headroom: '0%' } }, current: 10, observed: 400, fc: flatForecast(400), lead: 2 * MIN, want: 10, rule: 'predictive' },
    { case: 'headroom 25%: 100/30 * 1.25 = 4.17 -> 5', spec: { metrics: [{ name: 'rps', query: 'q', targetPerReplica: '30' }], scaling: { headroom: '25%' } }, current: 3, observed: 100, fc: flatForecast(100), lead: 2 * MIN, want: 5, rule: 'predictive' },
    // The tolerance band holds the forecast's count too: 4.17 is within 10% of 4.
    { case: 'tolerance: a forecast need of 4.17 keeps 4', spec: { metrics: [{ name: 'rps', query: 'q', targetPerReplica: '30' }], scaling: { headroom: '25%' } }, current: 4, observed: 100, fc: flatForecast(100), lead: 2 * MIN, want: 4, rule: 'predictive' },
    { case: 'tolerance 0%: a forecast need of 4.17 buys a fifth', spec: { metrics: [{ name: 'rps', query: 'q', targetPerReplica: '30' }], scaling: { headroom: '25%', tolerance: '0%' } }, current: 4, observed: 100, fc: flatForecast(100), lead: 2 * MIN, want: 5, rule: 'predictive' },
    { case: 'tolerance: a forecast need 0.92 of the count keeps it', spec: { scaling: { headroom: '0%' } }, current: 10, observed: 300, fc: flatForecast(368), lead: 2 * MIN, want: 10, rule: 'predictive' },
    { case: 'tolerance: a forecast need 0.85 of the count scales down', spec: { scaling: { headroom: '0%' } }, current: 10, observed: 300, fc: flatForecast(340), lead: 2 * MIN, want: 9, rule: 'predictive' },
    { case: 'fractional target (500m cpu)', spec: { metrics: [{ name: 'rps', query: 'q', targetPerReplica: '500m' }], scaling: { headroom: '0%' } }, current: 3, observed: 1.1, fc: flatForecast(1.1), lead: 2 * MIN, want: 3, rule: 'predictive' },
    { case: 'negative forecast counts as zero demand', spec: { minReplicas: 0, scaling: { reactiveFloor: false } }, current: 3, observed: 0, fc: flatForecast(-50), lead: 2 * MIN, want: 0, rule: 'predictive' },
  ] satisfies Array<{ case: string; spec: SpecOverrides; current: number; observed: number; fc: Forecast | undefined; lead: number; want: number; rule: DecisionRule }>)(
    '$case => $want',
    ({ spec, current, observed, fc, lead, want, rule }) => {
      const d = decide(input(unlimited(spec), current, [rps(observed, fc)], { leadTimeMs: lead }));
      expect(d.desiredReplicas).toBe(want);
      expect(d.steps[0]!.rule).toBe(rule);
      expect(d.missingData).toBe(false);
    },
  );

  it.each([
    { quantile: 0.9, want: 11, label: 'p90' }, // 400 / 40 * 1.1
    { quantile: 0.5, want: 9, label: 'p50' }, // 320 / 40 * 1.1 = 8.8
    { quantile: 0.95, want: 9, label: 'mean (no p95)' }, // absent level falls back to the mean (320)
  ])('plans on quantile $quantile ($label)', ({ quantile, want, label }) => {
    const config = unlimited({ forecast: { quantile }, scaling: { reactiveFloor: false } });
    const d = decide(input(config, 5, [rps(200, flatForecast(400))]));
    expect(d.desiredReplicas).toBe(want);
    expect(d.message).toContain(`forecast ${label} peak`);
    expect(d.metrics[0]!.forecastSource).toBe(label === 'mean (no p95)' ? 'mean' : 'quantile');
  });

  it.each([
    // ramp p90 = 100 * minute; the window is [now + lead, now + lead + interval]
    { case: 'interval 30s takes the +2m point', interval: '30s', lead: 2 * MIN, peak: 200, at: '14:02', position: 'within' },
    { case: 'interval 90s spans +2m and +3m', interval: '90s', lead: 2 * MIN, peak: 300, at: '14:03', position: 'within' },
    { case: 'a window starting mid-step uses the step it starts in', interval: '30s', lead: 2 * MIN + 40 * SEC, peak: 300, at: '14:03', position: 'within' },
    { case: 'window beyond the forecast uses the last point', interval: '30s', lead: 90 * MIN, peak: 3000, at: '14:30', position: 'beyondEnd' },
    { case: 'a step ending where the window starts is not used', interval: '30s', lead: 2 * MIN, peak: 800, at: '14:02', position: 'within', fc: fall },
    { case: 'a step starting where the window ends is used', interval: '60s', lead: 2 * MIN, peak: 300, at: '14:03', position: 'within' },
  ])('$case', ({ interval, lead, peak, at, position, fc }) => {
    const d = decide(input(unlimited({ interval, maxReplicas: 1000 }), 1, [rps(10, fc ?? ramp)], { leadTimeMs: lead }));
    expect(d.metrics[0]).toMatchObject({ forecastPeak: peak, forecastWindow: position });
    expect(new Date(d.metrics[0]!.forecastPeakAt!).toISOString().slice(11, 16)).toBe(at);
    expect(d.desiredReplicas).toBe(Math.ceil((peak / 40) * 1.1 - 1e-9));
    if (position === 'beyondEnd') expect(d.message).toContain('last forecast point');
  });

  it('a window before the forecast starts uses the first point', () => {
    const late = forecast({ firstMinute: 20, mean: (m) => 10 * m, quantiles: { 0.9: (m) => 20 * m } });
    const d = decide(input(unlimited(), 1, [rps(10, late)], { leadTimeMs: MIN }));
    expect(d.metrics[0]).toMatchObject({ forecastPeak: 400, forecastWindow: 'beforeStart' });
    expect(d.desiredReplicas).toBe(11);
    expect(d.message).toContain('first forecast point');
  });
});

describe('decide: missing data and several metrics', () => {
  const twoMetrics = (overrides: SpecOverrides = {}) =>
    unlimited({
      metrics: [
        { name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' },
        { name: 'cpu', query: 'sum(rate(container_cpu_usage_seconds_total[1m]))', targetPerReplica: '500m' },
      ],
      ...overrides,
    });
  const cpu = (observed: number | undefined, fc?: Forecast): MetricInput => ({ name: 'cpu', observed, forecast: fc });

  it.each([
    { case: 'max over metrics: cpu asks for more', metrics: [rps(200), cpu(4)], current: 5, want: 8, driver: 'cpu', missing: false },
    { case: 'max over metrics: rps asks for more', metrics: [rps(800), cpu(1)], current: 5, want: 20, driver: 'rps', missing: false },
    { case: 'one metric without data cannot cause a scale-down', metrics: [rps(40), cpu(undefined)], current: 10, want: 10, driver: 'cpu', missing: true },
    { case: 'one metric without data does not block a scale-up', metrics: [rps(800), cpu(undefined)], current: 10, want: 20, driver: 'rps', missing: true },
    { case: 'a metric absent from the input counts as no data', metrics: [rps(40)], current: 10, want: 10, driver: 'cpu', missing: true },
    { case: 'on a tie, a metric with data drives rather than a no-data hold', metrics: [cpu(undefined), rps(400)], current: 10, want: 10, driver: 'rps', missing: true },
    { case: 'a NaN observation counts as no data', metrics: [rps(40), cpu(NaN)], current: 10, want: 10, driver: 'cpu', missing: true },
  ])('$case', ({ metrics, current, want, driver, missing }) => {
    const d = decide(input(twoMetrics(), current, metrics));
    expect(d.desiredReplicas).toBe(want);
    expect(d.missingData).toBe(missing);
    expect(d.message).toContain(`max over metrics ${d.recommendation} (${driver})`);
  });

  it('a metric without data ignores its forecast and holds', () => {
    const d = decide(input(twoMetrics(), 10, [rps(40), cpu(undefined, flatForecast(20))]));
    expect(d.desiredReplicas).toBe(10);
    expect(d.metrics[1]).toMatchObject({ name: 'cpu', missingData: true, replicas: 10, predictive: 44 });
  });

  it('a schedule multiplier below 1 cannot scale down while a metric lacks data', () => {
    const config = twoMetrics({ schedule: [{ name: 'quiet', start: '2026-03-02T00:00:00Z', end: '2026-03-03T00:00:00Z', multiplier: '0.5' }] });
    const d = decide(input(config, 10, [rps(40), cpu(undefined)]));
    expect(d.desiredReplicas).toBe(10);
    expect(d.steps.map((s) => s.rule)).toEqual(['noData', 'schedule', 'noData']);
  });

  it.each([
    { case: 'within bounds', spec: {}, current: 7 },
    { case: 'above maxReplicas', spec: { maxReplicas: 5 }, current: 7 },
    { case: 'below minReplicas', spec: { minReplicas: 9 }, current: 7 },
  ])('no data on any metric holds exactly ($case)', ({ spec, current }) => {
    const d = decide(input(twoMetrics(spec), current, [rps(undefined, flatForecast(4000)), cpu(undefined)]));
    expect(d).toMatchObject({ desiredReplicas: current, recommendation: current, reason: 'HoldNoData', missingData: true, limitedBy: [] });
    expect(d.message).toBe(`no data for rps, cpu; holding ${current} replicas`);
  });
});

describe('decide: schedule and bounds', () => {
  const window = { start: '2026-03-02T13:00:00Z', end: '2026-03-02T15:00:00Z' };
  const later = { start: '2026-03-02T14:00:01Z', end: '2026-03-02T16:00:00Z' };
  const endedNow = { start: '2026-03-02T12:00:00Z', end: '2026-03-02T14:00:00Z' };

  it.each([
    { case: 'floor in window', schedule: [{ name: 'launch', ...window, minReplicas: 30 }], want: 30, text: 'schedule launch floor 30 => 30' },
    { case: 'floor not yet started', schedule: [{ name: 'launch', ...later, minReplicas: 30 }], want: 8, text: undefined },
    { case: 'floor whose end is now (end exclusive)', schedule: [{ name: 'launch', ...endedNow, minReplicas: 30 }], want: 8, text: undefined },
    { case: 'floor below the recommendation changes nothing', schedule: [{ name: 'launch', ...window, minReplicas: 4 }], want: 8, text: undefined },
    { case: 'multiplier rounds up', schedule: [{ name: 'sale', ...window, multiplier: '1.5' }], want: 12, text: 'schedule sale x1.5 => 12' },
    { case: 'multiplier out of window', schedule: [{ name: 'sale', ...later, multiplier: 2 }], want: 8, text: undefined },
    { case: 'multiplier then floor', schedule: [{ name: 'sale', ...window, multiplier: 2, minReplicas: 20 }], want: 20, text: 'schedule sale x2 => 16; schedule sale floor 20 => 20' },
    { case: 'overlapping multipliers: the largest, not the product', schedule: [{ name: 'a', ...window, multiplier: 2 }, { name: 'b', ...window, multiplier: 3 }], want: 24, text: 'schedule b x3 => 24' },
    { case: 'overlapping floors: the highest', schedule: [{ name: 'a', ...window, minReplicas: 12 }, { name: 'b', ...window, minReplicas: 15 }], want: 15, text: 'schedule b floor 15 => 15' },
    { case: 'floor is still capped by maxReplicas', schedule: [{ name: 'launch', ...window, minReplicas: 300 }], want: 100, text: 'limited by maxReplicas to 100' },
  ])('$case', ({ schedule, want, text }) => {
    // rps 300 at 40 per replica, no forecast: 8 replicas before the schedule
    const d = decide(input(unlimited({ schedule }), 8, [rps(300)]));
    expect(d.desiredReplicas).toBe(want);
    if (text) expect(d.message).toContain(text);
    else expect(d.steps.map((s) => s.rule)).not.toContain('schedule');
  });

  it.each([
    { case: 'minReplicas raises a low recommendation', spec: { minReplicas: 3 }, observed: 40, current: 3, want: 3, limitedBy: ['minReplicas'] },
    { case: 'maxReplicas caps a high recommendation', spec: { maxReplicas: 10 }, observed: 4000, current: 5, want: 10, limitedBy: ['maxReplicas'] },
    { case: 'current above maxReplicas moves straight into the bounds', spec: { maxReplicas: 10, scaling: { scaleDown: { maxPercentPerMinute: 10 } } }, observed: 4000, current: 40, want: 10, limitedBy: ['maxReplicas'] },
    { case: 'current below minReplicas moves into the bounds despite the scale-up limit', spec: { minReplicas: 6, scaling: { scaleUp: { maxReplicasPerMinute: 1 } } }, observed: 0, current: 2, want: 6, limitedBy: ['minReplicas'] },
  ])('$case', ({ spec, observed, current, want, limitedBy }) => {
    const d = decide(input(unlimited(spec as SpecOverrides), current, [rps(observed)]));
    expect(d.desiredReplicas).toBe(want);
    expect(d.recommendation).toBe(want);
    expect(d.limitedBy).toEqual(limitedBy);
    expect(d.message).toContain(`limited by ${limitedBy[0]} to ${want}`);
  });
});

describe('decide: rate limits and stabilization', () => {
  const upTo4 = (events: ScaleEventRecord[] = []) =>
    input(unlimited({ scaling: { scaleUp: { maxReplicasPerMinute: 4 } } }), 10, [rps(800)], { scaleEvents: events });

  it.each([
    { case: 'no prior events: +4', events: [], want: 14 },
    { case: '3 added 30s ago: +1', events: [{ time: NOW - 30 * SEC, from: 7, to: 10 }], want: 11 },
    { case: 'budget used up: hold', events: [{ time: NOW - 10 * SEC, from: 6, to: 10 }], want: 10 },
    { case: 'an event exactly 60s ago has expired', events: [{ time: NOW - 60 * SEC, from: 6, to: 10 }], want: 14 },
    { case: 'scale-downs do not use the scale-up budget', events: [{ time: NOW - 20 * SEC, from: 12, to: 10 }], want: 14 },
  ])('scale-up rate limit, $case', ({ events, want }) => {
    const d = decide(upTo4(events));
    expect(d.desiredReplicas).toBe(want);
    expect(d.recommendation).toBe(20);
    expect(d.limitedBy).toEqual(['scaleUpRate']);
    expect(d.message).toContain(`limited by scaleUp to ${want}`);
    expect(d.reason).toBe(want > 10 ? 'ScaleUp' : 'NoChange');
  });

  const stabilize = (records: RecommendationRecord[]) =>
    input(unlimited({ scaling: { scaleDown: { stabilizationWindow: '5m', maxPercentPerMinute: 100 } } }), 20, [rps(400)], { recommendations: records });

  it.each([
    { case: 'no history: straight to the recommendation', records: [], want: 10, limited: false },
    { case: 'a higher recommendation 4m ago holds the count up', records: [{ time: NOW - 4 * MIN, replicas: 18 }], want: 18, limited: true },
    { case: 'the highest within the window wins', records: [{ time: NOW - 4 * MIN, replicas: 12 }, { time: NOW - 2 * MIN, replicas: 15 }, { time: NOW - MIN, replicas: 11 }], want: 15, limited: true },
    { case: 'a recommendation 5m old has expired', records: [{ time: NOW - 5 * MIN, replicas: 18 }], want: 10, limited: false },
    { case: 'never above the current count', records: [{ time: NOW - MIN, replicas: 35 }], want: 20, limited: true },
  ])('stabilization, $case', ({ records, want, limited }) => {
    const d = decide(stabilize(records));
    expect(d.recommendation).toBe(10);
    expect(d.desiredReplicas).toBe(want);
    expect(d.limitedBy).toEqual(limited ? ['stabilization'] : []);
    if (limited) expect(d.message).toContain(`limited by stabilization to ${want} (highest recommendation within 5m)`);
  });

  it('stabilization window 0s applies the recommendation at once', () => {
    const config = unlimited({ scaling: { scaleDown: { stabilizationWindow: '0s', maxPercentPerMinute: 100 } } });
    const d = decide(input(config, 20, [rps(400)], { recommendations: [{ time: NOW - 1, replicas: 20 }] }));
    expect(d.desiredReplicas).toBe(10);
  });

  const shrink = (current: number, pct: number, events: ScaleEventRecord[] = []) =>
    input(unlimited({ scaling: { scaleDown: { stabilizationWindow: '0s', maxPercentPerMinute: pct } } }), current, [rps(40)], { scaleEvents: events });

  it.each([
    { case: '10% of 50', current: 50, pct: 10, events: [], want: 45 },
    { case: '10% of 5 still removes one replica', current: 5, pct: 10, events: [], want: 4 },
    { case: 'one already removed from 6: 10% allows no more', current: 5, pct: 10, events: [{ time: NOW - 30 * SEC, from: 6, to: 5 }], want: 5 },
    { case: 'percent of the replicas at the start of the minute', current: 100, pct: 10, events: [{ time: NOW - 30 * SEC, from: 105, to: 100 }], want: 95 },
    { case: 'removals older than a minute do not count', current: 100, pct: 10, events: [{ time: NOW - 61 * SEC, from: 200, to: 100 }], want: 90 },
    { case: '50% of 7 rounds the floor up', current: 7, pct: 50, events: [], want: 4 },
    { case: '0% disables scale-down', current: 5, pct: 0, events: [], want: 5 },
    { case: '100% goes straight down', current: 50, pct: 100, events: [], want: 1 },
  ])('scale-down rate limit, $case', ({ current, pct, events, want }) => {
    const d = decide(shrink(current, pct, events));
    expect(d.desiredReplicas).toBe(want);
    expect(d.recommendation).toBe(1);
    expect(d.limitedBy).toEqual(want > 1 ? ['scaleDownRate'] : []);
    if (want > 1) expect(d.message).toContain(`limited by scaleDown to ${want}`);
  });

  it('stabilization first, then the scale-down rate limit', () => {
    const config = scalerConfig(); // defaults: 5m window, 10% per minute
    const d = decide(input(config, 50, [rps(40)], { recommendations: [{ time: NOW - 3 * MIN, replicas: 30 }] }));
    expect(d.steps.map((s) => [s.rule, s.from, s.to])).toEqual([
      ['reactive', 50, 1],
      ['stabilization', 1, 30],
      ['scaleDownRate', 30, 45],
    ]);
    expect(d).toMatchObject({ desiredReplicas: 45, reason: 'ScaleDown', limitedBy: ['stabilization', 'scaleDownRate'] });
  });
});

describe('decide: explanation', () => {
  it('reads like the SPEC example and names the limiting rule', () => {
    const now = Date.parse('2026-03-02T14:02:50Z');
    const fc: Forecast = {
      model: 'Ensemble',
      start: Date.parse('2026-03-02T14:03:00Z'),
      stepMs: MIN,
      mean: [300, 380, 460, 500],
      quantiles: [{ q: 0.9, values: [330, 420, 512, 540] }],
    };
    const config = scalerConfig({ scaling: { scaleUp: { maxReplicasPerMinute: 4 } } });
    const d = decide({ ...input(config, 10, [rps(340, fc)]), now, leadTimeMs: 2 * MIN + 10 * SEC });
    expect(d.message).toMatch(
      /^rps forecast p90 peak 512 at 14:05 \(within lead time 2m10s\) \/ 40 per replica \+10% => 15; reactive 9; limited by scaleUp to 14 /,
    );
    expect(d.steps).toEqual([
      { rule: 'predictive', from: 10, to: 15, detail: expect.stringContaining('peak 512') },
      { rule: 'scaleUpRate', from: 15, to: 14, detail: 'at most 4 per minute, 0 added in the last minute' },
    ]);
    expect(d).toMatchObject({ desiredReplicas: 14, recommendation: 15, reason: 'ScaleUp', limitedBy: ['scaleUpRate'] });
    expect(d.metrics).toEqual([
      expect.objectContaining({ name: 'rps', observed: 340, predictive: 15, reactive: 9, forecastPeak: 512, forecastPeakAt: Date.parse('2026-03-02T14:05:00Z') }),
    ]);
  });

  it.each([
    { case: 'no forecast', fc: undefined, floor: true, text: 'rps no forecast; reactive 300 / 40 per replica => 8' },
    { case: 'reactive floor applied', fc: flatForecast(100), floor: true, text: 'reactive 8 (floor applied)' },
    { case: 'reactive floor off', fc: flatForecast(100), floor: false, text: 'reactive 8 (floor off)' },
  ])('explains the reactive part: $case', ({ fc, floor, text }) => {
    const d = decide(input(unlimited({ scaling: { reactiveFloor: floor } }), 5, [rps(300, fc)]));
    expect(d.message).toContain(text);
  });

  it('says when usage is within the tolerance band', () => {
    const d = decide(input(unlimited(), 10, [rps(420)]));
    expect(d).toMatchObject({ desiredReplicas: 10, reason: 'NoChange', limitedBy: [] });
    expect(d.message).toContain('within 10% of 10 x 40');
  });
});

describe('decide: invariants', () => {
  it('stays within [minReplicas, maxReplicas], is deterministic and leaves its input alone', () => {
    const history = {
      recommendations: [{ time: NOW - 2 * MIN, replicas: 9 }],
      scaleEvents: [{ time: NOW - 20 * SEC, from: 3, to: 9 }],
    };
    for (const current of [0, 1, 3, 9, 12, 25, 60]) {
      for (const observed of [0, 35, 400, 2000]) {
        for (const p90 of [undefined, 0, 150, 5000]) {
          const config = scalerConfig({ minReplicas: 2, maxReplicas: 20, scaling: { scaleUp: { maxReplicasPerMinute: 5 } } });
          const decisionInput = input(config, current, [rps(observed, p90 === undefined ? undefined : flatForecast(p90))], history);
          const snapshot = structuredClone(decisionInput);
          const d = decide(decisionInput);
          expect(d.desiredReplicas).toBeGreaterThanOrEqual(2);
          expect(d.desiredReplicas).toBeLessThanOrEqual(20);
          expect(d.recommendation).toBeGreaterThanOrEqual(2);
          expect(d.recommendation).toBeLessThanOrEqual(20);
          expect(decisionInput).toEqual(snapshot);
          expect(decide(decisionInput)).toEqual(d);
          for (let i = 1; i < d.steps.length; i++) expect(d.steps[i]!.from).toBe(d.steps[i - 1]!.to);
          expect(d.steps.at(-1)!.to).toBe(d.desiredReplicas);
        }
      }
    }
  });
});
