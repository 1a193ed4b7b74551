// The examples as `prescale demo` applies them: only the listed changes, on the real examples/
// files, and a clear error for an example whose query the demo cannot feed.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { toScalerConfig } from '../../../src/api/config.js';
import type { PredictiveScaler } from '../../../src/api/types.js';
import {
  counterFromQuery,
  demoWorkloads,
  POD_READY_DELAY_ANNOTATION,
  POD_READY_JITTER_ANNOTATION,
  toYaml,
  type DemoWorkload,
} from '../../../src/demo/workloads.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

// Loose, to reach into the objects as a test does.
type Json = Record<string, any>;

async function exampleObjects(example: string): Promise<Json[]> {
  const objects: Json[] = [];
  for (const file of ['deployment.yaml', 'predictivescaler.yaml']) {
    const text = await readFile(join(REPO_ROOT, 'examples', example, file), 'utf8');
    objects.push(...parseAllDocuments(text as string).map((d) => d.toJSON() as Json).filter((o) => o !== null));
  }
  return objects;
}

const byKind = (objects: Record<string, unknown>[], kind: string) => objects.find((o) => o.kind === kind) as Json;
const workload = (workloads: DemoWorkload[], example: string) => workloads.find((w) => w.example === example)!;

describe('demoWorkloads at speed 1', () => {
  let workloads: DemoWorkload[];
  beforeAll(async () => {
    workloads = await demoWorkloads({ repoRoot: REPO_ROOT, speed: 1 });
  });

  it('gives both examples with their names', () => {
    expect(workloads.map(({ example, namespace, deployment, scaler }) => ({ example, namespace, deployment, scaler }))).toEqual([
      { example: 'web-service', namespace: 'shop', deployment: 'web', scaler: 'web' },
      { example: 'model-serving', namespace: 'ml', deployment: 'ranker', scaler: 'ranker' },
    ]);
  });

  it('keeps the files order with the Namespace first', () => {
    expect(workload(workloads, 'web-service').objects.map((o) => o.kind)).toEqual(['Namespace', 'Deployment', 'Service', 'PredictiveScaler']);
    expect(workload(workloads, 'model-serving').objects.map((o) => o.kind)).toEqual(['Namespace', 'Deployment', 'PredictiveScaler']);
  });

  it('web-service: only the KWOK annotations are added; the scaler is the example', async () => {
    const original = await exampleObjects('web-service');
    const demo = workload(workloads, 'web-service');
    const expected = structuredClone(original);
    byKind(expected, 'Deployment').spec.template.metadata.annotations = {
      [POD_READY_DELAY_ANNOTATION]: '30s',
      [POD_READY_JITTER_ANNOTATION]: '60s',
    };
    expect(demo.objects).toEqual(expected);
    expect(demo.startup).toEqual({ minMs: 30_000, maxMs: 60_000 });
    expect(demo.changes).toHaveLength(1);
    expect(demo.changes[0]).toContain(`${POD_READY_DELAY_ANNOTATION}=30s`);
  });

  it('model-serving: KWOK annotations, no models volume, leadTime 4m; everything else as in the example', async () => {
    const original = await exampleObjects('model-serving');
    const demo = workload(workloads, 'model-serving');
    const deployment = byKind(demo.objects, 'Deployment');
    const podSpec = deployment.spec.template.spec;
    expect(deployment.spec.template.metadata.annotations).toEqual({
      [POD_READY_DELAY_ANNOTATION]: '120s',
      [POD_READY_JITTER_ANNOTATION]: '150s',
    });
    expect(podSpec.volumes).toBeUndefined();
    expect(podSpec.containers[0].volumeMounts).toBeUndefined();
    expect(byKind(demo.objects, 'PredictiveScaler').spec.scaling.leadTime).toBe('4m');
    expect(demo.startup).toEqual({ minMs: 120_000, maxMs: 150_000 });

    const expected = structuredClone(original);
    const expectedTemplate = byKind(expected, 'Deployment').spec.template;
    expectedTemplate.metadata.annotations = deployment.spec.template.metadata.annotations;
    delete expectedTemplate.spec.volumes;
    delete expectedTemplate.spec.containers[0].volumeMounts;
    byKind(expected, 'PredictiveScaler').spec.scaling.leadTime = '4m';
    expect(demo.objects).toEqual(expected);
    expect(podSpec.containers[0].resources).toEqual(expectedTemplate.spec.containers[0].resources);
    expect(podSpec.containers[0].startupProbe).toBeDefined();

    expect(demo.changes).toHaveLength(3);
    expect(demo.changes.some((c) => c.includes('volume models'))).toBe(true);
    expect(demo.changes.some((c) => c.includes('scaling.leadTime 10m -> 4m'))).toBe(true);
  });

  it('the annotation names are the ones the KWOK stages read', async () => {
    const stages = await readFile(join(REPO_ROOT, 'demo', 'kwok-stages.yaml'), 'utf8');
    expect(stages).toContain(`.metadata.annotations["${POD_READY_DELAY_ANNOTATION}"]`);
    expect(stages).toContain(`.metadata.annotations["${POD_READY_JITTER_ANNOTATION}"]`);
  });

  it('derives the counters, with a concrete pod name that matches the regex', async () => {
    expect(workload(workloads, 'web-service').counter).toEqual({
      name: 'nginx_ingress_controller_requests',
      labels: { exported_namespace: 'shop', exported_service: 'web' },
    });
    const ranker = workload(workloads, 'model-serving').counter;
    expect(ranker).toEqual({ name: 'ts_inference_requests_total', labels: { namespace: 'ml', pod: 'ranker-7d9f8-demo' } });
    expect(ranker.labels.pod).toMatch(/^(?:ranker-.*)$/);
  });

  it('gives maxReplicas x targetPerReplica', () => {
    expect(workload(workloads, 'web-service').capacityAtMax).toBe(40 * 40);
    expect(workload(workloads, 'model-serving').capacityAtMax).toBe(24 * 12);
  });
});

