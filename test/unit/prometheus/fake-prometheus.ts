// A scriptable HTTP server standing in for Prometheus, for fault injection in unit tests.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  form: Record<string, string>;
}

export type Handler = (request: RecordedRequest, response: ServerResponse) => void;

export interface FakePrometheus {
  url: string;
  requests: RecordedRequest[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  let handler: Handler = (_request, response) => sendJson(response, 500, { status: 'error', error: 'no handler' });
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const form = Object.fromEntries(new URLSearchParams(body || url.search));
      const recorded = { method: req.method ?? '', path: url.pathname, headers: req.headers, form };
      requests.push(recorded);
      handler(recorded, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('fake Prometheus has no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    handle: (next) => (handler = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

export function success(data: unknown, warnings?: string[]): unknown {
  return warnings ? { status: 'success', data, warnings } : { status: 'success', data };
}

export function matrix(series: { metric: Record<string, string>; values: [number, string][] }[]): unknown {
  return success({ resultType: 'matrix', result: series });
}

/**
 * Answers query_range like Prometheus does for a gauge sampled at every step: one sample per
 * evaluation time start + k * step <= end, valued by `valueAt(seconds)`.
 */
export function rangeHandler(
  series: { metric: Record<string, string>; valueAt: (seconds: number) => string }[],
): Handler {
  return (request, response) => {
    const start = Number(request.form.start);
    const end = Number(request.form.end);
    const step = Number(request.form.step);
    const times: number[] = [];
    for (let k = 0; start + k * step <= end + 1e-9; k++) times.push(Math.round((start + k * step) * 1000) / 1000);
    sendJson(
      response,
      200,
      matrix(series.map((s) => ({ metric: s.metric, values: times.map((t) => [t, s.valueAt(t)] as [number, string]) }))),
    );
  };
}
