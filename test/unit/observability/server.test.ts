import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../../src/observability/logger.js';
import { createOperatorMetrics } from '../../../src/observability/metrics.js';
import {
  parseBindAddress,
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
