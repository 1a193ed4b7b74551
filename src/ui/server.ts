// The web view (--ui-bind-address): a read-only HTTP server with the page, its assets (shipped in
// the package, no CDN), the scaler list and chart series as JSON, and server-sent events that tell
// the page when a scaler was reconciled. Hardened as the metrics server is (src/observability/server.ts):
// GET and HEAD only, bounded requests, connections and live clients; a Content-Security-Policy that
// admits nothing but this origin.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { PredictiveScaler } from '../api/types.js';
import type { Logger } from '../observability/logger.js';
import {
  answer,
  closeAll,
  DEFAULT_LIMITS,
  listen,
  parseBindAddress,
  requestPath,
  serverOptions,
  type BoundAddress,
  type ConnectionLimits,
  type Handler,
} from '../observability/server.js';
import { scalerDetail, scalerList } from './api.js';
import type { Timeline } from './timeline.js';
import { isAllowedHost } from './host-check.js';

export interface WebViewLimits extends ConnectionLimits {
  /** Pages holding the live-update stream open at once; more get 503. */
  maxLiveClients: number;
  /** Live updates go out at most this often, naming every scaler reconciled since the last one. */
  liveThrottleMs: number;
  /** A comment is sent this often on an idle stream so that it outlives idleTimeoutMs. */
  liveKeepAliveMs: number;
  /** Bytes a live client may leave unread before it is disconnected. */
  maxLiveBacklogBytes: number;
}

export const DEFAULT_WEB_VIEW_LIMITS: WebViewLimits = {
  ...DEFAULT_LIMITS,
  maxConnections: 32,
  maxLiveClients: 8,
  liveThrottleMs: 1000,
  liveKeepAliveMs: 15_000,
  maxLiveBacklogBytes: 64 * 1024,
};

export interface WebViewOptions {
  /** "host:port", ":port", "[::1]:port", or "0" (off). */
  address: string;
  timeline: Timeline;
  /** Every PredictiveScaler the operator watches (its informer cache). */
  listScalers(): readonly PredictiveScaler[];
  getScaler(namespace: string, name: string): PredictiveScaler | undefined;
  logger: Logger;
  limits?: Partial<WebViewLimits>;
}

export interface WebViewServer {
  /** Where it listens; undefined when off. */
  address: BoundAddress | undefined;
  close(): Promise<void>;
}

/** Sent with every answer. The page loads only its own scripts, styles and data. */
export const WEB_VIEW_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

interface Asset {
  type: string;
  body: Buffer;
}

/** The page's own files: src/ui/assets, which the package ships (beside dist/, so one path serves both). */
const ASSETS_DIR = new URL('../../src/ui/assets/', import.meta.url);

async function loadAssets(): Promise<Record<string, Asset>> {
  const require = createRequire(import.meta.url);
  const own = async (name: string) => readFile(new URL(name, ASSETS_DIR));
  return {
    '/': { type: 'text/html; charset=utf-8', body: await own('index.html') },
    '/assets/app.js': { type: 'text/javascript; charset=utf-8', body: await own('app.js') },
    '/assets/app.css': { type: 'text/css; charset=utf-8', body: await own('app.css') },
    '/assets/uplot.min.js': { type: 'text/javascript; charset=utf-8', body: await readFile(require.resolve('uplot/dist/uPlot.iife.min.js')) },
    '/assets/uplot.min.css': { type: 'text/css; charset=utf-8', body: await readFile(require.resolve('uplot/dist/uPlot.min.css')) },
  };
}

/** A namespace or object name as Kubernetes allows them (DNS subdomain). */
const NAME_RE = /^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/;
const SCALER_PREFIX = '/api/scalers/';

