// The metrics endpoint and the health/readiness probes, each on its own bind address.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** A probe failure with a reason shown in the 503 body. */
export interface ProbeFailure {
  reason: string;
}

/** `true` passes; `false` or a ProbeFailure fails; a throw fails with the error's message. */
export type ProbeCheck = () => boolean | ProbeFailure;

export interface HttpServersOptions {
  /** "host:port", ":port" (every interface), "[::1]:port", or "0" to disable. */
  metricsAddress: string;
  probeAddress: string;
  registry: Registry;
  isReady: ProbeCheck;
  isHealthy: ProbeCheck;
  logger: Logger;
}

export interface BoundAddress {
  host: string;
  port: number;
}

export interface HttpServers {
  /** Where /metrics listens, undefined when disabled. */
  metrics: BoundAddress | undefined;
  /** Where /healthz and /readyz listen, undefined when disabled. */
  probes: BoundAddress | undefined;
  close(): Promise<void>;
}

export interface ListenAddress {
  /** undefined means every interface. */
  host: string | undefined;
  port: number;
}

/** Parses a bind address; returns undefined for "0", which disables the server. */
export function parseBindAddress(address: string): ListenAddress | undefined {
  const trimmed = address.trim();
  if (trimmed === '0') return undefined;
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(trimmed);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port > 65535) {
    throw new Error(`invalid bind address "${address}": expected host:port, :port, [ipv6]:port or 0 to disable`);
  }
  const host = match[1] ?? (match[2] === '' ? undefined : match[2]);
  return { host, port };
}

type Routes = Record<string, (response: ServerResponse) => Promise<void> | void>;

export async function startHttpServers(options: HttpServersOptions): Promise<HttpServers> {
  const { registry, logger } = options;
  const metricsListen = parseBindAddress(options.metricsAddress);
  const probeListen = parseBindAddress(options.probeAddress);

  const metricsRoutes: Routes = {
    '/metrics': async (response) => {
      const body = await registry.metrics();
      response.writeHead(200, { 'Content-Type': registry.contentType });
      response.end(body);
    },
  };
  const probeRoutes: Routes = {
    '/healthz': (response) => answerProbe(response, options.isHealthy),
    '/readyz': (response) => answerProbe(response, options.isReady),
  };

  const started: Array<{ server: Server; address: BoundAddress }> = [];
  try {
    const metrics = metricsListen && (await listen(metricsListen, metricsRoutes, logger));
    if (metrics) started.push(metrics);
    const probes = probeListen && (await listen(probeListen, probeRoutes, logger));
    if (probes) started.push(probes);
    if (metrics) logger.info({ address: metrics.address }, 'serving metrics');
    if (probes) logger.info({ address: probes.address }, 'serving health probes');
    let closing: Promise<void> | undefined;
    return {
      metrics: metrics ? metrics.address : undefined,
      probes: probes ? probes.address : undefined,
      close: () => (closing ??= closeAll(started.map((s) => s.server))),
    };
  } catch (error) {
    await closeAll(started.map((s) => s.server));
    throw error;
  }
}

function answerProbe(response: ServerResponse, check: ProbeCheck): void {
  let result: boolean | ProbeFailure;
  try {
    result = check();
  } catch (error) {
    result = { reason: error instanceof Error ? error.message : String(error) };
  }
  const headers = { 'Content-Type': 'text/plain; charset=utf-8' };
  if (result === true) {
    response.writeHead(200, headers);
    response.end('ok');
    return;
  }
  response.writeHead(503, headers);
  response.end(result === false ? 'not ok' : result.reason);
}

function listen(
  address: ListenAddress,
  routes: Routes,
  logger: Logger,
): Promise<{ server: Server; address: BoundAddress }> {
  const server = createServer((request, response) => {
    void route(request, response, routes, logger);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      resolve({ server, address: { host: bound.address, port: bound.port } });
    });
  });
}

async function route(request: IncomingMessage, response: ServerResponse, routes: Routes, logger: Logger) {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const handler = routes[path];
  if (handler === undefined || !Object.hasOwn(routes, path)) {
    response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('not found');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('method not allowed');
    return;
  }
  try {
    await handler(response);
  } catch (error) {
    logger.error({ err: error, path }, 'HTTP handler failed');
    if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('internal error');
  }
}

function closeAll(servers: Server[]): Promise<void> {
  return Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve, reject) => {
          server.close((error) => (error ? reject(error) : resolve()));
          // Prometheus scrapes use keep-alive; idle sockets would otherwise hold close() open.
          server.closeIdleConnections();
        }),
    ),
  ).then(() => undefined);
}
