// The PredictiveScaler CRD against a real kube-apiserver: it installs, accepts every example and the
// SPEC's full example, rejects bad input with a message naming the field, applies defaults, and
// prints the columns `kubectl get pscaler` shows.
import { readdirSync, statSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type V1JSONSchemaProps } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, SpecError, toScalerConfig } from '../../src/api/config.js';
import {
  MAX_HEADROOM_PERCENT,
  MAX_HISTORY_MS,
  MAX_HISTORY_POINTS,
  MAX_HORIZON_POINTS,
  MAX_INTERVAL_MS,
  MAX_LEAD_TIME_MS,
  MAX_QUERY_LENGTH,
  MAX_REPLICAS,
  MAX_RETRAIN_EVERY_MS,
  MAX_SCHEDULE_MULTIPLIER,
  MAX_STABILIZATION_WINDOW_MS,
  MAX_TARGET_PER_REPLICA,
  MAX_TOLERANCE_PERCENT,
  MAX_UNDER_PROVISIONED_PERCENT,
  MAX_URL_LENGTH,
  MIN_INTERVAL_MS,
  MIN_RETRAIN_EVERY_MS,
  MIN_STEP_MS,
  MIN_TARGET_PER_REPLICA,
} from '../../src/api/limits.js';
import { API_VERSION_PATTERN, CONTROL_CHARACTER_CLASS, ENTRY_NAME_PATTERN, KIND_PATTERN, OBJECT_NAME_PATTERN } from '../../src/api/names.js';
import { GROUP, PLURAL, VERSION, type PredictiveScaler, type PredictiveScalerSpec } from '../../src/api/types.js';
import { DURATION_PATTERN, PERCENT_PATTERN, QUANTITY_PATTERN, formatDuration } from '../../src/api/units.js';
import { startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyManifests, describeApiError, readManifests } from '../helpers/manifests.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CRD_PATH = join(ROOT, 'crds', 'predictivescalers.autoscaling.prescale.dev.yaml');
const CRD_NAME = `${PLURAL}.${GROUP}`;
const NAMESPACE = 'default';

/** The spec of the example in SPEC section 2, verbatim. */
const SPEC_EXAMPLE: PredictiveScalerSpec = {
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
  minReplicas: 2,
  maxReplicas: 60,
  mode: 'Auto',
  interval: '30s',
  metrics: [
    {
      name: 'rps',
      query: 'sum(rate(http_requests_total{namespace="shop",service="checkout"}[1m]))',
      targetPerReplica: '40',
    },
  ],
  forecast: {
    model: 'Ensemble',
    history: '7d',
    step: '1m',
    horizon: '30m',
    seasonality: 'Auto',
    quantile: 0.9,
    retrainEvery: '6h',
  },
  scaling: {
    leadTime: 'Auto',
    headroom: '10%',
    reactiveFloor: true,
    scaleUp: { maxReplicasPerMinute: 50 },
    scaleDown: { stabilizationWindow: '5m', maxPercentPerMinute: 10 },
  },
  schedule: [{ name: 'black-friday', start: '2026-11-27T06:00:00Z', end: '2026-11-28T06:00:00Z', minReplicas: 30 }],
  prometheus: { url: 'http://prometheus.monitoring:9090', authSecretRef: { name: 'prom-auth' } },
};

const MINIMAL_SPEC: PredictiveScalerSpec = {
  scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
  maxReplicas: 10,
  metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '40' }],
};

function scaler(name: string, spec: unknown): PredictiveScaler {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NAMESPACE },
    spec: spec as PredictiveScalerSpec,
  };
}

/** A deep copy of the SPEC example with `change` applied to it. */
function specWith(change: (spec: Record<string, any>) => void): unknown {
  const spec = structuredClone(SPEC_EXAMPLE) as unknown as Record<string, any>;
  change(spec);
  return spec;
}

let cp: ControlPlane;
let customObjects: CustomObjectsApi;

beforeAll(async () => {
  cp = await startControlPlane();
  await applyManifests(cp.kubeConfig, CRD_PATH);
  customObjects = cp.kubeConfig.makeApiClient(CustomObjectsApi);
});

afterAll(async () => {
  await cp?.close();
});

/** Server-side dry-run create: full validation (schema, CEL), nothing stored. */
async function dryRunCreate(obj: PredictiveScaler): Promise<{ ok: true } | { ok: false; code?: number; message: string }> {
  try {
    await customObjects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      body: obj,
      dryRun: 'All',
    });
    return { ok: true };
  } catch (err) {
    return { ok: false, code: (err as { code?: number }).code, message: describeApiError(err) };
  }
}

