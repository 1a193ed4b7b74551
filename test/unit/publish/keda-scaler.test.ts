// The KEDA external scaler against a real grpc-js client loaded from the same .proto, over an
// in-memory PublishedSource.
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import {
  KEDA_PROTO_FILE,
  KEDA_PROTO_OPTIONS,
  startKedaScaler,
  type KedaScaler,
  type KedaScalerOptions,
} from '../../../src/publish/keda-scaler.js';
import type { PublishedLookup, PublishedSource } from '../../../src/publish/source.js';
import { eventually } from '../../helpers/eventually.js';

const silent = createLogger({ level: 'silent' });
const DEADLINE_MS = 10_000;

// ---- the fake source -------------------------------------------------------------------------

type Listener = (namespace: string, name: string) => void;

class FakeSource implements PublishedSource {
  readonly values = new Map<string, PublishedLookup>();
  readonly listeners = new Set<Listener>();
  readonly lookups: string[] = [];
  throwOnLookup = false;

  lookup(namespace: string, name: string): PublishedLookup {
    this.lookups.push(`${namespace}/${name}`);
    if (this.throwOnLookup) throw new Error('the cache exploded');
    return this.values.get(`${namespace}/${name}`) ?? { ok: false, code: 'NotFound', message: `no PredictiveScaler ${namespace}/${name}` };
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sets a scaler's recommendation (or failure) and tells the listeners, as the informer does. */
  set(namespace: string, name: string, value: number | Extract<PublishedLookup, { ok: false }>): void {
    this.values.set(
      `${namespace}/${name}`,
      typeof value === 'number'
        ? { ok: true, value: { namespace, name, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, desiredReplicas: value } }
        : value,
    );
    this.notify(namespace, name);
  }

  notify(namespace: string, name: string): void {
    for (const l of [...this.listeners]) l(namespace, name);
  }
}

// ---- the client ------------------------------------------------------------------------------

type Any = Record<string, unknown>;
interface ExternalScalerClient extends grpc.Client {
  IsActive(req: Any, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Any) => void): grpc.ClientUnaryCall;
  GetMetricSpec(req: Any, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Any) => void): grpc.ClientUnaryCall;
  GetMetrics(req: Any, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Any) => void): grpc.ClientUnaryCall;
  StreamIsActive(req: Any, options?: grpc.CallOptions): grpc.ClientReadableStream<{ result: boolean }>;
  StreamMetricSpec(req: Any, options?: grpc.CallOptions): grpc.ClientReadableStream<Any>;
}

let ClientCtor: grpc.ServiceClientConstructor;
beforeAll(async () => {
  const definition = await protoLoader.load(KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS);
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } };
  ClientCtor = pkg.externalscaler.ExternalScaler;
});

const servers: KedaScaler[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

interface Started {
  server: KedaScaler;
  client: ExternalScalerClient;
  source: FakeSource;
  requests: [string, string][];
}

async function start(overrides: Partial<KedaScalerOptions> = {}, source = new FakeSource()): Promise<Started> {
  const requests: [string, string][] = [];
  const server = await startKedaScaler({
    address: '127.0.0.1:0',
    source,
    logger: silent,
    onRequest: (method, code) => requests.push([method, code]),
    ...overrides,
  });
  if (!server) throw new Error('not started');
  servers.push(server);
  return { server, client: connect(server.address), source, requests };
}

function connect(address: string, credentials = grpc.credentials.createInsecure()): ExternalScalerClient {
  const client = new ClientCtor(address, credentials) as unknown as ExternalScalerClient;
  clients.push(client);
  return client;
}

type Result = { ok: true; value: Any } | { ok: false; code: grpc.status; details: string };

function unary(client: ExternalScalerClient, method: 'IsActive' | 'GetMetricSpec' | 'GetMetrics', request: Any): Promise<Result> {
  return new Promise((resolve) => {
    client[method](request, { deadline: Date.now() + DEADLINE_MS }, (err, res) =>
      resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, value: res! }),
    );
  });
}

