// The metrics endpoint and the health/readiness probes, each on its own bind address. Both ports face
// whatever can reach the pod: every request is bounded in size, time and number, and nothing a client
// sends can throw out of a handler.

import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import type { AccessVerdict } from './metrics-auth.js';

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
  /** --metrics-secure: /metrics over HTTPS, each request let through only when this allows it. */
  secureMetrics?: SecureMetrics;
  /** Overrides of the connection limits (tests). */
  limits?: Partial<ConnectionLimits>;
}

export interface SecureMetrics {
  /** PEM certificate chain and private key. */
  cert: string;
  key: string;
  /** The verdict for a request's Authorization header. */
  authorize(authorization: string | undefined): Promise<AccessVerdict>;
}

/** What one client can hold: applied to each server separately. */
export interface ConnectionLimits {
  /** Connections open at once; further ones are closed at accept. */
  maxConnections: number;
  /** Request line and headers must arrive within this (slowloris). */
  headersTimeoutMs: number;
  /** The whole request must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is closed after this. */
  idleTimeoutMs: number;
  /** Headers parsed per request; the rest are dropped. */
  maxHeadersCount: number;
  /** Bytes of request line plus headers; more gets 431. */
  maxHeaderSize: number;
  /** Requests served on one keep-alive connection before it is closed. */
  maxRequestsPerSocket: number;
  /** The TLS handshake must finish within this. */
  tlsHandshakeTimeoutMs: number;
}

// Prometheus scrapes and kubelet probes need a handful of connections and finish in milliseconds;
// these leave ample room for them and none for a client that tries to hold the port.
export const DEFAULT_LIMITS: ConnectionLimits = {
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 15_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  maxHeadersCount: 64,
  maxHeaderSize: 16 * 1024,
  maxRequestsPerSocket: 1000,
  tlsHandshakeTimeoutMs: 10_000,
};

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

export type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;
/** Handlers by exact path, or a function finding the handler of a path (undefined: 404). */
export type Routes = Record<string, Handler> | ((path: string) => Handler | undefined);

export async function startHttpServers(options: HttpServersOptions): Promise<HttpServers> {
  const { registry, logger, secureMetrics } = options;
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const metricsListen = parseBindAddress(options.metricsAddress);
  const probeListen = parseBindAddress(options.probeAddress);

  const metricsRoutes: Routes = {
    '/metrics': async (request, response) => {
      if (secureMetrics) {
        const verdict = await secureMetrics.authorize(request.headers.authorization);
        if (verdict.status !== 200) {
          const headers: Record<string, string> = verdict.status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {};
          answer(response, verdict.status, verdict.message, headers);
          return;
        }
      }
      const body = await registry.metrics();
      response.writeHead(200, { 'Content-Type': registry.contentType });
      response.end(body);
    },
  };
  const probeRoutes: Routes = {
    '/healthz': (_request, response) => answerProbe(response, options.isHealthy),
    '/readyz': (_request, response) => answerProbe(response, options.isReady),
  };

  const started: HttpServer[] = [];
  try {
    const metricsServer = () =>
      secureMetrics
        ? createHttpsServer({ ...serverOptions(limits), cert: secureMetrics.cert, key: secureMetrics.key, handshakeTimeout: limits.tlsHandshakeTimeoutMs })
        : createHttpServer(serverOptions(limits));
    const metrics = metricsListen && (await listen(metricsServer(), metricsListen, metricsRoutes, limits, logger, started));
    const probes = probeListen && (await listen(createHttpServer(serverOptions(limits)), probeListen, probeRoutes, limits, logger, started));
    if (metrics) logger.info({ address: metrics, tls: secureMetrics !== undefined, authenticated: secureMetrics !== undefined }, 'serving metrics');
    if (probes) logger.info({ address: probes }, 'serving health probes');
    let closing: Promise<void> | undefined;
    return {
      metrics: metrics || undefined,
      probes: probes || undefined,
      close: () => (closing ??= closeAll(started)),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

export function serverOptions(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    maxHeaderSize: limits.maxHeaderSize,
    // How often Node checks headersTimeout and requestTimeout; its default (30 s) would let a
    // slowloris client hold a connection three times longer than headersTimeout says.
    connectionsCheckingInterval: Math.max(250, Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4),
  };
}

function answerProbe(response: ServerResponse, check: ProbeCheck): void {
  let result: boolean | ProbeFailure;
  try {
    result = check();
  } catch (error) {
    result = { reason: error instanceof Error ? error.message : String(error) };
  }
  if (result === true) answer(response, 200, 'ok');
  else answer(response, 503, result === false ? 'not ok' : result.reason);
}

export function answer(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

/** Serves `routes` hardened by `limits`; `headers` go on every answer, the error answers included. */
export function listen(
  server: HttpServer,
  address: ListenAddress,
  routes: Routes,
  limits: ConnectionLimits,
  logger: Logger,
  started: HttpServer[],
  headers: Record<string, string> = {},
): Promise<BoundAddress> {
  server.maxConnections = limits.maxConnections;
  server.maxHeadersCount = limits.maxHeadersCount;
  server.maxRequestsPerSocket = limits.maxRequestsPerSocket;
  server.timeout = limits.idleTimeoutMs;
  // Sockets with a response under way: a parse error on them must not be answered with raw bytes
  // in the middle of that response.
  const responding = new WeakSet<Duplex>();
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const socket = request.socket;
    responding.add(socket);
    response.once('close', () => responding.delete(socket));
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
    route(request, response, routes, logger).catch((error: unknown) => {
      logger.error({ err: error }, 'HTTP request handling failed');
      response.destroy();
    });
  };
  server.on('request', onRequest);
  // "Expect: 100-continue" gets the final answer straight away, never the invitation to send a
  // body no route reads (Node would send "100 Continue" without this listener).
  server.on('checkContinue', onRequest);
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket, responding.has(socket), logger));
  // A failed TLS handshake (plain HTTP to the HTTPS port, garbage, a timeout): https.Server
  // already destroys the socket; the listener only keeps the error out of the default logging.
  server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    logger.debug({ code: error.code }, 'TLS handshake failed');
    socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      started.push(server);
      // Errors after listening (EMFILE on accept, for one) must not go unhandled.
      server.on('error', (error) => logger.error({ err: error }, 'HTTP server error'));
      const bound = server.address() as AddressInfo;
      resolve({ host: bound.address, port: bound.port });
    });
  });
}

