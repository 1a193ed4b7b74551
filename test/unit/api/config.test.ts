// toScalerConfig is the operator's own check of a spec, for objects the CRD's admission rules never
// saw (stored before they existed): every cap of src/api/limits.ts holds at its boundary, and no
// value of any type escapes as anything but a SpecError naming the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_UNDER_PROVISIONED, DEFAULTS, SpecError, toScalerConfig } from '../../../src/api/config.js';
import {
  MAX_HEADROOM_PERCENT,
  MAX_HISTORY_POINTS,
  MAX_HORIZON_POINTS,
  MAX_INTERVAL_MS,
  MAX_LEAD_TIME_MS,
  MAX_METRICS,
  MAX_QUERY_LENGTH,
  MAX_REPLICAS,
  MAX_RETRAIN_EVERY_MS,
  MAX_SCHEDULE_MULTIPLIER,
  MAX_STABILIZATION_WINDOW_MS,
  MAX_TARGET_PER_REPLICA,
  MAX_TOLERANCE_PERCENT,
  MAX_UNDER_PROVISIONED_PERCENT,
  MIN_INTERVAL_MS,
  MIN_RETRAIN_EVERY_MS,
  MIN_STEP_MS,
} from '../../../src/api/limits.js';
import type { PredictiveScalerSpec } from '../../../src/api/types.js';
import { formatDuration } from '../../../src/api/units.js';

const BASE: PredictiveScalerSpec = {
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  maxReplicas: 10,
  metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' }],
};

function specWith(change: (spec: Record<string, any>) => void): PredictiveScalerSpec {
  const spec = structuredClone(BASE) as unknown as Record<string, any>;
  change(spec);
  return spec as unknown as PredictiveScalerSpec;
}

function specError(spec: unknown): SpecError | undefined {
  try {
    toScalerConfig(spec as PredictiveScalerSpec);
    return undefined;
  } catch (err) {
    if (!(err instanceof SpecError)) throw new Error(`not a SpecError: ${String(err)}`);
    return err;
  }
}

const seconds = (ms: number) => `${ms / 1000}s`;