describe('PredictiveScaler CRD on a real API server', () => {
  it('installs and becomes Established with the SPEC names', async () => {
    const crd = await cp.kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: CRD_NAME });
    expect(crd.status?.conditions?.find((c) => c.type === 'Established')?.status).toBe('True');
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names).toMatchObject({ kind: 'PredictiveScaler', plural: PLURAL, shortNames: ['pscaler'] });
    const version = crd.spec.versions.find((v) => v.name === VERSION)!;
    expect(version).toMatchObject({ served: true, storage: true });
    expect(version.subresources?.status).toEqual({});
  });

  it('declares the printer columns of SPEC section 2', async () => {
    const crd = await cp.kubeConfig.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: CRD_NAME });
    const columns = crd.spec.versions[0]!.additionalPrinterColumns!.map((c) => [c.name.toUpperCase(), c.jsonPath]);
    expect(columns).toEqual([
      ['TARGET', '.spec.scaleTargetRef.name'],
      ['MIN', '.spec.minReplicas'],
      ['MAX', '.spec.maxReplicas'],
      ['CURRENT', '.status.currentReplicas'],
      ['DESIRED', '.status.desiredReplicas'],
      ['PEAK', '.status.forecast.peak'],
      ['MODEL', '.status.forecast.model'],
      ['MODE', '.spec.mode'],
      ['AGE', '.metadata.creationTimestamp'],
    ]);
  });

  it('accepts the full example of SPEC section 2', async () => {
    expect(await dryRunCreate(scaler('checkout', SPEC_EXAMPLE))).toEqual({ ok: true });
  });

  it('accepts every workload manifest in examples/', async () => {
    // examples/gitops holds Argo CD and Flux objects (their CRDs are not installed here);
    // deploy-render.test.ts checks them.
    const dirs = readdirSync(join(ROOT, 'examples'))
      .filter((d) => d !== 'gitops')
      .map((d) => join(ROOT, 'examples', d))
      .filter((d) => statSync(d).isDirectory());
    expect(dirs.length).toBeGreaterThanOrEqual(4);
    // KEDA's ScaledObjects need KEDA's CRDs: the KEDA end-to-end test applies those. Namespaces come
    // first, from whichever example declares them.
    const objects = dirs.flatMap((dir) => readManifests(dir).map((o) => ({ dir, o })));
    const applied = await applyManifests(cp.kubeConfig, objects.map(({ o }) => o).filter((o) => !o.apiVersion?.startsWith('keda.sh/')));
    expect(applied.length).toBe(objects.filter(({ o }) => !o.apiVersion?.startsWith('keda.sh/')).length);
    for (const dir of dirs) {
      expect(objects.filter(({ dir: d, o }) => d === dir && o.kind === 'PredictiveScaler').length, dir).toBeGreaterThanOrEqual(1);
    }
  });

  it.each([
    ['seasonality None', specWith((s) => (s.forecast.seasonality = 'None'))],
    ['seasonality as a list of periods', specWith((s) => (s.forecast.seasonality = ['1d', '7d']))],
    ['targetPerReplica as an integer', specWith((s) => (s.metrics[0].targetPerReplica = 40))],
    ['targetPerReplica with a suffix', specWith((s) => (s.metrics[0].targetPerReplica = '1.5k'))],
    ['targetPerReplica below one', specWith((s) => (s.metrics[0].targetPerReplica = '500m'))],
    ['a fixed lead time within the horizon', specWith((s) => (s.scaling.leadTime = '29m'))],
    ['a schedule multiplier', specWith((s) => (s.schedule = [{ name: 'launch', start: '2026-01-01T00:00:00Z', end: '2026-01-01T01:00:00Z', multiplier: 1.5 }]))],
    ['minReplicas 0', specWith((s) => (s.minReplicas = 0))],
    ['ten metrics', specWith((s) => (s.metrics = metricsNamed(10)))],
  ])('accepts %s', async (_label, spec) => {
    expect(await dryRunCreate(scaler('valid', spec))).toEqual({ ok: true });
  });

  // [case, spec, field the message must name, words the message must contain]
  const invalid: Array<[string, unknown, string, string]> = [
    ['minReplicas above maxReplicas', specWith((s) => ((s.minReplicas = 10), (s.maxReplicas = 5))), 'spec.minReplicas', 'must be <= spec.maxReplicas'],
    ['negative minReplicas', specWith((s) => (s.minReplicas = -1)), 'spec.minReplicas', 'greater than or equal to 0'],
    ['maxReplicas 0', specWith((s) => (s.maxReplicas = 0)), 'spec.maxReplicas', 'greater than or equal to 1'],
    ['missing maxReplicas', specWith((s) => delete s.maxReplicas), 'spec.maxReplicas', 'Required'],
    ['interval "30 seconds"', specWith((s) => (s.interval = '30 seconds')), 'spec.interval', 'should match'],
    ['interval below 5s', specWith((s) => (s.interval = '2s')), 'spec.interval', 'between 5s and 1h'],
    ['history "a week"', specWith((s) => (s.forecast.history = 'a week')), 'spec.forecast.history', 'should match'],
    ['history shorter than step', specWith((s) => ((s.forecast.history = '30s'), (s.forecast.step = '1m'))), 'spec.forecast.history', '>= spec.forecast.step'],
    ['step longer than horizon', specWith((s) => ((s.forecast.step = '1h'), (s.forecast.horizon = '30m'))), 'spec.forecast.step', '<= spec.forecast.horizon'],
    ['horizon not covering leadTime + interval', specWith((s) => (s.scaling.leadTime = '30m')), 'spec.forecast.horizon', 'spec.scaling.leadTime'],
    ['leadTime "soon"', specWith((s) => (s.scaling.leadTime = 'soon')), 'spec.scaling.leadTime', 'should match'],
    ['quantile 0', specWith((s) => (s.forecast.quantile = 0)), 'spec.forecast.quantile', 'should be greater than 0'],
    ['quantile 1', specWith((s) => (s.forecast.quantile = 1)), 'spec.forecast.quantile', 'should be less than 1'],
    ['quantile as text', specWith((s) => (s.forecast.quantile = 'high')), 'spec.forecast.quantile', "should match '^Auto$'"],
    // The operator reads these two as 0.9 and 0.5 (Number()); admission is stricter.
    ['quantile as a number in text', specWith((s) => (s.forecast.quantile = '0.9')), 'spec.forecast.quantile', "should match '^Auto$'"],
    ['quantile as a list', specWith((s) => (s.forecast.quantile = [0.5])), 'spec.forecast.quantile', 'must have at most 0 items'],
    ['quantile as an object', specWith((s) => (s.forecast.quantile = { value: 0.5 })), 'spec.forecast.quantile', 'at most 0'],
    ['empty metrics', specWith((s) => (s.metrics = [])), 'spec.metrics', 'at least 1 items'],
    ['duplicate metric names', specWith((s) => (s.metrics = [...metricsNamed(1), ...metricsNamed(1)])), 'spec.metrics', 'names must be unique'],
    ['11 metrics', specWith((s) => (s.metrics = metricsNamed(11))), 'spec.metrics', 'must have at most 10 items'],
    ['targetPerReplica "forty"', specWith((s) => (s.metrics[0].targetPerReplica = 'forty')), 'spec.metrics[0].targetPerReplica', 'should match'],
    ['targetPerReplica 0', specWith((s) => (s.metrics[0].targetPerReplica = '0')), 'spec.metrics[0].targetPerReplica', 'greater than zero'],
    ['metric without a query', specWith((s) => delete s.metrics[0].query), 'spec.metrics[0].query', 'Required'],
    ['schedule ending before it starts', specWith((s) => (s.schedule[0].end = '2026-11-26T06:00:00Z')), 'spec.schedule[0].end', 'must be after'],
    ['schedule entry with neither floor nor multiplier', specWith((s) => delete s.schedule[0].minReplicas), 'spec.schedule[0]', 'minReplicas or multiplier'],
    ['schedule start that is not a time', specWith((s) => (s.schedule[0].start = 'next friday')), 'spec.schedule[0].start', 'date-time'],
    ['unknown mode', specWith((s) => (s.mode = 'Sometimes')), 'spec.mode', 'Unsupported value'],
    ['unknown model', specWith((s) => (s.forecast.model = 'Prophet')), 'spec.forecast.model', 'Unsupported value'],
    ['unknown coldStart', specWith((s) => (s.forecast.coldStart = 'Wait')), 'spec.forecast.coldStart', 'Unsupported value'],
    ['missing scaleTargetRef.name', specWith((s) => delete s.scaleTargetRef.name), 'spec.scaleTargetRef.name', 'Required'],
    ['headroom "ten percent"', specWith((s) => (s.scaling.headroom = 'ten percent')), 'spec.scaling.headroom', 'should match'],
    ['seasonality "Weekly"', specWith((s) => (s.forecast.seasonality = 'Weekly')), 'spec.forecast.seasonality', 'supported values: "Auto", "None"'],
    ['seasonality as a number', specWith((s) => (s.forecast.seasonality = 7)), 'spec.forecast.seasonality', 'must validate at least one schema'],
    ['seasonality as an empty list', specWith((s) => (s.forecast.seasonality = [])), 'spec.forecast.seasonality', 'must validate at least one schema'],
    ['seasonality with a bad period', specWith((s) => (s.forecast.seasonality = ['1d', 'daily'])), 'spec.forecast.seasonality[1]', 'should match'],
    ['seasonality with a zero period', specWith((s) => (s.forecast.seasonality = ['0d'])), 'spec.forecast.seasonality[0]', 'should match'],
    ['scaleUp of 0 replicas per minute', specWith((s) => (s.scaling.scaleUp.maxReplicasPerMinute = 0)), 'spec.scaling.scaleUp.maxReplicasPerMinute', 'greater than or equal to 1'],
    ['Prometheus URL without a scheme', specWith((s) => (s.prometheus.url = 'prometheus:9090')), 'spec.prometheus.url', 'should match'],
    // Issue 11: specs that cost without bound, or that every reconcile would trip over.
    ['history 100000000w', specWith((s) => (s.forecast.history = '100000000w')), 'spec.forecast.history', 'at most 100000 steps of spec.forecast.step'],
    ['history 70d at a step of 1m', specWith((s) => (s.forecast.history = '70d')), 'spec.forecast.history', 'shorten the history or raise the step'],
    ['interval 25d', specWith((s) => (s.interval = '25d')), 'spec.interval', 'between 5s and 1h'],
    ['targetPerReplica "1e400"', specWith((s) => (s.metrics[0].targetPerReplica = '1e400')), 'spec.metrics[0].targetPerReplica', 'at most 1e15'],
    ['targetPerReplica "1e-400"', specWith((s) => (s.metrics[0].targetPerReplica = '1e-400')), 'spec.metrics[0].targetPerReplica', 'at least 1m (0.001)'],
    ['targetPerReplica as a huge integer', specWith((s) => (s.metrics[0].targetPerReplica = 10 ** 18)), 'spec.metrics[0].targetPerReplica', 'at most 1e15'],
    ['Prometheus URL "http://"', specWith((s) => (s.prometheus.url = 'http://')), 'spec.prometheus.url', 'with a host'],
    ['Prometheus URL with user info', specWith((s) => (s.prometheus.url = 'http://user:pass@prometheus:9090')), 'spec.prometheus.url', 'must not contain user info'],
    ['Prometheus URL with a query', specWith((s) => (s.prometheus.url = 'http://prometheus:9090/?next=/api')), 'spec.prometheus.url', 'query (?) or a fragment (#)'],
    ['Prometheus URL with a fragment', specWith((s) => (s.prometheus.url = 'http://prometheus:9090/#x')), 'spec.prometheus.url', 'query (?) or a fragment (#)'],
    ['Prometheus URL with port 99999', specWith((s) => (s.prometheus.url = 'http://prometheus:99999')), 'spec.prometheus.url', 'port between 1 and 65535'],
    ['Prometheus URL with a space', specWith((s) => (s.prometheus.url = 'http://prometheus:9090/a b')), 'spec.prometheus.url', 'should match'],
    ['Prometheus URL too long', specWith((s) => (s.prometheus.url = `http://p/${'a'.repeat(MAX_URL_LENGTH)}`)), 'spec.prometheus.url', 'Too long'],
    ['stabilization window 2h', specWith((s) => (s.scaling.scaleDown.stabilizationWindow = '2h')), 'spec.scaling.scaleDown.stabilizationWindow', 'at most 1h'],
    ['leadTime 2h', specWith((s) => ((s.scaling.leadTime = '2h'), (s.forecast.horizon = '3h'))), 'spec.scaling.leadTime', 'Auto or at most 1h'],
    ['horizon beyond the history', specWith((s) => ((s.forecast.history = '1h'), (s.forecast.horizon = '2h'))), 'spec.forecast.horizon', '<= spec.forecast.history'],
    ['retrainEvery 1m', specWith((s) => (s.forecast.retrainEvery = '1m')), 'spec.forecast.retrainEvery', 'between 5m and 7d'],
    ['headroom 5000%', specWith((s) => (s.scaling.headroom = '5000%')), 'spec.scaling.headroom', 'at most 1000%'],
    ['maxReplicas beyond int32', specWith((s) => (s.maxReplicas = 2 ** 31)), 'spec.maxReplicas', 'less than or equal to 2147483647'],
    ['schedule multiplier 1e6', specWith((s) => (s.schedule = [{ name: 'x', start: '2026-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z', multiplier: 1e6 }])), 'spec.schedule[0].multiplier', 'at most 1000'],
    ['a path in the target name', specWith((s) => (s.scaleTargetRef.name = '../../secrets/x')), 'spec.scaleTargetRef.name', 'should match'],
    ['a control character in a query', specWith((s) => (s.metrics[0].query = 'sum(up)\u001b[2J')), 'spec.metrics[0].query', 'must not contain control characters'],
    ['a 64 KiB query', specWith((s) => (s.metrics[0].query = 'x'.repeat(65_536))), 'spec.metrics[0].query', 'Too long'],
    ['a Secret name with a slash', specWith((s) => (s.prometheus.authSecretRef.name = 'a/b')), 'spec.prometheus.authSecretRef.name', 'should match'],
  ];

  it('rejects quantile as a boolean, naming the field', async () => {
    // No bound applies to booleans alone: `not` refuses them, and its message quotes the field without a colon.
    const result = await dryRunCreate(scaler('invalid', specWith((s) => (s.forecast.quantile = true))));
    expect(result).toMatchObject({ ok: false, code: 422 });
    if (!result.ok) expect(result.message).toContain('"spec.forecast.quantile" must not validate the schema (not)');
  });

  it.each(invalid)('rejects %s, naming the field', async (_label, spec, field, words) => {
    const result = await dryRunCreate(scaler('invalid', spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(422);
    expect(result.message).toContain(`${field}:`);
    expect(result.message).toContain(words);
  });

  // Issue 13, the planner's fields. Each case goes through toScalerConfig too, which must agree: what
  // admission takes the operator serves, and what admission refuses the operator refuses, naming the
  // same field (for objects stored before these rules existed).
  const withObjective = (objective: unknown) => (s: Record<string, any>) => (s.scaling.objective = objective);
  const plannerAccepted: Array<[string, unknown]> = [
    ['an objective with quantile and headroom omitted (both Auto)', specWith((s) => (withObjective({ maxUnderProvisioned: '0.5%' })(s), delete s.forecast.quantile, delete s.scaling.headroom))],
    ['an objective with explicit quantile and headroom', specWith(withObjective({ maxUnderProvisioned: '1%' }))],
    ['an objective of 0%', specWith(withObjective({ maxUnderProvisioned: '0%' }))],
    ['quantile Auto', specWith((s) => (s.forecast.quantile = 'Auto'))],
    ['headroom Auto', specWith((s) => (s.scaling.headroom = 'Auto'))],
    ['quantile and headroom Auto with an objective', specWith((s) => (withObjective({ maxUnderProvisioned: '2.5%' })(s), (s.forecast.quantile = 'Auto'), (s.scaling.headroom = 'Auto')))],
    ['tolerance 0%', specWith((s) => (s.scaling.tolerance = '0%'))],
    ['tolerance 12.5%', specWith((s) => (s.scaling.tolerance = '12.5%'))],
    ['quantile 0.999', specWith((s) => (s.forecast.quantile = 0.999))],
  ];

  it.each(plannerAccepted)('accepts %s, as the operator does', async (_label, spec) => {
    expect(await dryRunCreate(scaler('planner-valid', spec))).toEqual({ ok: true });
    expect(operatorRefusal(spec)).toBeUndefined();
  });

  // [case, spec, field the message must name, words the message must contain]
  const plannerRejected: Array<[string, unknown, string, string]> = [
    ['objective 60%', specWith(withObjective({ maxUnderProvisioned: '60%' })), 'spec.scaling.objective.maxUnderProvisioned', `must be at most ${MAX_UNDER_PROVISIONED_PERCENT}%`],
    ['objective "abc"', specWith(withObjective({ maxUnderProvisioned: 'abc' })), 'spec.scaling.objective.maxUnderProvisioned', 'should match'],
    ['objective "Auto"', specWith(withObjective({ maxUnderProvisioned: 'Auto' })), 'spec.scaling.objective.maxUnderProvisioned', 'should match'],
    ['objective as a number', specWith(withObjective(0.5)), 'spec.scaling.objective', 'must be of type object'],
    ['objective as a percentage text', specWith(withObjective('0.5%')), 'spec.scaling.objective', 'must be of type object'],
    ['objective without maxUnderProvisioned', specWith(withObjective({})), 'spec.scaling.objective.maxUnderProvisioned', 'Required'],
    ['objective maxUnderProvisioned as a number', specWith(withObjective({ maxUnderProvisioned: 0.5 })), 'spec.scaling.objective.maxUnderProvisioned', 'must be of type string'],
    ['objective maxUnderProvisioned as an object', specWith(withObjective({ maxUnderProvisioned: { percent: 1 } })), 'spec.scaling.objective.maxUnderProvisioned', 'must be of type string'],
    ['quantile "Sometimes"', specWith((s) => (s.forecast.quantile = 'Sometimes')), 'spec.forecast.quantile', "should match '^Auto$'"],
    ['quantile "auto"', specWith((s) => (s.forecast.quantile = 'auto')), 'spec.forecast.quantile', "should match '^Auto$'"],
    ['quantile 1.5', specWith((s) => (s.forecast.quantile = 1.5)), 'spec.forecast.quantile', 'should be less than 1'],
    ['quantile -0.1', specWith((s) => (s.forecast.quantile = -0.1)), 'spec.forecast.quantile', 'should be greater than 0'],
    ['headroom "Auto%"', specWith((s) => (s.scaling.headroom = 'Auto%')), 'spec.scaling.headroom', 'should match'],
    ['headroom "auto"', specWith((s) => (s.scaling.headroom = 'auto')), 'spec.scaling.headroom', 'should match'],
    ['tolerance 70%', specWith((s) => (s.scaling.tolerance = '70%')), 'spec.scaling.tolerance', `must be at most ${MAX_TOLERANCE_PERCENT}%`],
    ['tolerance "ten percent"', specWith((s) => (s.scaling.tolerance = 'ten percent')), 'spec.scaling.tolerance', 'should match'],
    ['tolerance -5%', specWith((s) => (s.scaling.tolerance = '-5%')), 'spec.scaling.tolerance', 'should match'],
    ['tolerance as a number', specWith((s) => (s.scaling.tolerance = 0.1)), 'spec.scaling.tolerance', 'must be of type string'],
  ];

  it.each(plannerRejected)('rejects %s, naming the field, as the operator does', async (_label, spec, field, words) => {
    const result = await dryRunCreate(scaler('planner-invalid', spec));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(422);
    expect(result.message).toContain(`${field}:`);
    expect(result.message).toContain(words);
    expect(operatorRefusal(spec)?.field).toBe(field.replace(/^spec\./, ''));
  });

  // The caps of src/api/limits.ts, each at its boundary: admitted at the cap, rejected just past it. This
  // is what ties the numbers written in the CRD's CEL rules to the constants the operator enforces.
  // [cap, spec at the cap, spec just past it, field the message names, words it contains]
  const caps: Array<[string, unknown, unknown, string, string]> = [
    [
      'history points',
      specWith((s) => ((s.forecast.history = `${MAX_HISTORY_POINTS}m`), (s.forecast.step = '1m'))),
      specWith((s) => ((s.forecast.history = `${MAX_HISTORY_POINTS + 1}m`), (s.forecast.step = '1m'))),
      'spec.forecast.history',
      `at most ${MAX_HISTORY_POINTS} steps`,
    ],
    [
      'horizon points',
      specWith((s) => Object.assign(s.forecast, { history: '1d', step: '1s', horizon: `${MAX_HORIZON_POINTS}s` })),
      specWith((s) => Object.assign(s.forecast, { history: '1d', step: '1s', horizon: `${MAX_HORIZON_POINTS + 1}s` })),
      'spec.forecast.horizon',
      `at most ${MAX_HORIZON_POINTS} steps`,
    ],
    [
      'history length',
      specWith((s) => Object.assign(s.forecast, { history: formatDuration(MAX_HISTORY_MS), step: '1h', horizon: '2h' })),
      specWith((s) => Object.assign(s.forecast, { history: formatDuration(MAX_HISTORY_MS + 86_400_000), step: '1h', horizon: '2h' })),
      'spec.forecast.history',
      `at most ${formatDuration(MAX_HISTORY_MS)}`,
    ],
    [
      'smallest step',
      specWith((s) => Object.assign(s.forecast, { history: '1d', step: formatDuration(MIN_STEP_MS) })),
      specWith((s) => Object.assign(s.forecast, { history: '1d', step: formatDuration(MIN_STEP_MS - 1) })),
      'spec.forecast.step',
      `at least ${formatDuration(MIN_STEP_MS)}`,
    ],
    ['longest interval', specWith((s) => (s.interval = formatDuration(MAX_INTERVAL_MS))), specWith((s) => (s.interval = formatDuration(MAX_INTERVAL_MS + 1000))), 'spec.interval', `and ${formatDuration(MAX_INTERVAL_MS)}`],
    ['shortest interval', specWith((s) => (s.interval = formatDuration(MIN_INTERVAL_MS))), specWith((s) => (s.interval = formatDuration(MIN_INTERVAL_MS - 1000))), 'spec.interval', `between ${formatDuration(MIN_INTERVAL_MS)}`],
    [
      'longest retrainEvery',
      specWith((s) => (s.forecast.retrainEvery = formatDuration(MAX_RETRAIN_EVERY_MS))),
      specWith((s) => (s.forecast.retrainEvery = formatDuration(MAX_RETRAIN_EVERY_MS + 1000))),
      'spec.forecast.retrainEvery',
      `and ${formatDuration(MAX_RETRAIN_EVERY_MS)}`,
    ],
    [
      'shortest retrainEvery',
      specWith((s) => (s.forecast.retrainEvery = formatDuration(MIN_RETRAIN_EVERY_MS))),
      specWith((s) => (s.forecast.retrainEvery = formatDuration(MIN_RETRAIN_EVERY_MS - 1000))),
      'spec.forecast.retrainEvery',
      `between ${formatDuration(MIN_RETRAIN_EVERY_MS)}`,
    ],
    [
      'longest leadTime',
      specWith((s) => ((s.scaling.leadTime = formatDuration(MAX_LEAD_TIME_MS)), (s.forecast.horizon = '2h'))),
      specWith((s) => ((s.scaling.leadTime = formatDuration(MAX_LEAD_TIME_MS + 1000)), (s.forecast.horizon = '2h'))),
      'spec.scaling.leadTime',
      `at most ${formatDuration(MAX_LEAD_TIME_MS)}`,
    ],
    [
      'longest stabilization window',
      specWith((s) => (s.scaling.scaleDown.stabilizationWindow = formatDuration(MAX_STABILIZATION_WINDOW_MS))),
      specWith((s) => (s.scaling.scaleDown.stabilizationWindow = formatDuration(MAX_STABILIZATION_WINDOW_MS + 1000))),
      'spec.scaling.scaleDown.stabilizationWindow',
      `at most ${formatDuration(MAX_STABILIZATION_WINDOW_MS)}`,
    ],
    [
      'largest targetPerReplica',
      specWith((s) => (s.metrics[0].targetPerReplica = String(MAX_TARGET_PER_REPLICA))),
      specWith((s) => (s.metrics[0].targetPerReplica = String(MAX_TARGET_PER_REPLICA + 1))),
      'spec.metrics[0].targetPerReplica',
      'at most 1e15',
    ],
    [
      'largest integer targetPerReplica',
      specWith((s) => (s.metrics[0].targetPerReplica = MAX_TARGET_PER_REPLICA)),
      specWith((s) => (s.metrics[0].targetPerReplica = MAX_TARGET_PER_REPLICA + 1)),
      'spec.metrics[0].targetPerReplica',
      'at most 1e15',
    ],
    [
      'smallest targetPerReplica',
      specWith((s) => (s.metrics[0].targetPerReplica = String(MIN_TARGET_PER_REPLICA))),
      specWith((s) => (s.metrics[0].targetPerReplica = String(MIN_TARGET_PER_REPLICA * 0.9))),
      'spec.metrics[0].targetPerReplica',
      'at least 1m',
    ],
    [
      'largest objective',
      specWith(withObjective({ maxUnderProvisioned: `${MAX_UNDER_PROVISIONED_PERCENT}%` })),
      specWith(withObjective({ maxUnderProvisioned: `${MAX_UNDER_PROVISIONED_PERCENT}.5%` })),
      'spec.scaling.objective.maxUnderProvisioned',
      `at most ${MAX_UNDER_PROVISIONED_PERCENT}%`,
    ],
    ['largest tolerance', specWith((s) => (s.scaling.tolerance = `${MAX_TOLERANCE_PERCENT}%`)), specWith((s) => (s.scaling.tolerance = `${MAX_TOLERANCE_PERCENT}.5%`)), 'spec.scaling.tolerance', `at most ${MAX_TOLERANCE_PERCENT}%`],
    ['largest headroom', specWith((s) => (s.scaling.headroom = `${MAX_HEADROOM_PERCENT}%`)), specWith((s) => (s.scaling.headroom = `${MAX_HEADROOM_PERCENT}.5%`)), 'spec.scaling.headroom', `at most ${MAX_HEADROOM_PERCENT}%`],
    [
      'largest schedule multiplier',
      specWith((s) => (s.schedule[0].multiplier = MAX_SCHEDULE_MULTIPLIER)),
      specWith((s) => (s.schedule[0].multiplier = MAX_SCHEDULE_MULTIPLIER + 0.5)),
      'spec.schedule[0].multiplier',
      `at most ${MAX_SCHEDULE_MULTIPLIER}`,
    ],
    ['largest maxReplicas', specWith((s) => (s.maxReplicas = MAX_REPLICAS)), specWith((s) => (s.maxReplicas = MAX_REPLICAS + 1)), 'spec.maxReplicas', `less than or equal to ${MAX_REPLICAS}`],
    [
      'largest minReplicas',
      specWith((s) => ((s.minReplicas = MAX_REPLICAS), (s.maxReplicas = MAX_REPLICAS))),
      specWith((s) => ((s.minReplicas = MAX_REPLICAS + 1), (s.maxReplicas = MAX_REPLICAS))),
      'spec.minReplicas',
      `less than or equal to ${MAX_REPLICAS}`,
    ],
    ['longest query', specWith((s) => (s.metrics[0].query = 'x'.repeat(MAX_QUERY_LENGTH))), specWith((s) => (s.metrics[0].query = 'x'.repeat(MAX_QUERY_LENGTH + 1))), 'spec.metrics[0].query', 'Too long'],
    [
      'longest Prometheus URL',
      specWith((s) => (s.prometheus.url = `http://p/${'a'.repeat(MAX_URL_LENGTH - 'http://p/'.length)}`)),
      specWith((s) => (s.prometheus.url = `http://p/${'a'.repeat(MAX_URL_LENGTH - 'http://p/'.length + 1)}`)),
      'spec.prometheus.url',
      'Too long',
    ],
  ];

  it.each(caps)('admits the %s cap and rejects one past it, naming the field', async (_cap, atCap, pastCap, field, words) => {
    expect(await dryRunCreate(scaler('at-cap', atCap))).toEqual({ ok: true });
    const result = await dryRunCreate(scaler('past-cap', pastCap));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.code).toBe(422);
    expect(result.message).toContain(`${field}:`);
    expect(result.message).toContain(words);
  });

  it('applies defaults to a minimal scaler', async () => {
    const created = (await customObjects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      body: scaler('minimal', MINIMAL_SPEC),
    })) as PredictiveScaler;
    const read = (await customObjects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name: created.metadata.name,
    })) as PredictiveScaler;
    expect(read.spec).toEqual({
      ...MINIMAL_SPEC,
      minReplicas: DEFAULTS.minReplicas,
      mode: DEFAULTS.mode,
      interval: DEFAULTS.interval,
      forecast: {
        model: DEFAULTS.model,
        history: DEFAULTS.history,
        step: DEFAULTS.step,
        horizon: DEFAULTS.horizon,
        seasonality: 'Auto',
        // No quantile: omitted means Auto under an objective, so the API server must not fill it in.
        retrainEvery: DEFAULTS.retrainEvery,
        coldStart: 'Pretrained',
      },
      scaling: {
        leadTime: 'Auto',
        // Likewise no headroom, and no tolerance (the operator applies DEFAULTS.tolerance).
        reactiveFloor: true,
        scaleUp: { maxReplicasPerMinute: DEFAULTS.scaleUpMaxReplicasPerMinute },
        scaleDown: {
          stabilizationWindow: DEFAULTS.stabilizationWindow,
          maxPercentPerMinute: DEFAULTS.scaleDownMaxPercentPerMinute,
        },
      },
    });
  });

  it('stores the SPEC status through the status subresource and prints it in kubectl get columns', async () => {
    await customObjects.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      body: scaler('checkout', SPEC_EXAMPLE),
    });
    const status = {
      observedGeneration: 1,
      currentReplicas: 8,
      desiredReplicas: 14,
      lastScaleTime: '2026-03-02T14:00:00Z',
      leadTime: '2m10s',
      leadTimeSource: 'Learned',
      forecast: { model: 'Ensemble', generatedAt: '2026-03-02T14:00:00Z', peak: 512, peakAt: '2026-03-02T14:05:00Z', lower: 470, upper: 560 },
      models: [
        { name: 'LSTM', weight: 0.6, mase: 0.41, trainedAt: '2026-03-02T12:00:00Z' },
        { name: 'HoltWinters', weight: 0.4, mase: 0.55 },
      ],
      explanation: 'rps forecast p90 peak 512 at 14:05 (within lead time 2m10s) / 40 per replica +10% => 15; reactive 9; limited by scaleUp to 14',
      plan: {
        quantile: 0.95,
        headroom: '5%',
        objective: '0.5%',
        objectiveMet: true,
        simulated: { underProvisioned: '0.3%', replicaMinutes: '1.21x oracle', scaleEvents: 412 },
        hpa: { underProvisioned: '4.1%', replicaMinutes: '1.35x oracle', scaleEvents: 1210, targetForObjective: 0.6 },
        window: '7d',
        evaluatedMinutes: 7200,
        plans: 24,
        plannedAt: '2026-03-02T12:00:00Z',
        message: 'q0.95 +5% is the cheapest of 24 plans meeting 0.5%',
      },
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Scaling', message: 'scaling on 1 metric', lastTransitionTime: '2026-03-02T13:00:00Z', observedGeneration: 1 },
        { type: 'ObjectiveMet', status: 'True', reason: 'ObjectiveMet', message: 'q0.95 +5% is the cheapest of 24 plans meeting 0.5%', lastTransitionTime: '2026-03-02T12:00:00Z', observedGeneration: 1 },
      ],
    };
    await customObjects.patchNamespacedCustomObjectStatus({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name: 'checkout',
      body: [{ op: 'add', path: '/status', value: status }],
    });
    const read = (await customObjects.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NAMESPACE,
      plural: PLURAL,
      name: 'checkout',
    })) as PredictiveScaler;
    expect(read.status).toEqual(status);

    const table = await getTable(cp.kubeConfig, `/apis/${GROUP}/${VERSION}/namespaces/${NAMESPACE}/${PLURAL}/checkout`);
    const cells = Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name.toUpperCase(), table.rows[0]!.cells[i]]));
    expect(cells).toMatchObject({
      NAME: 'checkout',
      TARGET: 'checkout',
      MIN: 2,
      MAX: 60,
      CURRENT: 8,
      DESIRED: 14,
      PEAK: 512,
      MODEL: 'Ensemble',
      MODE: 'Auto',
    });
  });
});