/** A StreamIsActive call collecting what arrives. */
function openStream(client: ExternalScalerClient, request: Any) {
  const call = client.StreamIsActive(request);
  const received: boolean[] = [];
  let ended: { code: grpc.status; details: string } | undefined;
  call.on('data', (m: { result: boolean }) => received.push(m.result));
  call.on('error', (err: grpc.ServiceError) => (ended = { code: err.code, details: err.details }));
  call.on('status', (s: grpc.StatusObject) => (ended ??= { code: s.code, details: s.details }));
  return {
    call,
    received,
    ended: () => ended,
    next: (count: number) => eventually(`${count} stream message(s)`, async () => received.length, (n) => n >= count, DEADLINE_MS, 10),
    end: () => eventually('the stream to end', async () => ended, (e) => e !== undefined, DEADLINE_MS, 10).then((e) => e!),
  };
}

const ref = (namespace: string, scalerMetadata: Record<string, string>, name = 'web-so') => ({ name, namespace, scalerMetadata });
// What KEDA sends: the whole trigger metadata map.
const kedaMetadata = (scaler: string) => ({ scalerAddress: 'prescale.prescale-system.svc:9100', scaler, enableTLS: 'false' });

// ---- the happy paths -------------------------------------------------------------------------

describe('KEDA external scaler: answers', () => {
  it('serves the metric spec, the metric and the activity of a published recommendation', async () => {
    const { client, source, requests } = await start();
    source.set('shop', 'web', 7);
    const so = ref('shop', kedaMetadata('web'));

    expect(await unary(client, 'GetMetricSpec', so)).toEqual({
      ok: true,
      value: { metricSpecs: [{ metricName: 'prescale-web', targetSize: 1, targetSizeFloat: 1 }] },
    });
    expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: 'prescale-web' })).toEqual({
      ok: true,
      value: { metricValues: [{ metricName: 'prescale-web', metricValue: 7, metricValueFloat: 7 }] },
    });
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: true } });
    expect(requests).toEqual([
      ['GetMetricSpec', 'OK'],
      ['GetMetrics', 'OK'],
      ['IsActive', 'OK'],
    ]);
  });

  it('names the metric by the scaler when GetMetrics asks for none, and echoes the name asked for', async () => {
    const { client, source } = await start();
    source.set('shop', 'api.v2', 12);
    const so = ref('shop', { scaler: 'api.v2' });
    expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: '' })).toEqual({
      ok: true,
      value: { metricValues: [{ metricName: 'prescale-api.v2', metricValue: 12, metricValueFloat: 12 }] },
    });
    expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: 'renamed' })).toMatchObject({
      ok: true,
      value: { metricValues: [{ metricName: 'renamed', metricValue: 12 }] },
    });
  });

  it('is inactive at 0 replicas, with the metric at 0', async () => {
    const { client, source } = await start();
    source.set('shop', 'web', 0);
    const so = ref('shop', { scaler: 'web' });
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: false } });
    expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: 'prescale-web' })).toEqual({
      ok: true,
      value: { metricValues: [{ metricName: 'prescale-web', metricValue: 0, metricValueFloat: 0 }] },
    });
    source.set('shop', 'web', 1);
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: true } });
  });

  it('answers StreamMetricSpec with UNIMPLEMENTED, which makes KEDA fall back to GetMetricSpec', async () => {
    const { client, requests } = await start();
    const call = client.StreamMetricSpec(ref('shop', { scaler: 'web' }));
    const err = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    expect(err.code).toBe(grpc.status.UNIMPLEMENTED);
    expect(requests).toContainEqual(['StreamMetricSpec', 'UNIMPLEMENTED']);
  });

  it('is off at address "0" and refuses an address it cannot parse', async () => {
    expect(await startKedaScaler({ address: '0', source: new FakeSource(), logger: silent })).toBeUndefined();
    await expect(startKedaScaler({ address: 'nonsense', source: new FakeSource(), logger: silent })).rejects.toThrow(/bind address/);
  });

  it('listens on every interface for ":port" and reports the port it got', async () => {
    const { server, source } = await start({ address: ':0' });
    source.set('shop', 'web', 2);
    expect(server.address).toMatch(/^(\[::\]|0\.0\.0\.0):\d+$/);
    const port = Number(/:(\d+)$/.exec(server.address)![1]);
    expect(port).toBeGreaterThan(0);
    const client = connect(`127.0.0.1:${port}`);
    expect(await unary(client, 'IsActive', ref('shop', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
  });
});

// ---- failures --------------------------------------------------------------------------------

describe('KEDA external scaler: failures', () => {
  const failures = [
    { code: 'NotFound', status: grpc.status.NOT_FOUND, message: 'no PredictiveScaler shop/web' },
    { code: 'NotPublished', status: grpc.status.FAILED_PRECONDITION, message: 'PredictiveScaler shop/web is not in mode Publish (mode Auto)' },
    { code: 'NotReady', status: grpc.status.UNAVAILABLE, message: 'PredictiveScaler shop/web has no recommendation: it has not been reconciled yet' },
  ] as const;

  for (const f of failures) {
    it(`maps ${f.code} to ${grpc.status[f.status]} with the source's message, in every call that needs the value`, async () => {
      const { client, source, requests } = await start();
      if (f.code !== 'NotFound') source.set('shop', 'web', { ok: false, code: f.code, message: f.message });
      const so = ref('shop', { scaler: 'web' });
      const expected = { ok: false, code: f.status, details: f.message };
      expect(await unary(client, 'IsActive', so)).toEqual(expected);
      expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: 'prescale-web' })).toEqual(expected);
      const stream = openStream(client, so);
      expect(await stream.end()).toEqual({ code: f.status, details: f.message });
      expect(stream.received).toEqual([]);
      // The spec depends on the metadata only: KEDA must be able to build the HPA before the
      // scaler is ready (or seen by the informer), and keep it when the scaler fails.
      expect(await unary(client, 'GetMetricSpec', so)).toMatchObject({ ok: true });
      const name = grpc.status[f.status];
      expect(requests).toEqual([
        ['IsActive', name],
        ['GetMetrics', name],
        ['StreamIsActive', name],
        ['GetMetricSpec', 'OK'],
      ]);
    });
  }

  it('answers INTERNAL with a generic message when the source throws, and logs the cause', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'error',
      destination: new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    });
    const { client, source } = await start({ logger });
    source.set('shop', 'web', 3);
    source.throwOnLookup = true;
    const so = ref('shop', { scaler: 'web' });
    const result = await unary(client, 'IsActive', so);
    expect(result).toMatchObject({ ok: false, code: grpc.status.INTERNAL });
    expect((result as { details: string }).details).not.toMatch(/exploded/);
    expect(lines.join('')).toMatch(/the cache exploded/);
    expect(await openStream(client, so).end()).toMatchObject({ code: grpc.status.INTERNAL });
    // Still serving.
    source.throwOnLookup = false;
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: true } });
  });

  it('answers INTERNAL for a recommendation no scaler can have (a source bug), never a wrong number', async () => {
    const { client, source } = await start();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) {
      source.set('shop', 'web', bad);
      expect(await unary(client, 'GetMetrics', { scaledObjectRef: ref('shop', { scaler: 'web' }), metricName: '' })).toMatchObject({
        ok: false,
        code: grpc.status.INTERNAL,
      });
    }
  });

  it('survives an onRequest callback that throws', async () => {
    const source = new FakeSource();
    source.set('shop', 'web', 1);
    const { client } = await start({
      onRequest: () => {
        throw new Error('counter broke');
      },
    }, source);
    expect(await unary(client, 'IsActive', ref('shop', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
    expect(await unary(client, 'IsActive', ref('shop', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
  });
});

// ---- metadata --------------------------------------------------------------------------------

describe('KEDA external scaler: trigger metadata', () => {
  const invalid = async (client: ExternalScalerClient, so: Any, pattern: RegExp) => {
    for (const result of [
      await unary(client, 'IsActive', so),
      await unary(client, 'GetMetricSpec', so),
      await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: '' }),
    ]) {
      expect(result).toMatchObject({ ok: false, code: grpc.status.INVALID_ARGUMENT });
      expect((result as { details: string }).details).toMatch(pattern);
    }
    expect(await openStream(client, so).end()).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, details: expect.stringMatching(pattern) });
  };

  it('requires "scaler" and says what to write', async () => {
    const { client, source } = await start();
    await invalid(client, ref('shop', { scalerAddress: 'x:9100' }), /no "scaler": write metadata\.scaler: <name of a PredictiveScaler/);
    await invalid(client, ref('shop', { scaler: '' }), /no "scaler"/);
    expect(source.lookups).toEqual([]);
  });

  it('refuses a scaler name that is not a DNS-1123 subdomain of at most 253 characters', async () => {
    const { client, source } = await start();
    for (const bad of ['Web', 'web/other', '../web', '-web', 'web-', 'we b', 'web..x', 'a'.repeat(254), 'wéb', 'web\n']) {
      await invalid(client, ref('shop', { scaler: bad }), /"scaler" .* is not a PredictiveScaler name: write the name of a PredictiveScaler/);
    }
    expect(source.lookups).toEqual([]);
    // 253 characters of a valid subdomain pass validation (and then are simply not found).
    const longest = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    expect(longest).toHaveLength(253);
    expect(await unary(client, 'IsActive', ref('shop', { scaler: longest }))).toMatchObject({ ok: false, code: grpc.status.NOT_FOUND });
  });

  it('refuses a missing or invalid ScaledObject namespace', async () => {
    const { client, source } = await start();
    source.set('shop', 'web', 1);
    await invalid(client, ref('', { scaler: 'web' }), /namespace is empty/);
    for (const bad of ['Shop', 'shop.eu', 'a'.repeat(64), 'shop/web', '-shop']) {
      await invalid(client, ref(bad, { scaler: 'web' }), /is not a namespace name \(a DNS-1123 label\)/);
    }
    expect(await unary(client, 'GetMetrics', { metricName: 'prescale-web' })).toMatchObject({
      ok: false,
      code: grpc.status.INVALID_ARGUMENT,
      details: expect.stringMatching(/no scaledObjectRef/),
    });
  });

  it('looks the scaler up in the ScaledObject\'s namespace only: no metadata key reaches another namespace', async () => {
    const { client, source } = await start();
    source.set('payments', 'web', 9);
    source.set('payments', 'ledger', 4);
    const so = ref('shop', { scaler: 'web', namespace: 'payments', scalerNamespace: 'payments', scaledObjectNamespace: 'payments' });
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: false, code: grpc.status.NOT_FOUND, details: 'no PredictiveScaler shop/web' });
    expect(await unary(client, 'GetMetrics', { scaledObjectRef: so, metricName: 'prescale-web' })).toMatchObject({ ok: false, code: grpc.status.NOT_FOUND });
    expect(await openStream(client, so).end()).toMatchObject({ code: grpc.status.NOT_FOUND });
    // Path-like names cannot climb out either.
    await invalid(client, ref('shop', { scaler: 'payments/ledger' }), /not a PredictiveScaler name/);
    await invalid(client, ref('shop', { scaler: '../payments/ledger' }), /not a PredictiveScaler name/);
    expect(new Set(source.lookups)).toEqual(new Set(['shop/web']));
    // The same scaler from its own namespace works.
    expect(await unary(client, 'IsActive', ref('payments', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
  });

  it('ignores unknown keys, prototype-looking ones included', async () => {
    const { client, source } = await start();
    source.set('shop', 'web', 5);
    const so = ref('shop', { __proto__: 'x', constructor: 'y', hasOwnProperty: 'z', caCert: '-----BEGIN CERTIFICATE-----', scaler: 'web' } as Record<string, string>);
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: true } });
    // A "scaler" that only an inherited property could supply is missing.
    expect(await unary(client, 'IsActive', ref('shop', { __proto__: 'scaler' } as Record<string, string>))).toMatchObject({
      ok: false,
      code: grpc.status.INVALID_ARGUMENT,
    });
  });

  it('refuses more metadata entries than the limit', async () => {
    const { client, source } = await start({ limits: { maxMetadataEntries: 8 } });
    source.set('shop', 'web', 5);
    const many = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`k${i}`, 'v']));
    await invalid(client, ref('shop', { ...many, scaler: 'web' }), /metadata has 10 entries; at most 8/);
    expect(await unary(client, 'IsActive', ref('shop', { k1: 'v', scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
  });
});

