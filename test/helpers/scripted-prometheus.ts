// A scripted stand-in for Prometheus that plays several behaviours at once, one per path prefix:
// http://127.0.0.1:<port>/<behaviour>/api/v1/query_range. A PredictiveScaler picks one by naming
// that base URL in spec.prometheus.url (the operator's --prometheus-url-allowlist must admit the
// server's root URL). Used by the bad-input corpus, whose cases name a behaviour.
//
// To add a behaviour (e.g. a tarpit, a gzip bomb, 10,000 series, a redirect): add an entry to
// PROMETHEUS_BEHAVIOURS, a Handler that answers (or never answers) the request; a corpus case then
// says `prometheus: '<name>'` and the condition reason it must end in.
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { rangeHandler, sendJson, startFakePrometheus, success, type Handler, type RecordedRequest } from '../unit/prometheus/fake-prometheus.js';

/** The value every healthy series has at every step. */
export const HEALTHY_VALUE = 100;

const healthyRange = rangeHandler([{ metric: {}, valueAt: () => String(HEALTHY_VALUE) }]);

/** Answers like a healthy Prometheus for whichever API the operator calls. */
function healthy(request: RecordedRequest, response: ServerResponse): void {
  if (request.path.endsWith('/api/v1/query')) {
    sendJson(response, 200, success({ resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, String(HEALTHY_VALUE)] }] }));
    return;
  }
  healthyRange(request, response);
}

/** 64 MiB of JSON whitespace in about 64 KiB of gzip: far past what the operator inflates. */
let bomb: Buffer | undefined;
const gzipBomb = () => (bomb ??= gzipSync(Buffer.concat([Buffer.from('{"status":"success","data":'), Buffer.alloc(64 * 1024 * 1024, 0x20), Buffer.from('{}}')]), { level: 9 }));

export const PROMETHEUS_BEHAVIOURS = {
  /** One series, constant at HEALTHY_VALUE, on every step asked for. */
  healthy,
  /** The query selects nothing: no series at all. */
  empty: (_request, response) => sendJson(response, 200, success({ resultType: 'matrix', result: [] })),
  /** Prometheus refuses every query as a parse error (HTTP 400, errorType bad_data). */
  'bad-data': (_request, response) =>
    sendJson(response, 400, { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected character in query' }),
  /** Headers, then a byte every few seconds, never a whole answer. */
  tarpit: (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    const timer = setInterval(() => response.write(' '), 2_000);
    response.on('close', () => clearInterval(timer));
  },
  /** A decompression bomb. */
  bomb: (_request, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
    response.end(gzipBomb());
  },
  /** 10,000 series, one sample each: a query that should have been aggregated. */
  flood: (request, response) => {
    const at = Number(request.form.start ?? request.form.time ?? 0);
    const result = Array.from({ length: 10_000 }, (_, i) => ({ metric: { pod: `p${i}` }, values: [[at, '1']] }));
    sendJson(response, 200, success({ resultType: 'matrix', result }));
  },
  /** A redirect to somewhere the admin never allowed. */
  redirect: (_request, response) => {
    response.writeHead(302, { Location: 'http://127.0.0.2:9/exfiltrate' });
    response.end('see other');
  },
  /** An error page with a body that must not reach status: control characters and a secret-looking text. */
  'error-page': (_request, response) => {
    response.writeHead(400, { 'Content-Type': 'text/html' });
    response.end('<html>\u001b[2J internal admin console: db password hunter2</html>');
  },
} satisfies Record<string, Handler>;

export type PrometheusBehaviour = keyof typeof PROMETHEUS_BEHAVIOURS;

export interface ScriptedPrometheus {
  /** Root URL: what the operator's --prometheus-url-allowlist has to admit. */
  url: string;
  /** Base URL of the Prometheus API playing `behaviour`. */
  urlFor(behaviour: PrometheusBehaviour): string;
  /** Every request so far, with its behaviour. */
  requests: Array<RecordedRequest & { behaviour: string }>;
  close(): Promise<void>;
}

export async function startScriptedPrometheus(): Promise<ScriptedPrometheus> {
  const fake = await startFakePrometheus();
  const requests: ScriptedPrometheus['requests'] = [];
  fake.handle((request, response) => {
    const behaviour = request.path.split('/')[1] ?? '';
    requests.push({ ...request, behaviour });
    const handler = (PROMETHEUS_BEHAVIOURS as Record<string, Handler>)[behaviour];
    if (!handler) {
      sendJson(response, 404, { status: 'error', errorType: 'not_found', error: `no scripted behaviour "${behaviour}"` });
      return;
    }
    handler(request, response);
  });
  return {
    url: fake.url,
    urlFor: (behaviour) => `${fake.url}/${behaviour}`,
    requests,
    close: () => fake.close(),
  };
}