describe('PredictiveScaler CRD file', () => {
  const crd = readManifests(CRD_PATH)[0] as unknown as {
    spec: { versions: Array<{ schema: { openAPIV3Schema: V1JSONSchemaProps } }> };
  };
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema;

  it('describes every field, so kubectl explain is useful', () => {
    const undocumented: string[] = [];
    walk(root, '', (schema, path) => {
      // metadata is the standard ObjectMeta: the API server forbids describing it in a CRD.
      if (path !== '.metadata' && !schema.description?.trim()) undocumented.push(path || '(root)');
    });
    expect(undocumented).toEqual([]);
  });

  it('uses the duration, quantity and percentage patterns of src/api/units.ts', () => {
    const patterns = new Map<string, string>();
    walk(root, '', (schema, path) => {
      if (schema.pattern) patterns.set(path, schema.pattern);
    });
    expect(patterns.get('.spec.interval')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.forecast.history')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.forecast.step')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.forecast.horizon')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.forecast.retrainEvery')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.forecast.seasonality[]')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.scaling.scaleDown.stabilizationWindow')).toBe(DURATION_PATTERN);
    expect(patterns.get('.spec.scaling.leadTime')).toBe(`^(Auto|${DURATION_PATTERN.slice(1, -1)})$`);
    expect(patterns.get('.spec.metrics[].targetPerReplica')).toBe(QUANTITY_PATTERN);
    expect(patterns.get('.spec.scaling.headroom')).toBe(`^(Auto|${PERCENT_PATTERN.slice(1, -1)})$`);
    expect(patterns.get('.spec.scaling.tolerance')).toBe(PERCENT_PATTERN);
    expect(patterns.get('.spec.scaling.objective.maxUnderProvisioned')).toBe(PERCENT_PATTERN);
    expect(patterns.get('.spec.scaleTargetRef.apiVersion')).toBe(API_VERSION_PATTERN);
    expect(patterns.get('.spec.scaleTargetRef.kind')).toBe(KIND_PATTERN);
    expect(patterns.get('.spec.scaleTargetRef.name')).toBe(OBJECT_NAME_PATTERN);
    expect(patterns.get('.spec.prometheus.authSecretRef.name')).toBe(OBJECT_NAME_PATTERN);
    expect(patterns.get('.spec.metrics[].name')).toBe(ENTRY_NAME_PATTERN);
    expect(patterns.get('.spec.schedule[].name')).toBe(ENTRY_NAME_PATTERN);
  });

  it('refuses in queries the control characters src/api/names.ts names', () => {
    const query = root.properties!.spec!.properties!.metrics!.items as V1JSONSchemaProps;
    const rules = (query.properties!.query as { 'x-kubernetes-validations'?: Array<{ rule: string }> })['x-kubernetes-validations'] ?? [];
    expect(rules.map((r) => r.rule)).toEqual([`!self.matches(r'${CONTROL_CHARACTER_CLASS}')`]);
  });

  it('bounds the length of every string and the size of every list in the spec', () => {
    const unbounded: string[] = [];
    walk(root.properties!.spec!, '.spec', (schema, path) => {
      if (schema.type === 'string' && schema.maxLength === undefined && schema.format !== 'date-time' && !schema._enum) unbounded.push(path);
      if (schema.type === 'array' && schema.maxItems === undefined) unbounded.push(path);
    });
    expect(unbounded).toEqual([]);
  });
});