// ---- StreamIsActive --------------------------------------------------------------------------

describe('KEDA external scaler: StreamIsActive', () => {
  it('sends the current answer at once, then each change, and nothing for an unchanged one', async () => {
    const { client, source } = await start({ limits: { streamRepeatMs: 600_000 } });
    source.set('shop', 'web', 3);
    const stream = openStream(client, ref('shop', kedaMetadata('web')));
    await stream.next(1);
    expect(stream.received).toEqual([true]);

    source.set('shop', 'web', 0);
    await stream.next(2);
    expect(stream.received).toEqual([true, false]);

    // Unchanged activity (0 → 0), a change to another scaler, another namespace's same name: nothing.
    source.set('shop', 'web', 0);
    source.set('shop', 'api', 0);
    source.set('payments', 'web', 5);
    // 0 → 4 is a change: the next message is it, so nothing came in between.
    source.set('shop', 'web', 4);
    await stream.next(3);
    expect(stream.received).toEqual([true, false, true]);
    // 4 → 6: still active, nothing to send.
    source.set('shop', 'web', 6);
    source.set('shop', 'web', 0);
    await stream.next(4);
    expect(stream.received).toEqual([true, false, true, false]);
    expect(stream.ended()).toBeUndefined();
  });

  it('repeats the current answer periodically even when nothing changed', async () => {
    const { client, source } = await start({ limits: { streamRepeatMs: 40 } });
    source.set('shop', 'web', 2);
    const stream = openStream(client, ref('shop', { scaler: 'web' }));
    await stream.next(4);
    expect(new Set(stream.received)).toEqual(new Set([true]));
    // The repeat reads the current value, not the first one.
    source.values.set('shop/web', { ok: true, value: { namespace: 'shop', name: 'web', targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, desiredReplicas: 0 } });
    await eventually('a repeat with the new value', async () => stream.received.at(-1), (v) => v === false, DEADLINE_MS, 10);
  });

  it('leaves no listener and no timer behind when the client cancels', async () => {
    // The streams' repeat timers, told apart from grpc-js's own by their distinctive period.
    const PERIOD = 37;
    const created = new Set<unknown>();
    const cleared = new Set<unknown>();
    const realSetInterval = globalThis.setInterval;
    const realClearInterval = globalThis.clearInterval;
    const setSpy = vi.spyOn(globalThis, 'setInterval').mockImplementation(((fn: () => void, ms?: number) => {
      const t = realSetInterval(fn, ms);
      if (ms === PERIOD) created.add(t);
      return t;
    }) as typeof setInterval);
    const clearSpy = vi.spyOn(globalThis, 'clearInterval').mockImplementation(((t?: Parameters<typeof clearInterval>[0]) => {
      cleared.add(t);
      realClearInterval(t);
    }) as typeof clearInterval);
    try {
      await cancelLeavesNothing(PERIOD);
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
    expect(created.size).toBe(2);
    expect([...created].every((t) => cleared.has(t))).toBe(true);
  });

  async function cancelLeavesNothing(period: number) {
    const { client, source, requests } = await start({ limits: { streamRepeatMs: period } });
    source.set('shop', 'web', 2);
    source.set('shop', 'api', 2);
    expect(source.listeners.size).toBe(0);
    const a = openStream(client, ref('shop', { scaler: 'web' }));
    const b = openStream(client, ref('shop', { scaler: 'api' }));
    await a.next(1);
    await b.next(1);
    expect(source.listeners.size).toBe(1);
    a.call.cancel();
    await eventually('the first stream counted', async () => requests.filter(([m]) => m === 'StreamIsActive').length, (n) => n === 1, DEADLINE_MS, 10);
    expect(source.listeners.size).toBe(1);
    b.call.cancel();
    await eventually('no listener left', async () => source.listeners.size, (n) => n === 0, DEADLINE_MS, 10);
    expect(requests).toEqual([
      ['StreamIsActive', 'CANCELLED'],
      ['StreamIsActive', 'CANCELLED'],
    ]);
    // No timer left either: a cancelled stream never looks the scaler up again.
    const lookups = source.lookups.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(source.lookups.length).toBe(lookups);
  }

  it('ends the stream with the mapped status when the scaler stops being served, and unsubscribes', async () => {
    const { client, source, requests } = await start({ limits: { streamRepeatMs: 600_000 } });
    source.set('shop', 'web', 2);
    const stream = openStream(client, ref('shop', { scaler: 'web' }));
    await stream.next(1);
    source.set('shop', 'web', { ok: false, code: 'NotPublished', message: 'PredictiveScaler shop/web is not in mode Publish (mode Auto)' });
    expect(await stream.end()).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'PredictiveScaler shop/web is not in mode Publish (mode Auto)' });
    await eventually('no listener left', async () => source.listeners.size, (n) => n === 0, DEADLINE_MS, 10);
    expect(requests).toEqual([['StreamIsActive', 'FAILED_PRECONDITION']]);
  });

  it('caps the streams open at once with RESOURCE_EXHAUSTED, and admits again when one ends', async () => {
    const { client, source } = await start({ limits: { maxStreams: 3, streamRepeatMs: 600_000 } });
    source.set('shop', 'web', 1);
    const so = ref('shop', { scaler: 'web' });
    const open = [openStream(client, so), openStream(client, so), openStream(client, so)];
    for (const s of open) await s.next(1);
    const refused = openStream(client, so);
    expect(await refused.end()).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, details: expect.stringMatching(/at most 3/) });
    // Unary calls are not streams: still served.
    expect(await unary(client, 'IsActive', so)).toEqual({ ok: true, value: { result: true } });
    open[0]!.call.cancel();
    await open[0]!.end();
    await eventually(
      'a new stream admitted',
      async () => {
        const s = openStream(client, so);
        const got = await Promise.race([s.next(1).then(() => 'data'), s.end().then((e) => grpc.status[e.code])]);
        if (got !== 'data') throw new Error(got);
        s.call.cancel();
        return got;
      },
      (v) => v === 'data',
      DEADLINE_MS,
      20,
    );
  });

  it('close() ends the open streams cleanly and unsubscribes', async () => {
    const { server, client, source } = await start({ limits: { streamRepeatMs: 600_000 } });
    source.set('shop', 'web', 1);
    const stream = openStream(client, ref('shop', { scaler: 'web' }));
    await stream.next(1);
    await server.close();
    expect(await stream.end()).toMatchObject({ code: grpc.status.OK });
    expect(source.listeners.size).toBe(0);
    servers.splice(servers.indexOf(server), 1);
  });
});

