// The Kubernetes external metrics API (external.metrics.k8s.io/v1beta1) for a plain HPA, served as
// an aggregated API: the API server proxies `GET /apis/external.metrics.k8s.io/v1beta1/namespaces/
// NS/prescale_desired_replicas?labelSelector=scaler%3DNAME` here over TLS, authenticating itself
// with its front-proxy client certificate and naming the user in X-Remote-User / X-Remote-Group.
// Only those requests are believed (the CA and header names come from the API server's
// extension-apiserver-authentication ConfigMap, as a generic API server's delegated authentication
// reads them); the user is then authorized with a SubjectAccessReview for the metric, as the
// delegated authorizer would, and the answer is the PredictiveScaler's status.desiredReplicas.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_LIMITS, listen, parseBindAddress, serverOptions, type BoundAddress, type ConnectionLimits, type Handler } from '../observability/server.js';
import type { ReviewedUser } from '../observability/metrics-auth.js';
import { ExpiringVerdicts } from '../observability/verdict-cache.js';
import { DESIRED_REPLICAS_METRIC, SCALER_LABEL } from './names.js';
import type { PublishedSource } from './source.js';
import { matchesSelector, parseSelector, selectedValue } from './label-selector.js';

export const EXTERNAL_METRICS_GROUP = 'external.metrics.k8s.io';
export const EXTERNAL_METRICS_VERSION = 'v1beta1';
const GROUP_VERSION = `${EXTERNAL_METRICS_GROUP}/${EXTERNAL_METRICS_VERSION}`;
const BASE = `/apis/${GROUP_VERSION}`;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const METRIC_NAME = /^[A-Za-z0-9_.:-]{1,253}$/;

/** What the API server's extension-apiserver-authentication ConfigMap says about its front proxy. */
export interface FrontProxyAuth {
  /** PEM of the CA that signs the front-proxy client certificate. */
  clientCa: string;
  /** Common names the client certificate may carry; empty: any certificate the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export interface ResourceReview {
  /** Whether the user may `verb` the resource in the API group, in the namespace. */
  allowed(user: ReviewedUser, attributes: { group: string; version: string; resource: string; namespace: string; verb: string }): Promise<boolean>;
}

export interface ExternalMetricsOptions {
  /** "host:port", ":port", or "0" for off. */
  address: string;
  source: PublishedSource;
  /** Reads the front-proxy settings (again on each refresh). */
  loadAuth: () => Promise<FrontProxyAuth>;
  reviews: ResourceReview;
  /** PEM serving certificate and key. */
  cert: string;
  key: string;
  logger: Logger;
  now?: () => number;
  /** How often the front-proxy settings are re-read (the CA may rotate). Default 5 min. */
  refreshMs?: number;
  /** Called once per answered metric request, with the HTTP status. */
  onRequest?: (status: number) => void;
  limits?: Partial<ConnectionLimits>;
  /** How long an allow is remembered, per user and metric. Default 1 min; a deny 10 s. */
  allowTtlMs?: number;
  denyTtlMs?: number;
  /** Reviews in flight at once; more get 429. Default 16. */
  maxConcurrentReviews?: number;
}

export interface ExternalMetricsServer {
  address: BoundAddress;
  close(): Promise<void>;
}

const MAX_VERDICTS = 1024;