/** The operator's own check of a spec: the SpecError toScalerConfig throws, or undefined when it serves it. */
function operatorRefusal(spec: unknown): SpecError | undefined {
  try {
    toScalerConfig(spec as PredictiveScalerSpec);
    return undefined;
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
}

function metricsNamed(count: number): PredictiveScalerSpec['metrics'] {
  return Array.from({ length: count }, (_, i) => ({ name: `m${i}`, query: `sum(rate(requests_${i}[1m]))`, targetPerReplica: '10' }));
}

function walk(schema: V1JSONSchemaProps, path: string, visit: (schema: V1JSONSchemaProps, path: string) => void): void {
  visit(schema, path);
  for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, `${path}.${name}`, visit);
  if (schema.items && !Array.isArray(schema.items)) walk(schema.items as V1JSONSchemaProps, `${path}[]`, visit);
}

interface Table {
  columnDefinitions: Array<{ name: string }>;
  rows: Array<{ cells: unknown[] }>;
}

/** GET as a meta.k8s.io Table, the server-side printing `kubectl get` uses. */
async function getTable(kc: KubeConfig, path: string): Promise<Table> {
  const url = new URL(path, kc.getCurrentCluster()!.server);
  const options: import('node:https').RequestOptions = {
    method: 'GET',
    headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
  };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolveTable, reject) => {
    const req = request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolveTable(JSON.parse(body) as Table) : reject(new Error(`${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
