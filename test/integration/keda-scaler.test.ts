// The KEDA external scaler as installed: the compiled dist/ module (which must find the .proto from
// dist/publish/), over cachePublishedSource and PredictiveScaler objects going through the states
// an informer shows, with a client of its own; and the .proto shipped in the npm package.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictiveScaler } from '../../src/api/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { eventually } from '../helpers/eventually.js';

type KedaModule = typeof import('../../src/publish/keda-scaler.js');
type SourceModule = typeof import('../../src/publish/source.js');

const distUrl = (path: string) => new URL(`../../dist/${path}`, import.meta.url).href;

type Verb = 'add' | 'update' | 'delete';
class FakeInformerCache {
  private readonly objects = new Map<string, PredictiveScaler>();
  private readonly handlers: Record<Verb, ((obj: PredictiveScaler) => void)[]> = { add: [], update: [], delete: [] };
  get(name: string, namespace?: string): PredictiveScaler | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  on(verb: Verb, cb: (obj: PredictiveScaler) => void): void {
    this.handlers[verb].push(cb);
  }
  put(obj: PredictiveScaler): void {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const verb = this.objects.has(key) ? 'update' : 'add';
    this.objects.set(key, obj);
    for (const h of this.handlers[verb]) h(obj);
  }
  remove(obj: PredictiveScaler): void {
    this.objects.delete(`${obj.metadata.namespace}/${obj.metadata.name}`);
    for (const h of this.handlers.delete) h(obj);
  }
}

const scaler = (mode: 'Publish' | 'Auto', desiredReplicas?: number): PredictiveScaler => ({
  apiVersion: 'autoscaling.prescale.dev/v1alpha1',
  kind: 'PredictiveScaler',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: {
    mode,
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' },
    minReplicas: 0,
    maxReplicas: 20,
    metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '50' }],
  } as PredictiveScaler['spec'],
  ...(desiredReplicas === undefined
    ? {}
    : {
        status: {
          desiredReplicas,
          conditions: [{ type: 'Ready', status: 'True', reason: 'Forecasting', message: 'ok', lastTransitionTime: new Date().toISOString() }],
        },
      }),
});

describe('KEDA external scaler, compiled', () => {
  let keda: KedaModule;
  let server: Awaited<ReturnType<KedaModule['startKedaScaler']>>;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  const cache = new FakeInformerCache();

  beforeAll(async () => {
    keda = (await import(distUrl('publish/keda-scaler.js'))) as KedaModule;
    const { cachePublishedSource } = (await import(distUrl('publish/source.js'))) as SourceModule;
    // The compiled module resolves the .proto from dist/publish/ to the same file as from src/.
    const definition = await protoLoader.load(keda.KEDA_PROTO_FILE, keda.KEDA_PROTO_OPTIONS);
    const Client = (grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } })
      .externalscaler.ExternalScaler;
    server = await keda.startKedaScaler({
      address: '127.0.0.1:0',
      source: cachePublishedSource(cache),
      logger: createLogger({ level: 'silent' }),
      limits: { streamRepeatMs: 600_000 },
    });
    client = new Client(server!.address, grpc.credentials.createInsecure()) as typeof client;
  });
  afterAll(async () => {
    client?.close();
    await server?.close();
  });

  const so = { name: 'checkout', namespace: 'shop', scalerMetadata: { scalerAddress: 'prescale.prescale-system.svc:9100', scaler: 'checkout' } };
  const call = (method: string, request: object) =>
    new Promise<{ code: string; value?: unknown }>((resolve) => {
      client[method]!(request, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, value: unknown) =>
        resolve(err ? { code: grpc.status[err.code]! } : { code: 'OK', value }),
      );
    });

  it('loads its .proto from the repository\'s proto/ directory', () => {
    expect(keda.KEDA_PROTO_FILE).toMatch(/[/\\]proto[/\\]externalscaler\.proto$/);
    expect(keda.KEDA_PROTO_FILE).not.toMatch(/[/\\](dist|src)[/\\]/);
  });

  it('follows a PredictiveScaler from creation through its recommendations to deletion', async () => {
    expect(await call('IsActive', so)).toEqual({ code: 'NOT_FOUND' });
    cache.put(scaler('Publish'));
    expect(await call('IsActive', so)).toEqual({ code: 'UNAVAILABLE' });
    expect(await call('GetMetricSpec', so)).toMatchObject({ code: 'OK' });

    cache.put(scaler('Publish', 4));
    expect(await call('GetMetrics', { scaledObjectRef: so, metricName: 'prescale-checkout' })).toEqual({
      code: 'OK',
      value: { metricValues: [{ metricName: 'prescale-checkout', metricValue: 4, metricValueFloat: 4 }] },
    });

    const stream = client.StreamIsActive!(so) as grpc.ClientReadableStream<{ result: boolean }>;
    const received: boolean[] = [];
    let ended: string | undefined;
    stream.on('data', (m: { result: boolean }) => received.push(m.result));
    stream.on('error', (e: grpc.ServiceError) => (ended = grpc.status[e.code]));
    await eventually('the first answer', async () => received.length, (n) => n === 1, 10_000, 10);
    cache.put(scaler('Publish', 0));
    await eventually('the change to inactive', async () => received, (r) => r.length === 2, 10_000, 10);
    expect(received).toEqual([true, false]);
    cache.put(scaler('Auto', 0));
    await eventually('the stream to end', async () => ended, (e) => e !== undefined, 10_000, 10);
    expect(ended).toBe('FAILED_PRECONDITION');

    cache.remove(scaler('Auto', 0));
    expect(await call('GetMetrics', { scaledObjectRef: so, metricName: '' })).toEqual({ code: 'NOT_FOUND' });
  });
});

describe('the npm package', () => {
  it('ships the .proto', async () => {
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toContain('proto/externalscaler.proto');
    expect(files).toContain('dist/publish/keda-scaler.js');
  });
});
