// toScalerConfig is the operator's own check of a spec, for objects the CRD's admission rules never
// saw (stored before they existed): every cap of src/api/limits.ts holds at its boundary, and no
// value of any type escapes as anything but a SpecError naming the field.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SpecError, toScalerConfig } from '../../../src/api/config.js';
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
    ['scaling'],
    ['scaling', 'leadTime'],
    ['scaling', 'headroom'],
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
          scaling: { scaleDown: {} },
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