// Node's parser rejected the request (bad request line, header overflow, timeout) or the socket
// broke. Answer with a status when nothing was sent on the socket yet, then drop the connection.
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, responding: boolean, logger: Logger): void {
  // The parser may report more than one error for the same bytes; the first answer stands.
  if (socket.writableEnded) return;
  logger.debug({ code: error.code }, 'malformed HTTP request');
  const status = clientErrorStatus(error.code);
  if (status !== undefined && socket.writable && !responding) {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    // end() flushes, then closes; a client that never reads must not keep the socket open.
    setTimeout(() => socket.destroy(), 1000).unref();
    return;
  }
  socket.destroy();
}

function clientErrorStatus(code: string | undefined): string | undefined {
  switch (code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return '431 Request Header Fields Too Large';
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return '408 Request Timeout';
    default:
      return '400 Bad Request';
  }
}

/**
 * The path of an origin-form request target ("/path?query"), or undefined for anything else:
 * absolute-form ("http://host/"), authority-form, "*", a scheme-relative "//" path, or no target.
 */
export function requestPath(target: string | undefined): string | undefined {
  if (target === undefined || !target.startsWith('/') || target.startsWith('//')) return undefined;
  const end = target.search(/[?#]/);
  const path = end === -1 ? target : target.slice(0, end);
  // The parser already refuses control characters and spaces; a backslash is a path some clients
  // and proxies treat as "/", so it is not a path this server knows.
  return path.includes('\\') ? undefined : path;
}

async function route(request: IncomingMessage, response: ServerResponse, routes: Routes, logger: Logger): Promise<void> {
  // No route reads a body: one that was sent is left unread and the connection closed after the
  // answer, so a client cannot make the server read (or keep) a large upload.
  if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) {
    response.shouldKeepAlive = false;
  }
  const path = requestPath(request.url);
  if (path === undefined) {
    response.shouldKeepAlive = false;
    answer(response, 400, 'bad request: the request target must be a path such as /metrics');
    return;
  }
  const handler = typeof routes === 'function' ? routes(path) : Object.hasOwn(routes, path) ? routes[path] : undefined;
  if (handler === undefined) {
    answer(response, 404, 'not found');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    answer(response, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    return;
  }
  try {
    await handler(request, response);
  } catch (error) {
    logger.error({ err: error, path }, 'HTTP handler failed');
    if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
    response.end('internal error');
  }
}

export function closeAll(servers: HttpServer[]): Promise<void> {
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