describe('toScalerConfig caps', () => {
  // [what, spec at the cap (served), spec just past it (refused), field named]
  const boundaries: Array<[string, PredictiveScalerSpec, PredictiveScalerSpec, string]> = [
    [
      'history points',
      specWith((s) => (s.forecast = { history: `${MAX_HISTORY_POINTS}m`, step: '1m' })),
      specWith((s) => (s.forecast = { history: `${MAX_HISTORY_POINTS + 1}m`, step: '1m' })),
      'forecast.history',
    ],
    [
      'horizon points',
      specWith((s) => (s.forecast = { horizon: `${MAX_HORIZON_POINTS}s`, step: '1s', history: '1d' })),
      specWith((s) => (s.forecast = { horizon: `${MAX_HORIZON_POINTS + 1}s`, step: '1s', history: '1d' })),
      'forecast.horizon',
    ],
    ['horizon within history', specWith((s) => (s.forecast = { horizon: '1h', history: '1h' })), specWith((s) => (s.forecast = { horizon: '61m', history: '1h' })), 'forecast.horizon'],
    ['smallest step', specWith((s) => (s.forecast = { step: seconds(MIN_STEP_MS), horizon: '30m', history: '1d' })), specWith((s) => (s.forecast = { step: '999ms', horizon: '30m', history: '1d' })), 'forecast.step'],
    ['longest interval', specWith((s) => (s.interval = seconds(MAX_INTERVAL_MS))), specWith((s) => (s.interval = seconds(MAX_INTERVAL_MS + 1000))), 'interval'],
    ['shortest interval', specWith((s) => (s.interval = seconds(MIN_INTERVAL_MS))), specWith((s) => (s.interval = seconds(MIN_INTERVAL_MS - 1000))), 'interval'],
    ['longest retrainEvery', specWith((s) => (s.forecast = { retrainEvery: seconds(MAX_RETRAIN_EVERY_MS) })), specWith((s) => (s.forecast = { retrainEvery: seconds(MAX_RETRAIN_EVERY_MS + 1000) })), 'forecast.retrainEvery'],
    ['shortest retrainEvery', specWith((s) => (s.forecast = { retrainEvery: seconds(MIN_RETRAIN_EVERY_MS) })), specWith((s) => (s.forecast = { retrainEvery: seconds(MIN_RETRAIN_EVERY_MS - 1000) })), 'forecast.retrainEvery'],
    ['longest leadTime', specWith((s) => (s.scaling = { leadTime: seconds(MAX_LEAD_TIME_MS) })), specWith((s) => (s.scaling = { leadTime: seconds(MAX_LEAD_TIME_MS + 1000) })), 'scaling.leadTime'],
    [
      'longest stabilization window',
      specWith((s) => (s.scaling = { scaleDown: { stabilizationWindow: seconds(MAX_STABILIZATION_WINDOW_MS) } })),
      specWith((s) => (s.scaling = { scaleDown: { stabilizationWindow: seconds(MAX_STABILIZATION_WINDOW_MS + 1000) } })),
      'scaling.scaleDown.stabilizationWindow',
    ],
    ['largest targetPerReplica', specWith((s) => (s.metrics[0].targetPerReplica = String(MAX_TARGET_PER_REPLICA))), specWith((s) => (s.metrics[0].targetPerReplica = '1.1e15')), 'metrics[0].targetPerReplica'],
    ['smallest targetPerReplica', specWith((s) => (s.metrics[0].targetPerReplica = '1m')), specWith((s) => (s.metrics[0].targetPerReplica = '0.0009')), 'metrics[0].targetPerReplica'],
    [
      'largest objective',
      specWith((s) => (s.scaling = { objective: { maxUnderProvisioned: `${MAX_UNDER_PROVISIONED_PERCENT}%` } })),
      specWith((s) => (s.scaling = { objective: { maxUnderProvisioned: `${MAX_UNDER_PROVISIONED_PERCENT}.5%` } })),
      'scaling.objective.maxUnderProvisioned',
    ],
    ['largest tolerance', specWith((s) => (s.scaling = { tolerance: `${MAX_TOLERANCE_PERCENT}%` })), specWith((s) => (s.scaling = { tolerance: `${MAX_TOLERANCE_PERCENT}.5%` })), 'scaling.tolerance'],
    ['largest headroom', specWith((s) => (s.scaling = { headroom: `${MAX_HEADROOM_PERCENT}%` })), specWith((s) => (s.scaling = { headroom: `${MAX_HEADROOM_PERCENT + 1}%` })), 'scaling.headroom'],
    ['largest maxReplicas', specWith((s) => (s.maxReplicas = MAX_REPLICAS)), specWith((s) => (s.maxReplicas = MAX_REPLICAS + 1)), 'maxReplicas'],
    ['most metrics', specWith((s) => (s.metrics = metricsNamed(MAX_METRICS))), specWith((s) => (s.metrics = metricsNamed(MAX_METRICS + 1))), 'metrics'],
    ['longest query', specWith((s) => (s.metrics[0].query = 'x'.repeat(MAX_QUERY_LENGTH))), specWith((s) => (s.metrics[0].query = 'x'.repeat(MAX_QUERY_LENGTH + 1))), 'metrics[0].query'],
    [
      'largest schedule multiplier',
      specWith((s) => (s.schedule = [{ name: 'sale', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', multiplier: MAX_SCHEDULE_MULTIPLIER }])),
      specWith((s) => (s.schedule = [{ name: 'sale', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', multiplier: MAX_SCHEDULE_MULTIPLIER + 1 }])),
      'schedule[0].multiplier',
    ],
  ];

  it.each(boundaries)('serves the %s cap and refuses one past it, naming the field', (_what, atCap, pastCap, fieldName) => {
    expect(specError(atCap)).toBeUndefined();
    const err = specError(pastCap);
    expect(err?.field).toBe(fieldName);
    expect(err?.message).toMatch(new RegExp(`^spec\\.${fieldName.replace(/[[\]().]/g, '\\$&')}: `));
  });

  it('says how many points a history is and what to change', () => {
    const err = specError(specWith((s) => (s.forecast = { history: '70d', step: '1m' })));
    expect(err?.message).toBe(
      'spec.forecast.history: "70d" at a step of 1m is 100800 points; at most 100000 are served: shorten the history or raise spec.forecast.step',
    );
  });
});

describe('toScalerConfig on the specs of issue 11', () => {
  it.each([
    ['history 100000000w', specWith((s) => (s.forecast = { history: '100000000w' })), 'forecast.history', /at most|too long/],
    ['interval 25d', specWith((s) => (s.interval = '25d')), 'interval', /must be at most 1h, got "25d"/],
    ['targetPerReplica 1e400', specWith((s) => (s.metrics[0].targetPerReplica = '1e400')), 'metrics[0].targetPerReplica', /too large/],
    ['prometheus.url "http://"', specWith((s) => (s.prometheus = { url: 'http://' })), 'prometheus.url', /well-formed http\(s\) URL with a host/],
    ['stabilization window 2h', specWith((s) => (s.scaling = { scaleDown: { stabilizationWindow: '2h' } })), 'scaling.scaleDown.stabilizationWindow', /at most 1h/],
    ['user info in the URL', specWith((s) => (s.prometheus = { url: 'http://user:pass@prometheus:9090' })), 'prometheus.url', /user info .*Secret/],
    ['a query string in the URL', specWith((s) => (s.prometheus = { url: 'http://prometheus:9090/?x=1' })), 'prometheus.url', /query/],
    ['a fragment in the URL', specWith((s) => (s.prometheus = { url: 'http://prometheus:9090/#x' })), 'prometheus.url', /fragment/],
    ['a newline in the URL', specWith((s) => (s.prometheus = { url: 'http://prome\ntheus:9090' })), 'prometheus.url', /control characters/],
    ['a seasonal period longer than the history', specWith((s) => (s.forecast = { history: '3d', seasonality: ['1d', '7d'] })), 'forecast.seasonality[1]', /at most spec.forecast.history \(3d\)/],
    ['a path in the target name', specWith((s) => (s.scaleTargetRef.name = '../secrets/x')), 'scaleTargetRef.name', /object name/],
    ['a control character in a query', specWith((s) => (s.metrics[0].query = 'sum(up)\u0000')), 'metrics[0].query', /control characters/],
    ['a schedule ending before it starts', specWith((s) => (s.schedule = [{ name: 'x', start: '2026-01-02T00:00:00Z', end: '2026-01-01T00:00:00Z', minReplicas: 2 }])), 'schedule[0].end', /after/],
    ['an unknown model', specWith((s) => (s.forecast = { model: 'Prophet' })), 'forecast.model', /one of Ensemble, LSTM/],
    ['an unknown coldStart', specWith((s) => (s.forecast = { coldStart: 'Later' as never })), 'forecast.coldStart', /one of Pretrained, None, got "Later"/],
    ['duplicate metric names', specWith((s) => (s.metrics = [...metricsNamed(1), ...metricsNamed(1)])), 'metrics[1].name', /unique/],
  ])('refuses %s', (_what, spec, fieldName, words) => {
    const err = specError(spec);
    expect(err?.field).toBe(fieldName);
    expect(err?.message).toMatch(words);
  });

  it('quotes a hostile value short, so status and logs stay small', () => {
    const err = specError(specWith((s) => (s.scaling = { leadTime: `${'9'.repeat(30)}w` })));
    expect(err?.message.length).toBeLessThan(200);
    const long = specError(specWith((s) => (s.interval = '1'.repeat(65_536))));
    expect(long?.message).toBe('spec.interval: must be at most 32 characters, got 65536');
  });
});

describe('toScalerConfig on the planner fields (issue 13)', () => {
  const objective = (maxUnderProvisioned: unknown) => ({ maxUnderProvisioned });

  it('reads an objective as a fraction, and makes the omitted quantile and headroom Auto', () => {
    const cfg = toScalerConfig(specWith((s) => (s.scaling = { objective: objective('0.5%') })));
    expect(cfg.planner?.maxUnderProvisioned).toBeCloseTo(0.005, 12);
    expect(cfg.planner).toMatchObject({ autoQuantile: true, autoHeadroom: true });
    // What is acted on until a plan exists.
    expect(cfg.forecast.quantile).toBe(DEFAULTS.quantile);
    expect(cfg.scaling.headroom).toBeCloseTo(0.1, 12);
  });

  it('keeps explicit values under an objective: they are not the planner to choose', () => {
    const cfg = toScalerConfig(specWith((s) => ((s.forecast = { quantile: 0.95 }), (s.scaling = { objective: objective('1%'), headroom: '20%' }))));
    expect(cfg.planner).toEqual({ maxUnderProvisioned: 0.01, autoQuantile: false, autoHeadroom: false });
    expect(cfg.forecast.quantile).toBe(0.95);
    expect(cfg.scaling.headroom).toBeCloseTo(0.2, 12);
  });

  it('plans only the omitted field when the other is explicit', () => {
    expect(toScalerConfig(specWith((s) => ((s.forecast = { quantile: 0.8 }), (s.scaling = { objective: objective('1%') })))).planner).toMatchObject({ autoQuantile: false, autoHeadroom: true });
    expect(toScalerConfig(specWith((s) => (s.scaling = { objective: objective('1%'), headroom: '0%' }))).planner).toMatchObject({ autoQuantile: true, autoHeadroom: false });
  });

  it('plans Auto without an objective to the default objective of 0.5%', () => {
    expect(DEFAULT_MAX_UNDER_PROVISIONED).toBe(0.005);
    const quantileAuto = toScalerConfig(specWith((s) => (s.forecast = { quantile: 'Auto' })));
    expect(quantileAuto.planner).toEqual({ maxUnderProvisioned: 0.005, autoQuantile: true, autoHeadroom: false });
    expect(quantileAuto.forecast.quantile).toBe(DEFAULTS.quantile);
    const headroomAuto = toScalerConfig(specWith((s) => (s.scaling = { headroom: 'Auto' })));
    expect(headroomAuto.planner).toEqual({ maxUnderProvisioned: 0.005, autoQuantile: false, autoHeadroom: true });
    expect(headroomAuto.scaling.headroom).toBeCloseTo(0.1, 12);
    expect(toScalerConfig(specWith((s) => ((s.forecast = { quantile: 'Auto' }), (s.scaling = { headroom: 'Auto' })))).planner).toMatchObject({ autoQuantile: true, autoHeadroom: true });
  });

  it('has no planner without an objective or an Auto field, as before', () => {
    const cfg = toScalerConfig(BASE);
    expect(cfg.planner).toBeUndefined();
    expect(cfg.forecast.quantile).toBe(0.9);
    expect(cfg.scaling.headroom).toBeCloseTo(0.1, 12);
    expect(toScalerConfig(specWith((s) => ((s.forecast = { quantile: 0.7 }), (s.scaling = { headroom: '5%' })))).planner).toBeUndefined();
  });

  it('serves the objectives from 0% to 50%', () => {
    expect(toScalerConfig(specWith((s) => (s.scaling = { objective: objective('0%') }))).planner?.maxUnderProvisioned).toBe(0);
    expect(toScalerConfig(specWith((s) => (s.scaling = { objective: objective('50%') }))).planner?.maxUnderProvisioned).toBe(0.5);
  });

  it.each([
    ['an objective without maxUnderProvisioned', { objective: {} }, 'scaling.objective.maxUnderProvisioned', /is required in an objective/],
    ['an objective of 60%', { objective: objective('60%') }, 'scaling.objective.maxUnderProvisioned', /must be at most 50%, got "60%"/],
    ['an objective of "abc"', { objective: objective('abc') }, 'scaling.objective.maxUnderProvisioned', /"abc" is not a percentage/],
    ['an objective of "Auto"', { objective: objective('Auto') }, 'scaling.objective.maxUnderProvisioned', /not a percentage/],
    ['an objective of "-1%"', { objective: objective('-1%') }, 'scaling.objective.maxUnderProvisioned', /not a percentage/],
    ['an objective maxUnderProvisioned of 0.5 (a number)', { objective: objective(0.5) }, 'scaling.objective.maxUnderProvisioned', /must be a percentage such as "0.5%", got number/],
    ['an objective maxUnderProvisioned that is an object', { objective: objective({ percent: 1 }) }, 'scaling.objective.maxUnderProvisioned', /got object/],
    ['an objective that is a number', { objective: 0.5 }, 'scaling.objective', /must be an object/],
    ['an objective that is a text', { objective: '0.5%' }, 'scaling.objective', /must be an object/],
    ['an objective that is a list', { objective: [objective('1%')] }, 'scaling.objective', /must be an object/],
    ['an objective that is null', { objective: null }, 'scaling.objective', /must be an object/],
    ['a headroom of "Auto%"', { headroom: 'Auto%' }, 'scaling.headroom', /not a percentage/],
    ['a headroom of "auto"', { headroom: 'auto' }, 'scaling.headroom', /not a percentage/],
    ['a tolerance of 70%', { tolerance: '70%' }, 'scaling.tolerance', /must be at most 50%, got "70%"/],
    ['a tolerance of "ten percent"', { tolerance: 'ten percent' }, 'scaling.tolerance', /not a percentage/],
    ['a tolerance of "-5%"', { tolerance: '-5%' }, 'scaling.tolerance', /not a percentage/],
    ['a tolerance of 0.1 (a number)', { tolerance: 0.1 }, 'scaling.tolerance', /got number/],
    ['a tolerance of "Auto"', { tolerance: 'Auto' }, 'scaling.tolerance', /not a percentage/],
  ])('refuses %s, naming the field', (_what, scaling, fieldName, words) => {
    const err = specError(specWith((s) => (s.scaling = scaling)));
    expect(err?.field).toBe(fieldName);
    expect(err?.message).toMatch(words);
  });

  it.each([
    ['"Sometimes"', 'Sometimes'],
    ['"auto"', 'auto'],
    ['1.5', 1.5],
    ['0', 0],
    ['1', 1],
    ['true', true],
    ['an object', { value: 0.5 }],
  ])('refuses a quantile of %s, with or without an objective, naming the field', (_what, quantile) => {
    for (const scaling of [{}, { objective: objective('1%') }]) {
      const err = specError(specWith((s) => ((s.forecast = { quantile }), (s.scaling = scaling))));
      expect(err?.field).toBe('forecast.quantile');
      expect(err?.message).toMatch(/^spec\.forecast\.quantile: must be Auto or a number in \(0, 1\), got /);
    }
  });

  it('reports a bad objective before anything the planner would plan', () => {
    expect(specError(specWith((s) => ((s.forecast = { quantile: 'Auto' }), (s.scaling = { objective: objective('60%') }))))?.field).toBe('scaling.objective.maxUnderProvisioned');
  });

  it('forecasts cold starts with the pretrained model unless coldStart is None', () => {
    expect(toScalerConfig(BASE).forecast.coldStart).toBe('Pretrained');
    expect(toScalerConfig(specWith((s) => (s.forecast = { coldStart: 'None' }))).forecast.coldStart).toBe('None');
    expect(toScalerConfig(specWith((s) => (s.forecast = { model: 'Pretrained' }))).forecast.model).toBe('Pretrained');
  });

  it('defaults the tolerance to the HPA\'s 10% and reads it as a fraction', () => {
    expect(DEFAULTS.tolerance).toBe('10%');
    expect(toScalerConfig(BASE).scaling.tolerance).toBeCloseTo(0.1, 12);
    expect(toScalerConfig(specWith((s) => (s.scaling = { tolerance: '0%' }))).scaling.tolerance).toBe(0);
    expect(toScalerConfig(specWith((s) => (s.scaling = { tolerance: '2.5%' }))).scaling.tolerance).toBeCloseTo(0.025, 12);
    expect(toScalerConfig(specWith((s) => (s.scaling = { tolerance: '50%' }))).scaling.tolerance).toBe(0.5);
  });
});

describe('toScalerConfig on values of any type', () => {
  const paths = [
    [],
    ['scaleTargetRef'],
    ['scaleTargetRef', 'name'],
    ['minReplicas'],
    ['maxReplicas'],
    ['mode'],
    ['interval'],
    ['metrics'],
    ['metrics', 0],
    ['metrics', 0, 'name'],
    ['metrics', 0, 'query'],
    ['metrics', 0, 'targetPerReplica'],
    ['forecast'],
    ['forecast', 'history'],
    ['forecast', 'step'],
    ['forecast', 'horizon'],
    ['forecast', 'seasonality'],
    ['forecast', 'quantile'],
    ['forecast', 'model'],
    ['forecast', 'coldStart'],
    ['scaling'],
    ['scaling', 'leadTime'],
    ['scaling', 'headroom'],
    ['scaling', 'objective'],
    ['scaling', 'objective', 'maxUnderProvisioned'],
    ['scaling', 'tolerance'],
    ['scaling', 'reactiveFloor'],
    ['scaling', 'scaleUp'],
    ['scaling', 'scaleDown', 'stabilizationWindow'],
    ['schedule'],
    ['prometheus'],
    ['prometheus', 'url'],
    ['prometheus', 'authSecretRef'],
  ] as const;

  it('either serves a spec or throws a SpecError, whatever JSON value stands anywhere in it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (path, value) => {
        const spec = structuredClone({
          ...BASE,
          forecast: { history: '1d' },
          scaling: { scaleDown: {}, objective: { maxUnderProvisioned: '1%' } },
          prometheus: { url: 'http://prometheus:9090' },
        }) as unknown as Record<string | number, any>;
        let target: any = spec;
        for (const key of path.slice(0, -1)) target = target[key];
        if (path.length === 0) {
          specError(value);
          return;
        }
        target[path[path.length - 1]!] = value;
        const err = specError(spec);
        if (err) expect(err.message).toMatch(/^spec(\.|:)/);
      }),
      { seed: 20_260_302, numRuns: 2000 },
    );
  });

  it('keeps every duration it serves a whole, bounded number of milliseconds', () => {
    const cfg = toScalerConfig(specWith((s) => (s.forecast = { history: '1.5d', step: '0.5m', horizon: '1h30m' })));
    expect([cfg.forecast.historyMs, cfg.forecast.stepMs, cfg.forecast.horizonMs].map(formatDuration)).toEqual(['1d12h', '30s', '1h30m']);
  });
});

function metricsNamed(count: number): PredictiveScalerSpec['metrics'] {
  return Array.from({ length: count }, (_, i) => ({ name: `m${i}`, query: `sum(rate(requests_${i}[1m]))`, targetPerReplica: '10' }));
}
