import { request as httpsRequest } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../../src/observability/logger.js';
import type { AccessVerdict } from '../../../src/observability/metrics-auth.js';
import { createOperatorMetrics } from '../../../src/observability/metrics.js';
import { selfSignedCertificate } from '../../../src/observability/self-signed-cert.js';
import { eventually } from '../../helpers/eventually.js';
import { rawExchange } from '../../helpers/raw-http.js';
import {
  parseBindAddress,
  requestPath,
  startHttpServers,
  type HttpServers,
  type HttpServersOptions,
  type ProbeCheck,
} from '../../../src/observability/server.js';

const logger = createLogger({ level: 'silent' });
const opened: HttpServers[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

async function start(overrides: Partial<HttpServersOptions> = {}) {
  const servers = await startHttpServers({
    metricsAddress: '127.0.0.1:0',
    probeAddress: '127.0.0.1:0',
    registry: new Registry(),
    isReady: () => true,
    isHealthy: () => true,
    logger,
    ...overrides,
  });
  opened.push(servers);
  return servers;
}

const url = (address: { port: number } | undefined, path: string) => `http://127.0.0.1:${address!.port}${path}`;

describe('parseBindAddress', () => {
  it('parses host:port, :port and [ipv6]:port, and treats "0" as disabled', () => {
    expect(parseBindAddress(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseBindAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseBindAddress('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
    expect(parseBindAddress('localhost:8081')).toEqual({ host: 'localhost', port: 8081 });
    expect(parseBindAddress('0')).toBeUndefined();
  });

  it('rejects malformed addresses with a clear message', () => {
    for (const bad of ['8080', 'host', ':', ':99999', '1.2.3.4:http', '::1:80']) {
      expect(() => parseBindAddress(bad), bad).toThrow(/invalid bind address/);
    }
  });
});

describe('startHttpServers', () => {
  it('serves /metrics with the prom-client content type on the metrics address only', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry).leader.set(1);
    const servers = await start({ registry });
    expect(servers.metrics!.port).toBeGreaterThan(0);
    expect(servers.probes!.port).not.toBe(servers.metrics!.port);

    const response = await fetch(url(servers.metrics, '/metrics'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(registry.contentType);
    expect(await response.text()).toMatch(/^prescale_leader 1$/m);

    expect((await fetch(url(servers.probes, '/metrics'))).status).toBe(404);
    expect((await fetch(url(servers.metrics, '/healthz'))).status).toBe(404);
    expect((await fetch(url(servers.metrics, '/metrics'), { method: 'POST' })).status).toBe(405);
  });

  it('answers the probes from the callbacks as they change', async () => {
    let ready: ReturnType<ProbeCheck> = false;
    let healthy: ReturnType<ProbeCheck> = true;
    const servers = await start({ isReady: () => ready, isHealthy: () => healthy });
    const probe = async (path: string) => {
      const response = await fetch(url(servers.probes, path));
      return [response.status, await response.text()] as const;
    };

    expect(await probe('/readyz')).toEqual([503, 'not ok']);
    expect(await probe('/healthz')).toEqual([200, 'ok']);

    ready = true;
    expect(await probe('/readyz')).toEqual([200, 'ok']);

    ready = { reason: 'informer caches not synced' };
    expect(await probe('/readyz')).toEqual([503, 'informer caches not synced']);

    healthy = false;
    expect(await probe('/healthz')).toEqual([503, 'not ok']);
    expect(await probe('/healthz?verbose')).toEqual([503, 'not ok']);
  });

  it('fails a probe whose callback throws, with the error message', async () => {
    const servers = await start({
      isHealthy: () => {
        throw new Error('watch stalled');
      },
    });
    const response = await fetch(url(servers.probes, '/healthz'));
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('watch stalled');
  });

  it('does not listen on a disabled address', async () => {
    const servers = await start({ metricsAddress: '0' });
    expect(servers.metrics).toBeUndefined();
    expect(servers.probes).toBeDefined();
    expect((await fetch(url(servers.probes, '/readyz'))).status).toBe(200);
  });

  it('closes both servers so their ports stop answering, and close is idempotent', async () => {
    const servers = await start();
    await fetch(url(servers.metrics, '/metrics'));
    await servers.close();
    await servers.close();
    await expect(fetch(url(servers.metrics, '/metrics'))).rejects.toThrow();
    await expect(fetch(url(servers.probes, '/healthz'))).rejects.toThrow();
  });

  it('rejects when a port is taken', async () => {
    const first = await start({ probeAddress: '0' });
    const taken = `127.0.0.1:${first.metrics!.port}`;
    await expect(start({ metricsAddress: '127.0.0.1:0', probeAddress: taken })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('requestPath', () => {
  it('takes the path of an origin-form target and drops the query', () => {
    expect(requestPath('/metrics')).toBe('/metrics');
    expect(requestPath('/healthz?verbose')).toBe('/healthz');
    expect(requestPath('/readyz#x')).toBe('/readyz');
    expect(requestPath('/')).toBe('/');
  });

  it('refuses every other form of request target', () => {
    for (const bad of [undefined, '', '//', '//metrics', 'http://x/', 'https://127.0.0.1/metrics', '*', 'localhost:8080', 'metrics', '/metrics\\x']) {
      expect(requestPath(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('startHttpServers against hostile clients', () => {
  const request = (port: number, text: string | Buffer, waitMs = 2000) => rawExchange(port, { chunks: [text], waitMs });
  const healthz = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';

  async function stillServing(servers: HttpServers) {
    expect((await fetch(url(servers.probes, '/healthz'))).status).toBe(200);
    expect((await fetch(url(servers.metrics, '/metrics'))).status).toBe(200);
  }

  it('answers malformed request targets and request lines with 400 and keeps serving', async () => {
    const servers = await start();
    for (const port of [servers.metrics!.port, servers.probes!.port]) {
      for (const line of ['GET // HTTP/1.1', 'GET //metrics HTTP/1.1', 'GET http://x/ HTTP/1.1', 'GET http://x/healthz HTTP/1.1', 'GET * HTTP/1.1', 'OPTIONS * HTTP/1.1', 'GET /healthz HTTP/9.9', 'GARBAGE', 'GET /he\x01lthz HTTP/1.1']) {
        const answer = await request(port, `${line}\r\nHost: x\r\n\r\n`);
        expect(answer.statuses, JSON.stringify(line)).toEqual([400]);
        expect(answer.closedByServer, JSON.stringify(line)).toBe(true);
      }
    }
    await stillServing(servers);
  });

  it('answers binary garbage, a missing Host and a bad header with 400', async () => {
    const servers = await start();
    const port = servers.probes!.port;
    expect((await request(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a]))).statuses).toEqual([400]);
    expect((await request(port, 'GET /healthz HTTP/1.1\r\n\r\n')).statuses).toEqual([400]);
    expect((await request(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n')).statuses).toEqual([400]);
    expect((await request(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n')).statuses).toEqual([400]);
    await stillServing(servers);
  });

  it('answers headers beyond the size limit with 431, and ignores headers beyond the count limit', async () => {
    const servers = await start();
    const port = servers.probes!.port;
    const long = await request(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Long: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(long.statuses).toEqual([431]);
    const longTarget = await request(port, `GET /${'a'.repeat(64 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(longTarget.statuses).toEqual([431]);
    const many = Array.from({ length: 500 }, (_, i) => `X-H${i}: v\r\n`).join('');
    expect((await request(port, `GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${many}\r\n`)).statuses).toEqual([200]);
    await stillServing(servers);
  });

  it('answers a request with a body without reading it, then closes the connection', async () => {
    const servers = await start();
    const port = servers.probes!.port;
    // Declares 1 GiB, sends a few bytes: the answer comes at once and the connection is closed.
    const answer = await request(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\nabc', 5000);
    expect(answer.statuses).toEqual([200]);
    expect(answer.closedByServer).toBe(true);
    const chunked = await request(port, 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', 5000);
    expect(chunked.statuses).toEqual([405]);
    expect(chunked.closedByServer).toBe(true);
  });

  it('answers "Expect: 100-continue" with the final status, never inviting the body', async () => {
    const servers = await start();
    const answer = await request(servers.probes!.port, 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nExpect: 100-continue\r\n\r\n');
    expect(answer.statuses).toEqual([405]);
    expect(answer.closedByServer).toBe(true);
  });

  it('keeps serving pipelined and keep-alive requests after a bad one on another connection', async () => {
    const servers = await start();
    const port = servers.probes!.port;
    const pipelined = await rawExchange(port, { chunks: [healthz + healthz + 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'], waitMs: 2000 });
    expect(pipelined.statuses).toEqual([200, 200, 200]);
    // A bad request after good ones on the same connection: the good answers stand, then 400.
    const mixed = await rawExchange(port, { chunks: [healthz + 'GET // HTTP/1.1\r\nHost: x\r\n\r\n' + healthz], waitMs: 2000 });
    expect(mixed.statuses).toEqual([200, 400]);
    expect(mixed.closedByServer).toBe(true);
  });

  it('closes a connection whose headers never finish (slowloris)', async () => {
    const servers = await start({ limits: { headersTimeoutMs: 200, requestTimeoutMs: 400 } });
    const slow = await rawExchange(servers.probes!.port, { chunks: ['GET /healthz HTTP/1.1\r\n', 'Host: x\r\n', 'X-A: b\r\n'], waitMs: 10_000 });
    expect(slow.closedByServer).toBe(true);
    expect(slow.statuses.every((s) => s === 408)).toBe(true);
    await stillServing(servers);
  });

  it('refuses connections beyond the cap and serves again once they are gone', async () => {
    const servers = await start({ limits: { maxConnections: 3 } });
    const port = servers.probes!.port;
    // Three idle connections (headers unfinished) fill the server.
    const holders = Array.from({ length: 3 }, () => rawExchange(port, { chunks: ['GET /healthz HTTP/1.1\r\n'], waitMs: 1500 }));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await request(port, healthz, 1000);
    expect(refused.statuses).toEqual([]);
    expect(refused.closedByServer).toBe(true);
    await Promise.all(holders);
    // The server counts a connection gone once it has seen the close.
    await eventually('a connection slot', () => request(port, healthz), (answer) => answer.statuses[0] === 200, 5000, 50);
  });

  it('answers 500 when the registry fails, and keeps serving', async () => {
    const registry = new Registry();
    registry.metrics = () => Promise.reject(new Error('collector broke'));
    const servers = await start({ registry });
    const response = await fetch(url(servers.metrics, '/metrics'));
    expect(response.status).toBe(500);
    expect((await fetch(url(servers.probes, '/healthz'))).status).toBe(200);
  });
});

describe('startHttpServers with secure metrics', () => {
  const { cert, key } = selfSignedCertificate({ commonName: 'prescale-metrics', hosts: ['localhost', '127.0.0.1'], notBefore: new Date(Date.now() - 60_000), validForMs: 3600_000 });
  const verdicts: Record<string, AccessVerdict> = {
    'Bearer reader': { status: 200, user: 'reader' },
    'Bearer stranger': { status: 403, message: 'Forbidden: user "stranger" may not get /metrics' },
  };
  const authorize = async (header: string | undefined): Promise<AccessVerdict> =>
    (header !== undefined && verdicts[header]) || { status: 401, message: 'Unauthorized: the token was not accepted' };

  function get(port: number, path: string, authorization?: string) {
    return new Promise<{ status: number; body: string; authenticate?: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, ca: cert, servername: 'localhost', headers: authorization ? { Authorization: authorization } : {} }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body, authenticate: res.headers['www-authenticate'] }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves /metrics over HTTPS only to requests the authorizer lets through', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry).leader.set(1);
    const servers = await start({ registry, secureMetrics: { cert, key, authorize } });
    const port = servers.metrics!.port;
    const allowed = await get(port, '/metrics', 'Bearer reader');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatch(/^prescale_leader 1$/m);
    expect(await get(port, '/metrics', 'Bearer stranger')).toMatchObject({ status: 403, body: 'Forbidden: user "stranger" may not get /metrics' });
    expect(await get(port, '/metrics')).toMatchObject({ status: 401, authenticate: 'Bearer' });
    expect(await get(port, '/metrics', 'Bearer garbage')).toMatchObject({ status: 401 });
    expect((await get(port, '//')).status).toBe(400);
    // The probes stay plain HTTP, unauthenticated, as the kubelet expects.
    expect((await fetch(url(servers.probes, '/healthz'))).status).toBe(200);
  });

  it('drops plain HTTP and garbage on the HTTPS port, and keeps serving', async () => {
    const servers = await start({ secureMetrics: { cert, key, authorize } });
    const port = servers.metrics!.port;
    const plain = await rawExchange(port, { chunks: ['GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n'], waitMs: 5000 });
    expect(plain.closedByServer).toBe(true);
    expect(plain.statuses).toEqual([]);
    const garbage = await rawExchange(port, { chunks: [Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00])], waitMs: 5000, endAfterWrite: true });
    expect(garbage.closedByServer).toBe(true);
    expect((await get(port, '/metrics', 'Bearer reader')).status).toBe(200);
  });
});