describe('demoWorkloads at speed 20', () => {
  let workloads: DemoWorkload[];
  beforeAll(async () => {
    workloads = await demoWorkloads({ repoRoot: REPO_ROOT, speed: 20 });
  });

  it('web-service: history, seasonality and the default retrainEvery are divided by 20, the rest stays', async () => {
    const demo = workload(workloads, 'web-service');
    const scaler = byKind(demo.objects, 'PredictiveScaler');
    const expected = byKind(await exampleObjects('web-service'), 'PredictiveScaler');
    expected.spec.forecast = { ...expected.spec.forecast, history: '1008m', seasonality: ['72m', '504m'], retrainEvery: '18m' };
    expect(scaler).toEqual(expected);
    expect(demo.changes.slice(1)).toEqual([
      'PredictiveScaler web: forecast.history 14d -> 1008m (speed 20)',
      'PredictiveScaler web: forecast.retrainEvery 6h (unset: the default) -> 18m (speed 20)',
      'PredictiveScaler web: forecast.seasonality [1d, 7d] -> [72m, 504m] (speed 20)',
    ]);
  });

  it('model-serving: history and retrainEvery divided, Auto seasonality made the scaled day and week, leadTime/horizon/windows untouched', async () => {
    const demo = workload(workloads, 'model-serving');
    const scaler = byKind(demo.objects, 'PredictiveScaler');
    const expected = byKind(await exampleObjects('model-serving'), 'PredictiveScaler');
    expected.spec.forecast = { ...expected.spec.forecast, history: '1008m', retrainEvery: '18m', seasonality: ['72m', '504m'] };
    expected.spec.scaling.leadTime = '4m';
    expect(scaler).toEqual(expected);
    expect(demo.changes).toContain('PredictiveScaler ranker: forecast.retrainEvery 6h -> 18m (speed 20)');
    expect(demo.changes).toContain('PredictiveScaler ranker: forecast.seasonality Auto -> [72m, 504m] (speed 20): Auto looks for 1h, 1d and 7d periods, which the compressed trace no longer has');
    expect(demo.startup).toEqual({ minMs: 120_000, maxMs: 150_000 });
  });

  it('rounds to whole minutes, at least 1m', async () => {
    const [web] = await demoWorkloads({ repoRoot: REPO_ROOT, speed: 7 });
    // 14d / 7 = 2d = 2880m; 1d / 7 = 205.7m -> 206m; 6h / 7 = 51.4m -> 51m
    expect(byKind(web!.objects, 'PredictiveScaler').spec.forecast).toMatchObject({
      history: '2880m',
      seasonality: ['206m', '1440m'],
      retrainEvery: '51m',
    });
  });
});

describe('the demo scalers are valid', () => {
  it.each([1, 20])('at speed %d they pass the operator check, and horizon covers leadTime + interval', async (speed) => {
    for (const demo of await demoWorkloads({ repoRoot: REPO_ROOT, speed })) {
      const scaler = byKind(demo.objects, 'PredictiveScaler') as PredictiveScaler;
      const config = toScalerConfig(scaler.spec);
      // The CRD's CEL rule, which toScalerConfig does not repeat.
      expect(config.forecast.horizonMs).toBeGreaterThanOrEqual((config.scaling.leadTimeMs ?? 0) + config.intervalMs);
    }
  });

  it('refuses a speed outside 1..20', async () => {
    for (const speed of [0, 0.5, 21, Number.NaN]) {
      await expect(demoWorkloads({ repoRoot: REPO_ROOT, speed })).rejects.toThrow(/speed must be between 1 and 20/);
    }
  });
});

