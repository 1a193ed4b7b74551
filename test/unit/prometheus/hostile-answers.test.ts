// What a server at a Prometheus URL can send to hurt the operator: bombs, floods, redirects,
// tarpits and crafted error texts. Each ends in a bounded, classified error.
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../src/prometheus/circuit-breaker.js';
import { PrometheusClient, type PrometheusClientOptions } from '../../../src/prometheus/client.js';
import {
  PrometheusQueryError,
  PrometheusRedirectError,
  PrometheusResponseTooLargeError,
  PrometheusTooManySeriesError,
  PrometheusUnavailableError,
} from '../../../src/prometheus/errors.js';
import { freePort } from '../../helpers/prometheus.js';
import { matrix, sendJson, startFakePrometheus, type FakePrometheus } from './fake-prometheus.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

let fake: FakePrometheus;
beforeEach(async () => {
  fake = await startFakePrometheus();
});
afterEach(async () => {
  await fake.close();
});

function client(options: Partial<PrometheusClientOptions> = {}): PrometheusClient {
  return new PrometheusClient({ baseUrl: fake.url, retries: 0, sleep: async () => {}, ...options });
}

const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as Error);

describe('answers too large to read', () => {
  it('stops inflating a gzip bomb at the decompressed limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end(bomb);
    });
    const error = await failure(client({ maxResponseBytes: 1024 * 1024 }).queryRange('m', START, START, MINUTE));
    expect(error).toBeInstanceOf(PrometheusResponseTooLargeError);
    expect(error!.message).toMatch(/decompressed answer exceeds the limit \(1 MiB on the wire, 1 MiB decompressed\).*aggregate the query with sum\(\)/);
  });

  it('refuses a body that declares more bytes than the limit, and one that streams past it', async () => {
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(2 * 1024 * 1024) });
      res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
    });
    expect(await failure(client({ maxResponseBytes: 1024 * 1024 }).queryRange('m', START, START, MINUTE))).toBeInstanceOf(PrometheusResponseTooLargeError);
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const timer = setInterval(() => res.write(chunk), 1);
      res.on('close', () => clearInterval(timer));
    });
    const error = await failure(client({ maxResponseBytes: 1024 * 1024 }).queryRange('m', START, START, MINUTE));
    expect(error).toBeInstanceOf(PrometheusResponseTooLargeError);
  });

  it('asks to aggregate a query that returns more series than the limit', async () => {
    const series = Array.from({ length: 51 }, (_, i) => ({ metric: { pod: `p${i}` }, values: [[START / 1000, '1']] as [number, string][] }));
    fake.handle((_req, res) => sendJson(res, 200, matrix(series)));
    const error = await failure(client().queryRangeSeries('up', START, START, MINUTE));
    expect(error).toBeInstanceOf(PrometheusTooManySeriesError);
    expect(error!.message).toMatch(/returns 51 series \(at most 50 are read\): aggregate it with sum\(\)/);
    fake.handle((_req, res) => sendJson(res, 200, matrix(series.slice(0, 50))));
    await expect(client().queryRangeSeries('up', START, START, MINUTE)).resolves.toMatchObject({ values: [50] });
  });

  it('reports a corrupt or unknown content encoding', async () => {
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
      res.end('this is not gzip');
    });
    expect((await failure(client().queryRange('m', START, START, MINUTE)))!.message).toMatch(/compressed answer is corrupt/);
    fake.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'zstd-from-mars' });
      res.end('{}');
    });
    expect((await failure(client().queryRange('m', START, START, MINUTE)))!.message).toMatch(/unsupported Content-Encoding/);
  });
});

describe('redirects and remote text', () => {
  it('does not follow a redirect and says to name the final address', async () => {
    fake.handle((req, res) => {
      res.writeHead(302, { Location: `${fake.url}/elsewhere${req.path}` });
      res.end('moved');
    });
    const error = await failure(client({ retries: 3 }).queryRange('m', START, START, MINUTE));
    expect(error).toBeInstanceOf(PrometheusRedirectError);
    expect(error!.message).toMatch(/answered with a redirect \(HTTP 302\); redirects are not followed/);
    expect(error!.message).not.toContain('elsewhere');
    expect(fake.requests).toHaveLength(1);
  });

  it('shows only a short, cleaned excerpt of a server error text and never a non-Prometheus body', async () => {
    fake.handle((_req, res) => sendJson(res, 400, { status: 'error', errorType: 'bad_data', error: `parse error\u0000\u001b[31m\n${'x'.repeat(10_000)}` }));
    const error = await failure(client().queryRange('m', START, START, MINUTE));
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect(error!.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error!.message.length).toBeLessThan(260);
    fake.handle((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/html' });
      res.end('<html>secret internal page: db password hunter2</html>');
    });
    const other = await failure(client().queryRange('m', START, START, MINUTE));
    expect(other!.message).toBe('Prometheus rejected the query: HTTP 400 without a Prometheus error message');
  });
});

