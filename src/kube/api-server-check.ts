// Does the configured API server answer? `prescale run` asks GET /version before anything else, so
// a wrong or dead cluster is reported in one line at once instead of as endless watch retries.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** What went wrong talking to the API server, as the pieces the explanation is made from. */
export interface ApiServerFailure {
  /** Node's error code: ECONNREFUSED, ENOTFOUND, DEPTH_ZERO_SELF_SIGNED_CERT, ... */
  code?: string;
  /** The HTTP status, when the server answered. */
  status?: number;
  message?: string;
  /** No answer before the deadline. */
  timedOut?: boolean;
  /** The kubeconfig could not be applied to a request (exec plugin, token file, http without TLS). */
  badConfig?: boolean;
}

export class ApiServerUnavailableError extends Error {
  constructor(
    readonly server: string,
    readonly failure: ApiServerFailure,
    timeoutMs: number,
  ) {
    super(`cannot use the Kubernetes API server at ${server}: ${explainApiServerFailure(failure, timeoutMs)}`);
    this.name = 'ApiServerUnavailableError';
  }
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME']);
const MAX_DETAIL_CHARS = 200;

const oneLine = (text: string | undefined): string => (text ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_DETAIL_CHARS);

/** The reason, in words a user can act on. Pure. */
export function explainApiServerFailure(f: ApiServerFailure, timeoutMs: number): string {
  const detail = oneLine(f.message);
  if (f.badConfig) return `the kubeconfig cannot be used: ${detail}`;
  if (f.timedOut) return `no answer within ${Math.round(timeoutMs / 1000)}s (is the address right, and is the cluster up?)`;
  if (f.status === 401) {
    return '401 Unauthorized: the credentials were refused (an expired or revoked token, or one from another cluster: check the kubeconfig user, or the ServiceAccount token of the pod)';
  }
  if (f.status === 403) {
    return '403 Forbidden: the credentials may not read /version (check the RBAC bound to the ServiceAccount: deploy/base/clusterrole.yaml)';
  }
  if (f.status !== undefined) return `HTTP ${f.status} from GET /version${detail ? `: ${detail}` : ''}`;
  if (f.code === 'ECONNREFUSED') return 'connection refused (nothing listens there: is the cluster running, and is this its address?)';
  if (f.code !== undefined && DNS_CODES.has(f.code)) return `DNS: the host name does not resolve (${f.code})`;
  if (f.code === 'ECONNRESET') return 'the connection was reset (a proxy or a server that does not speak TLS?)';
  if (f.code !== undefined && TLS_CODE.test(f.code)) {
    return `TLS: ${detail || f.code} (check certificate-authority-data of the cluster in the kubeconfig)`;
  }
  return detail || f.code || 'unknown error';
}

/** The server's URL without userinfo, for messages. */
export function displayServer(server: string): string {
  try {
    const url = new URL(server);
    url.username = '';
    url.password = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    return oneLine(server);
  }
}

/** Retried: a server that is starting or briefly overloaded. Anything else will not fix itself in seconds. */
const isTransient = (f: ApiServerFailure): boolean =>
  f.timedOut === true || f.status === 429 || (f.status !== undefined && f.status >= 500);

export interface ApiServerCheckOptions {
  /** The whole check, retries included, ends by then. */
  timeoutMs: number;
  retryDelayMs?: number;
}

/** Resolves with the server's gitVersion; throws ApiServerUnavailableError with a one-line reason. */
export async function checkApiServer(kc: KubeConfig, options: ApiServerCheckOptions): Promise<string> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG');
  const server = displayServer(cluster.server);
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const remaining = deadline - Date.now();
    const outcome = remaining > 0 ? await getVersion(kc, cluster.server, remaining) : { failure: { timedOut: true } };
    if ('version' in outcome) return outcome.version;
    const retryAt = Date.now() + (options.retryDelayMs ?? 1000);
    if (!isTransient(outcome.failure) || retryAt >= deadline) throw new ApiServerUnavailableError(server, outcome.failure, options.timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, retryAt - Date.now()));
  }
}

const MAX_VERSION_BODY = 64 * 1024;

async function getVersion(kc: KubeConfig, server: string, timeoutMs: number): Promise<{ version: string } | { failure: ApiServerFailure }> {
  const options: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(options);
  } catch (err) {
    return { failure: { badConfig: true, message: (err as Error)?.message ?? String(err) } };
  }
  let url: URL;
  try {
    url = new URL(`${server.replace(/\/+$/, '')}/version`);
  } catch {
    return { failure: { message: 'the server address is not a URL' } };
  }
  const request = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const req = request(url, { ...options, method: 'GET', signal, headers: { ...options.headers, accept: 'application/json' } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_VERSION_BODY) res.destroy();
        else chunks.push(chunk);
      });
      // After 'end' this is a no-op; before it (too large, reset, deadline) the answer is incomplete.
      res.on('close', () => resolve({ failure: { status: res.statusCode, message: 'the answer broke off' } }));
      res.on('end', () => {
        if (res.statusCode !== 200) {
          resolve({ failure: { status: res.statusCode } });
          return;
        }
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { gitVersion?: unknown };
          resolve({ version: typeof body.gitVersion === 'string' ? oneLine(body.gitVersion) : 'unknown' });
        } catch {
          resolve({ failure: { message: 'GET /version did not answer JSON: is this a Kubernetes API server?' } });
        }
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (signal.aborted) resolve({ failure: { timedOut: true } });
      else resolve({ failure: { code: err.code, message: err.message } });
    });
    req.end();
  });
}