// ---- hostile input ---------------------------------------------------------------------------

describe('KEDA external scaler: hostile input', () => {
  let shared: Started;
  beforeAll(async () => {
    shared = await start({ limits: { maxStreams: 50, streamRepeatMs: 600_000 } });
    shared.source.set('shop', 'web', 3);
    shared.source.set('shop', 'paused', { ok: false, code: 'NotPublished', message: 'not Publish' });
    shared.source.set('shop', 'new', { ok: false, code: 'NotReady', message: 'not ready' });
    // afterEach closes servers; this one lives for the describe block.
    servers.splice(servers.indexOf(shared.server), 1);
    clients.splice(clients.indexOf(shared.client), 1);
  });
  afterAll(async () => {
    shared.client.close();
    await shared.server.close();
  });

  it('refuses an over-size request with RESOURCE_EXHAUSTED and keeps serving', async () => {
    const { client } = shared;
    const big = ref('shop', { scaler: 'web', padding: 'x'.repeat(70 * 1024) });
    expect(await unary(client, 'IsActive', big)).toMatchObject({ ok: false, code: grpc.status.RESOURCE_EXHAUSTED });
    expect(await openStream(client, big).end()).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    expect(await unary(client, 'IsActive', ref('shop', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
  });

  it('answers every request, however odd, with a status from the allowed set, and keeps serving', async () => {
    const { client } = shared;
    const name = fc.oneof(
      fc.constantFrom('web', 'paused', 'new', 'missing', 'shop', '', 'Web', '..', 'a.b', '__proto__', 'constructor'),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.stringMatching(/^[a-z0-9][-a-z0-9.]{0,260}$/),
    );
    const namespace = fc.oneof(fc.constantFrom('shop', '', 'payments', 'SHOP', 'a'.repeat(64)), fc.string({ unit: 'binary', maxLength: 80 }));
    const metadata = fc.tuple(
      fc.dictionary(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constantFrom('scaler', '__proto__', 'namespace', 'toString')), fc.string({ unit: 'binary', maxLength: 40 }), {
        maxKeys: 140,
      }),
      fc.option(name, { nil: undefined }),
    ).map(([md, scaler]) => (scaler === undefined ? md : { ...md, scaler }));
    const request = fc.record({
      method: fc.constantFrom('IsActive', 'GetMetricSpec', 'GetMetrics', 'StreamIsActive', 'raw') as fc.Arbitrary<'IsActive' | 'GetMetricSpec' | 'GetMetrics' | 'StreamIsActive' | 'raw'>,
      namespace,
      metadata,
      metricName: fc.string({ unit: 'binary', maxLength: 30 }),
      raw: fc.uint8Array({ maxLength: 200 }),
      rawPath: fc.constantFrom('IsActive', 'GetMetricSpec', 'GetMetrics', 'StreamIsActive'),
    });
    const allowed = new Set([
      grpc.status.OK,
      grpc.status.INVALID_ARGUMENT,
      grpc.status.NOT_FOUND,
      grpc.status.FAILED_PRECONDITION,
      grpc.status.UNAVAILABLE,
    ]);
    // Bytes that are not a valid message fail to decode: grpc-js answers INTERNAL for those.
    const allowedRaw = new Set([...allowed, grpc.status.INTERNAL]);

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const so = { name: 'x', namespace: r.namespace, scalerMetadata: r.metadata };
        let code: grpc.status;
        if (r.method === 'raw') {
          code = await rawCall(client, r.rawPath, Buffer.from(r.raw));
          expect(allowedRaw).toContain(code);
          return;
        }
        if (r.method === 'StreamIsActive') {
          const s = openStream(client, so);
          const first = await Promise.race([s.next(1).then(() => grpc.status.OK), s.end().then((e) => e.code)]);
          s.call.cancel();
          code = first;
        } else {
          const result = await unary(client, r.method, r.method === 'GetMetrics' ? { scaledObjectRef: so, metricName: r.metricName } : so);
          code = result.ok ? grpc.status.OK : result.code;
        }
        expect(allowed).toContain(code);
      }),
      { numRuns: 150 },
    );
    expect(await unary(client, 'IsActive', ref('shop', { scaler: 'web' }))).toEqual({ ok: true, value: { result: true } });
    await eventually('every property stream closed', async () => shared.source.listeners.size, (n) => n === 0, DEADLINE_MS, 10);
  });
});

/** A call with arbitrary bytes as its request message; resolves with the status code. */
function rawCall(client: grpc.Client, method: string, bytes: Buffer): Promise<grpc.status> {
  const path = `/externalscaler.ExternalScaler/${method}`;
  const identity = (b: Buffer) => b;
  const options = { deadline: Date.now() + DEADLINE_MS };
  if (method === 'StreamIsActive') {
    return new Promise((resolve) => {
      const call = client.makeServerStreamRequest(path, identity, identity, bytes, options);
      call.on('data', () => call.cancel());
      call.on('error', (e: grpc.ServiceError) => resolve(e.code === grpc.status.CANCELLED ? grpc.status.OK : e.code));
      call.on('status', (s: grpc.StatusObject) => resolve(s.code));
    });
  }
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, bytes, options, (err) => resolve(err ? err.code : grpc.status.OK));
  });
}