export async function startExternalMetricsServer(o: ExternalMetricsOptions): Promise<ExternalMetricsServer | undefined> {
  const listenAt = parseBindAddress(o.address);
  if (!listenAt) return undefined;
  const now = o.now ?? Date.now;
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  let auth: FrontProxyAuth | undefined;
  let authProblem = 'the front-proxy settings have not been read yet';
  const verdicts = new ExpiringVerdicts<boolean>(MAX_VERDICTS, now);
  let reviewsInFlight = 0;

  const server: HttpsServer = createHttpsServer({
    ...serverOptions(limits),
    cert: o.cert,
    key: o.key,
    // The client certificate is asked for and checked per request against the front-proxy CA: a
    // client without one still gets an answer (401) rather than a failed handshake.
    requestCert: true,
    rejectUnauthorized: false,
    handshakeTimeout: limits.tlsHandshakeTimeoutMs,
    minVersion: 'TLSv1.2',
  });

  const refresh = async (): Promise<void> => {
    try {
      const loaded = await o.loadAuth();
      server.setSecureContext({ cert: o.cert, key: o.key, ca: loaded.clientCa, minVersion: 'TLSv1.2' });
      auth = loaded;
    } catch (err) {
      authProblem = `the front-proxy settings could not be read: ${(err as Error).message}`;
      o.logger.error({ err: (err as Error).message }, 'external metrics: cannot authenticate the API server; requests are refused until this is fixed');
    }
  };
  await refresh();
  // refresh() never rejects: a failure is logged and kept in authProblem.
  const timer = setInterval(() => void refresh(), o.refreshMs ?? 5 * 60_000);
  timer.unref();

  const authenticate = (request: IncomingMessage): ReviewedUser | { status: 401 | 503; message: string } => {
    if (!auth) return { status: 503, message: `cannot authenticate requests: ${authProblem}` };
    const socket = request.socket as TLSSocket;
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    if (!peer || !peer.subject) {
      return { status: 401, message: 'Unauthorized: call this API through the Kubernetes API server (the aggregation layer authenticates with its front-proxy client certificate)' };
    }
    const cn = Array.isArray(peer.subject.CN) ? peer.subject.CN[0] : peer.subject.CN;
    if (auth.allowedNames.length > 0 && !auth.allowedNames.includes(cn ?? '')) {
      return { status: 401, message: 'Unauthorized: the client certificate is not one the API server uses as its front proxy' };
    }
    const headers = request.headersDistinct;
    const username = auth.usernameHeaders.map((h) => headers[h.toLowerCase()]?.[0]).find((v) => v !== undefined && v !== '');
    if (username === undefined) return { status: 401, message: 'Unauthorized: the request names no user' };
    const groups = auth.groupHeaders.flatMap((h) => headers[h.toLowerCase()] ?? []).filter((g) => g !== '');
    const extra: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(headers)) {
      const prefix = auth.extraHeaderPrefixes.find((p) => name.startsWith(p.toLowerCase()));
      if (!prefix || !values) continue;
      const key = safeDecode(name.slice(prefix.length));
      if (key) extra[key] = [...(extra[key] ?? []), ...values];
    }
    return { username, groups, ...(Object.keys(extra).length ? { extra } : {}) };
  };

  const authorize = async (user: ReviewedUser, namespace: string, metric: string): Promise<boolean | 'busy'> => {
    const key = JSON.stringify([user.username, user.groups ?? [], user.extra ?? {}, namespace, metric]);
    const cached = verdicts.get(key);
    if (cached !== undefined) return cached;
    if (reviewsInFlight >= (o.maxConcurrentReviews ?? 16)) return 'busy';
    reviewsInFlight++;
    try {
      const allowed = await o.reviews.allowed(user, { group: EXTERNAL_METRICS_GROUP, version: EXTERNAL_METRICS_VERSION, resource: metric, namespace, verb: 'list' });
      verdicts.set(key, allowed, allowed ? (o.allowTtlMs ?? 60_000) : (o.denyTtlMs ?? 10_000));
      return allowed;
    } finally {
      reviewsInFlight--;
    }
  };

  const metricValue: Handler = async (request, response) => {
    const path = new URL(request.url ?? '/', 'https://prescale.invalid');
    const [namespace, metric] = path.pathname.slice(`${BASE}/namespaces/`.length).split('/');
    const status = (code: number, reason: string, message: string) => {
      o.onRequest?.(code);
      sendStatus(response, code, reason, message);
    };
    if (!namespace || !DNS_LABEL.test(namespace) || !metric || !METRIC_NAME.test(metric)) {
      status(404, 'NotFound', 'the path must be /apis/external.metrics.k8s.io/v1beta1/namespaces/<namespace>/<metric>');
      return;
    }
    const user = authenticate(request);
    if ('status' in user) {
      status(user.status, user.status === 401 ? 'Unauthorized' : 'ServiceUnavailable', user.message);
      return;
    }
    let allowed: boolean | 'busy';
    try {
      allowed = await authorize(user, namespace, metric);
    } catch (err) {
      o.logger.warn({ err: (err as Error).message }, 'external metrics: SubjectAccessReview failed');
      status(500, 'InternalError', 'access could not be reviewed');
      return;
    }
    if (allowed === 'busy') {
      status(429, 'TooManyRequests', 'access reviews are in progress, retry shortly');
      return;
    }
    if (!allowed) {
      status(403, 'Forbidden', `user "${user.username}" cannot list resource "${metric}" in API group "${EXTERNAL_METRICS_GROUP}" in the namespace "${namespace}"`);
      return;
    }
    if (metric !== DESIRED_REPLICAS_METRIC) {
      status(404, 'NotFound', `prescale serves the external metric ${DESIRED_REPLICAS_METRIC} only, not "${metric}"`);
      return;
    }
    const selector = parseSelector(path.searchParams.get('labelSelector') ?? '');
    const scaler = selector.ok ? selectedValue(selector.requirements, SCALER_LABEL) : undefined;
    if (!selector.ok || scaler === undefined) {
      const why = selector.ok ? '' : ` (${selector.message})`;
      status(400, 'BadRequest', `select one PredictiveScaler with the label selector ${SCALER_LABEL}=<name>${why}`);
      return;
    }
    const found = o.source.lookup(namespace, scaler);
    if (!found.ok) {
      status(found.code === 'NotReady' ? 503 : 404, found.code === 'NotReady' ? 'ServiceUnavailable' : 'NotFound', found.message);
      return;
    }
    const labels = { [SCALER_LABEL]: scaler };
    o.onRequest?.(200);
    sendJson(response, 200, {
      kind: 'ExternalMetricValueList',
      apiVersion: GROUP_VERSION,
      metadata: {},
      // A selector that also asks for labels the series does not have selects nothing.
      items: matchesSelector(selector.requirements, labels)
        ? [{ metricName: DESIRED_REPLICAS_METRIC, metricLabels: labels, timestamp: new Date(now()).toISOString(), value: String(found.value.desiredReplicas) }]
        : [],
    });
  };

  const routes = (path: string): Handler | undefined => {
    if (path === '/apis') return (_req, res) => sendJson(res, 200, apiGroupList());
    if (path === `/apis/${EXTERNAL_METRICS_GROUP}`) return (_req, res) => sendJson(res, 200, apiGroup());
    if (path === BASE) return (_req, res) => sendJson(res, 200, apiResourceList());
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return (_req, res) => sendText(res, auth ? 200 : 503, auth ? 'ok' : authProblem);
    if (path.startsWith(`${BASE}/namespaces/`)) return metricValue;
    return undefined;
  };

  const address = await listen(server, listenAt, routes, limits, o.logger, []);
  return {
    address,
    async close() {
      clearInterval(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(text);
}

/** A metav1.Status, which the HPA controller shows in its ScalingActive condition. */
function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function apiResourceList() {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: GROUP_VERSION,
    resources: [{ name: 'externalmetrics', singularName: '', namespaced: true, kind: 'ExternalMetricValueList', verbs: ['get'] }],
  };
}

function apiGroup() {
  const version = { groupVersion: GROUP_VERSION, version: EXTERNAL_METRICS_VERSION };
  return { kind: 'APIGroup', apiVersion: 'v1', name: EXTERNAL_METRICS_GROUP, versions: [version], preferredVersion: version };
}

function apiGroupList() {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [apiGroup()] };
}

/** Reads the front-proxy settings from the ConfigMap kube-apiserver publishes in kube-system. */
export function frontProxyAuthFrom(data: Record<string, string> | undefined): FrontProxyAuth {
  const ca = data?.['requestheader-client-ca-file'];
  if (!ca || !ca.includes('BEGIN CERTIFICATE')) {
    throw new Error(
      'ConfigMap kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: the API server runs without --requestheader-client-ca-file, so it cannot call aggregated APIs',
    );
  }
  const list = (key: string, fallback: string[]): string[] => {
    const raw = data?.[key];
    if (raw === undefined || raw === '') return fallback;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed as string[];
    } catch {
      // fall through
    }
    throw new Error(`ConfigMap kube-system/extension-apiserver-authentication: ${key} is not a JSON list of strings`);
  };
  return {
    clientCa: ca,
    allowedNames: list('requestheader-allowed-names', []),
    usernameHeaders: list('requestheader-username-headers', ['X-Remote-User']),
    groupHeaders: list('requestheader-group-headers', ['X-Remote-Group']),
    extraHeaderPrefixes: list('requestheader-extra-headers-prefix', ['X-Remote-Extra-']),
  };
}