describe('deadlines and the circuit breaker', () => {
  it('gives up at the caller\'s deadline instead of retrying a tarpit', async () => {
    fake.handle(() => {
      // never answers
    });
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 10_000, retries: 3 }).queryRange('m', START, START, MINUTE, { signal: AbortSignal.timeout(200) }));
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect(error!.message).toMatch(/reconcile deadline passed.*\(after 1 attempt\)/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(fake.requests.length).toBeLessThanOrEqual(1);
  });

  it('fails fast while a server is known to hold calls, probes once after the cool-down, and closes on an answer', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ now: () => now, baseOpenMs: 30_000 });
    let answering = false;
    fake.handle((_req, res) => {
      if (answering) sendJson(res, 200, matrix([]));
      // else: never answers
    });
    const slow = client({ timeoutMs: 100, breaker });
    expect((await failure(slow.queryRange('m', START, START, MINUTE)))!.message).toMatch(/no answer within 100 ms \(after 1 attempt\)/);

    const sameServer = client({ timeoutMs: 100, breaker });
    now = 10_000;
    const fast = await failure(sameServer.queryRange('m', START, START, MINUTE));
    expect(fast).toBeInstanceOf(PrometheusUnavailableError);
    expect(fast!.message).toMatch(/not tried: the last call failed \(no answer within 100 ms\); next attempt in 20s \(after 0 attempts\)/);
    expect(fake.requests).toHaveLength(1);

    // After the cool-down one probe goes out; it fails, and the next cool-down is twice as long.
    now = 30_000;
    expect((await failure(slow.queryRange('m', START, START, MINUTE)))!.message).toMatch(/no answer within/);
    now = 60_000;
    expect((await failure(slow.queryRange('m', START, START, MINUTE)))!.message).toMatch(/next attempt in 30s/);
    expect(fake.requests).toHaveLength(2);

    // A server that answers again closes the circuit.
    answering = true;
    now = 90_000;
    await expect(slow.queryRange('m', START, START, MINUTE)).resolves.toMatchObject({ series: [] });
    await expect(sameServer.queryRange('m', START, START, MINUTE)).resolves.toMatchObject({ series: [] });
    expect(fake.requests).toHaveLength(4);
  });

  it('keeps the circuit closed for fast failures, so a restarted server is read at the next call', async () => {
    const breaker = new CircuitBreaker({ now: () => 0 });
    const port = await freePort();
    const refused = client({ baseUrl: `http://127.0.0.1:${port}`, breaker });
    expect((await failure(refused.queryRange('m', START, START, MINUTE)))!.message).toMatch(/connection refused \(after 1 attempt\)/);
    expect((await failure(refused.queryRange('m', START, START, MINUTE)))!.message).toMatch(/connection refused \(after 1 attempt\)/);
    fake.handle((_req, res) => sendJson(res, 503, { status: 'error', error: 'overloaded' }));
    const failing = client({ breaker });
    await failure(failing.queryRange('m', START, START, MINUTE));
    await failure(failing.queryRange('m', START, START, MINUTE));
    expect(fake.requests).toHaveLength(2);
    expect(breaker.admit()).toEqual({ admitted: true });
  });

  it('lets one probe through at a time', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ now: () => now });
    breaker.failure('timeout');
    now = 31_000;
    expect(breaker.admit()).toEqual({ admitted: true });
    expect(breaker.admit()).toMatchObject({ admitted: false });
    breaker.success();
    expect(breaker.admit()).toEqual({ admitted: true });
    expect(breaker.admit()).toEqual({ admitted: true });
  });

  it('caps the cool-down', () => {
    let now = 0;
    const breaker = new CircuitBreaker({ now: () => now, baseOpenMs: 1000, maxOpenMs: 5000 });
    for (let i = 0; i < 100; i++) breaker.failure('x');
    now = 5000;
    expect(breaker.admit()).toEqual({ admitted: true });
  });
});