export async function startWebView(options: WebViewOptions): Promise<WebViewServer> {
  const listenAddress = parseBindAddress(options.address);
  if (!listenAddress) return { address: undefined, close: async () => {} };
  const limits = { ...DEFAULT_WEB_VIEW_LIMITS, ...options.limits };
  const { timeline, logger } = options;
  const assets = await loadAssets();
  const live = new LiveUpdates(timeline, limits, logger);

  const sendJson = (response: ServerResponse, status: number, value: unknown) => {
    response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    response.end(JSON.stringify(value));
  };
  const scaler: Handler = (request, response) => {
    const parts = (requestPath(request.url) ?? '').slice(SCALER_PREFIX.length).split('/');
    const [namespace, name] = parts;
    if (parts.length !== 2 || !NAME_RE.test(namespace!) || !NAME_RE.test(name!)) {
      sendJson(response, 400, { error: 'expected /api/scalers/<namespace>/<name>, both lowercase Kubernetes names' });
      return;
    }
    const found = options.getScaler(namespace!, name!);
    if (!found) sendJson(response, 404, { error: `no PredictiveScaler ${namespace}/${name} is watched` });
    else sendJson(response, 200, scalerDetail(found, timeline));
  };
  const routes = (path: string): Handler | undefined => {
    const asset = Object.hasOwn(assets, path) ? assets[path] : undefined;
    if (asset) {
      return (_request, response) => {
        response.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-cache', 'Content-Length': asset.body.length });
        response.end(asset.body);
      };
    }
    if (path === '/api/scalers') return (_request, response) => sendJson(response, 200, scalerList(options.listScalers(), timeline));
    if (path === '/api/events') return (request, response) => live.open(request, response);
    if (path.startsWith(SCALER_PREFIX)) return scaler;
    return undefined;
  };

  const hostChecked = (path: string): Handler | undefined => {
    const handler = routes(path);
    if (!handler) return undefined;
    return (request, response) => {
      if (isAllowedHost(request.headers.host)) return handler(request, response);
      answer(response, 403, 'the Host header names neither an IP address, localhost nor a Service (*.svc): open the web view by address or through kubectl port-forward');
    };
  };

  const started: Server[] = [];
  const address = await listen(createServer(serverOptions(limits)), listenAddress, hostChecked, limits, logger, started, WEB_VIEW_HEADERS);
  logger.info({ address }, 'serving the web view');
  let closing: Promise<void> | undefined;
  return {
    address,
    close: () =>
      (closing ??= (async () => {
        live.close();
        await closeAll(started);
      })()),
  };
}

/** Scalers named in one live update at most; beyond that the update says only that many changed. */
const MAX_KEYS_PER_UPDATE = 100;

/** The server-sent event stream: a throttled "reconciled" event naming the scalers that changed. */
class LiveUpdates {
  private readonly clients = new Set<ServerResponse>();
  private readonly pending = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly keepAlive: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    timeline: Timeline,
    private readonly limits: WebViewLimits,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = timeline.subscribe((key) => this.changed(key));
    this.keepAlive = setInterval(() => this.broadcast(': keep-alive\n\n'), limits.liveKeepAliveMs);
    this.keepAlive.unref();
  }

  open(request: IncomingMessage, response: ServerResponse): void {
    if (this.clients.size >= this.limits.maxLiveClients) {
      answer(response, 503, `at most ${this.limits.maxLiveClients} pages may follow live updates at once; close one or reload later`, { 'Retry-After': '30' });
      return;
    }
    // The stream ends only when the client leaves or the server closes; the socket goes with it.
    response.shouldKeepAlive = false;
    response.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store' });
    if (request.method === 'HEAD') {
      response.end();
      return;
    }
    response.write('retry: 5000\n\n');
    this.clients.add(response);
    response.once('close', () => this.clients.delete(response));
  }

  close(): void {
    this.unsubscribe();
    clearInterval(this.keepAlive);
    if (this.timer) clearTimeout(this.timer);
    for (const client of this.clients) client.end();
    this.clients.clear();
  }

  private changed(key: string): void {
    if (this.clients.size === 0) return;
    this.pending.add(key);
    this.timer ??= setTimeout(() => this.flush(), this.limits.liveThrottleMs);
  }

  private flush(): void {
    this.timer = undefined;
    const update = this.pending.size > MAX_KEYS_PER_UPDATE ? { keys: [], all: true } : { keys: [...this.pending], all: false };
    this.pending.clear();
    this.broadcast(`event: reconciled\ndata: ${JSON.stringify(update)}\n\n`);
  }

  private broadcast(message: string): void {
    for (const client of this.clients) {
      // A client that does not read would make the server buffer without end.
      if (client.writableLength > this.limits.maxLiveBacklogBytes) {
        this.logger.debug('live-update client not reading; disconnected');
        this.clients.delete(client);
        client.destroy();
        continue;
      }
      client.write(message);
    }
  }
}