describe('toYaml', () => {
  it('round-trips every object in order', async () => {
    const workloads = await demoWorkloads({ repoRoot: REPO_ROOT, speed: 20 });
    const documents = parseAllDocuments(toYaml(workloads));
    expect(Array.isArray(documents)).toBe(true);
    const parsed = (documents as Exclude<typeof documents, { empty: true }>).map((d) => {
      expect(d.errors).toEqual([]);
      return d.toJSON();
    });
    expect(parsed).toEqual(workloads.flatMap((w) => w.objects));
  });
});

describe('examples whose query the demo cannot feed', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'prescale-workloads-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function withQuery(example: string, query: string): Promise<string> {
    const repo = await mkdtemp(join(root, 'repo-'));
    await cp(join(REPO_ROOT, 'examples'), join(repo, 'examples'), { recursive: true });
    const file = join(repo, 'examples', example, 'predictivescaler.yaml');
    const text = await readFile(file, 'utf8');
    const replaced = text.replace(/^(\s*query: ).*$/m, (_, prefix: string) => `${prefix}${JSON.stringify(query)}`);
    expect(replaced).not.toBe(text);
    await writeFile(file, replaced);
    return repo;
  }

  it.each([
    ['rate without sum', 'web-service', 'rate(x[1m])', /must be sum\(rate/],
    ['two selectors', 'web-service', 'sum(rate(x[1m])) / sum(rate(y[1m]))', /2 selectors/],
    ['unparseable', 'web-service', 'sum(rate(x[1m]', /not valid PromQL/],
    ['sum by', 'web-service', 'sum by (pod) (rate(x[1m]))', /must be sum\(rate/],
    ['irate', 'web-service', 'sum(irate(x[1m]))', /must be sum\(rate/],
    ['offset', 'web-service', 'sum(rate(x[1m] offset 5m))', /must be sum\(rate/],
    ['a negative matcher', 'web-service', 'sum(rate(x{a!="b"}[1m]))', /a!="b" is not mapped/],
    ['a regex with no concrete value', 'web-service', 'sum(rate(x{pod=~"web-.*"}[1m]))', /no concrete value .* on pod/],
    ['a regex the concrete value misses', 'model-serving', 'sum(rate(x{pod=~"web-.*"}[1m]))', /"ranker-7d9f8-demo" for pod does not match "web-\.\*"/],
  ])('%s: an error naming the example and the query', async (_, example, query, reason) => {
    const repo = await withQuery(example, query);
    const error = await demoWorkloads({ repoRoot: repo, speed: 1 }).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain(`${example}: `);
    expect(error!.message).toContain(JSON.stringify(query));
    expect(error!.message).toMatch(reason);
  });

  it('moves a Namespace that comes later in the files to the front', async () => {
    const repo = await mkdtemp(join(root, 'repo-'));
    await cp(join(REPO_ROOT, 'examples'), join(repo, 'examples'), { recursive: true });
    const file = join(repo, 'examples', 'web-service', 'deployment.yaml');
    const [namespace, ...rest] = (await readFile(file, 'utf8')).split(/^---\n/m);
    await writeFile(file, [...rest, namespace].join('---\n'));
    const [web] = await demoWorkloads({ repoRoot: repo, speed: 1 });
    expect(web!.objects.map((o) => o.kind)).toEqual(['Namespace', 'Deployment', 'Service', 'PredictiveScaler']);
  });

  it('an example that lost the volume the demo removes', async () => {
    const repo = await mkdtemp(join(root, 'repo-'));
    await cp(join(REPO_ROOT, 'examples'), join(repo, 'examples'), { recursive: true });
    const file = join(repo, 'examples', 'model-serving', 'deployment.yaml');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/- name: models\n/g, '- name: weights\n'));
    await expect(demoWorkloads({ repoRoot: repo, speed: 1 })).rejects.toThrow(/model-serving: the Deployment has no volume models/);
  });
});

describe('counterFromQuery', () => {
  it.each([
    ['sum(rate({"my.metric", a="b"}[1m]))', { name: 'my.metric', labels: { a: 'b' } }],
    ['sum(rate({__name__="m", "quoted.label"="v"}[1m]))', { name: 'm', labels: { 'quoted.label': 'v' } }],
    ['sum((rate(m{a="\\u00e9"}[5m])))', { name: 'm', labels: { a: 'é' } }],
    ['# demand\nsum( # per second\n rate(m[1m]))', { name: 'm', labels: {} }],
    ['sum(rate(m{pod=~"ranker-.*",a="b"}[1m]))', { name: 'm', labels: { pod: 'ranker-1', a: 'b' } }],
  ])('%s', (query, counter) => {
    expect(counterFromQuery('test', query, { pod: 'ranker-1' })).toEqual(counter);
  });

  it('refuses a selector without a metric name', () => {
    expect(() => counterFromQuery('test', 'sum(rate({a="b"}[1m]))', {})).toThrow(/names no metric/);
  });
});
