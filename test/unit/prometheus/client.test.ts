import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PrometheusClient, type PrometheusClientOptions } from '../../../src/prometheus/client.js';
import {
  PrometheusAuthError,
  PrometheusQueryError,
  PrometheusUnavailableError,
} from '../../../src/prometheus/errors.js';
import { freePort } from '../../helpers/prometheus.js';
import {
  matrix,
  rangeHandler,
  sendJson,
  startFakePrometheus,
  success,
  type FakePrometheus,
} from './fake-prometheus.js';

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);

let fake: FakePrometheus;
let sleeps: number[];

beforeEach(async () => {
  fake = await startFakePrometheus();
  sleeps = [];
});
afterEach(async () => {
  await fake.close();
});

function client(options: Partial<PrometheusClientOptions> = {}): PrometheusClient {
  return new PrometheusClient({
    baseUrl: fake.url,
    backoffMs: 100,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
}

function pointsIn(form: Record<string, string>): number {
  return Math.floor((Number(form.end) - Number(form.start)) / Number(form.step) + 1e-9) + 1;
}

describe('queryRange', () => {
  it('posts the query form-encoded to /api/v1/query_range', async () => {
    fake.handle(rangeHandler([{ metric: { job: 'a' }, valueAt: () => '1' }]));
    const longQuery = `sum(rate(http_requests_total{path=~"${'/x|'.repeat(3000)}/y"}[1m]))`;
    await client().queryRange(longQuery, START, START + 10 * MINUTE, MINUTE);

    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/api/v1/query_range');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.form).toEqual({
      query: longQuery,
      start: String(START / 1000),
      end: String((START + 10 * MINUTE) / 1000),
      step: '60',
    });
  });

  it('keeps a base URL path prefix', async () => {
    fake.handle(rangeHandler([]));
    await client({ baseUrl: `${fake.url}/prometheus/` }).queryRange('up', START, START + MINUTE, MINUTE);
    expect(fake.requests[0].path).toBe('/prometheus/api/v1/query_range');
  });

  it('splits a long range into requests of at most 10,000 points and stitches them without gaps or duplicates', async () => {
    fake.handle(rangeHandler([{ metric: { job: 'a' }, valueAt: (s) => String(s / 60) }]));
    const steps = 25_000;
    const end = START + (steps - 1) * MINUTE;

    const result = await client().queryRange('m', START, end, MINUTE);

    expect(fake.requests.map((r) => [Number(r.form.start) * 1000, Number(r.form.end) * 1000])).toEqual([
      [START, START + 9_999 * MINUTE],
      [START + 10_000 * MINUTE, START + 19_999 * MINUTE],
      [START + 20_000 * MINUTE, end],
    ]);
    for (const request of fake.requests) expect(pointsIn(request.form)).toBeLessThanOrEqual(10_000);
    expect(result.series).toHaveLength(1);
    const timestamps = result.series[0].samples.map(([ts]) => ts);
    expect(timestamps).toEqual(Array.from({ length: steps }, (_, i) => START + i * MINUTE));
    expect(result.series[0].samples[12_345]).toEqual([START + 12_345 * MINUTE, (START + 12_345 * MINUTE) / MINUTE]);
  });

  it('does not repeat a sample that a server returns in two consecutive chunks', async () => {
    // A server that also answers for the instant just before each requested start.
    fake.handle((request, response) => {
      const start = Number(request.form.start) - 60;
      const end = Number(request.form.end);
      const values: [number, string][] = [];
      for (let t = start; t <= end; t += 60) values.push([t, String(t)]);
      sendJson(response, 200, matrix([{ metric: {}, values }]));
    });
    const result = await client({ maxPointsPerRequest: 10 }).queryRange('m', START, START + 29 * MINUTE, MINUTE);

    expect(fake.requests).toHaveLength(3);
    const timestamps = result.series[0].samples.map(([ts]) => ts);
    expect(new Set(timestamps).size).toBe(timestamps.length);
    expect(timestamps).toEqual(Array.from({ length: 31 }, (_, i) => START + (i - 1) * MINUTE));
  });

  it('keeps every series with its labels across chunks, including one that only appears later', async () => {
    fake.handle((request, response) => {
      const start = Number(request.form.start);
      const series = [{ metric: { pod: 'a' }, values: [[start, '1']] as [number, string][] }];
      if (start > START / 1000) series.push({ metric: { pod: 'b' }, values: [[start, '2']] });
      sendJson(response, 200, matrix(series));
    });
    const result = await client({ maxPointsPerRequest: 5 }).queryRange('m', START, START + 9 * MINUTE, MINUTE);

    expect(result.series).toEqual([
      { labels: { pod: 'a' }, samples: [[START, 1], [START + 5 * MINUTE, 1]] },
      { labels: { pod: 'b' }, samples: [[START + 5 * MINUTE, 2]] },
    ]);
  });

  it('parses NaN and infinities', async () => {
    fake.handle((_request, response) =>
      sendJson(response, 200, matrix([{ metric: {}, values: [[START / 1000, 'NaN'], [START / 1000 + 60, '+Inf'], [START / 1000 + 120, '-Inf'], [START / 1000 + 180, '1.5e3']] }])),
    );
    const { series } = await client().queryRange('m', START, START + 3 * MINUTE, MINUTE);
    expect(series[0].samples.map(([, v]) => v)).toEqual([NaN, Infinity, -Infinity, 1500]);
  });

  it('returns Prometheus warnings', async () => {
    fake.handle((_request, response) =>
      sendJson(response, 200, success({ resultType: 'matrix', result: [] }, ['partial data'])),
    );
    expect(await client().queryRange('m', START, START, MINUTE)).toEqual({ series: [], warnings: ['partial data'] });
  });

  it('rejects an empty or reversed range before sending anything', async () => {
    await expect(client().queryRange('m', START, START - 1, MINUTE)).rejects.toThrow(RangeError);
    await expect(client().queryRange('m', START, START + MINUTE, 0)).rejects.toThrow(RangeError);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('queryRangeSeries', () => {
  it('sums several series per timestamp onto a regular grid with NaN where nothing was sampled', async () => {
    const t = (i: number) => (START + i * MINUTE) / 1000;
    fake.handle((_request, response) =>
      sendJson(response, 200, matrix([
        { metric: { pod: 'a' }, values: [[t(0), '1'], [t(1), '2'], [t(3), '4']] },
        { metric: { pod: 'b' }, values: [[t(0), '10'], [t(1), 'NaN'], [t(4), '50']] },
      ])),
    );
    const series = await client().queryRangeSeries('m', START, START + 5 * MINUTE, MINUTE);
    expect(series).toEqual({ start: START, stepMs: MINUTE, values: [11, 2, NaN, 4, 50, NaN] });
  });

  it('treats NaN and infinite samples as gaps', async () => {
    const t = (i: number) => (START + i * MINUTE) / 1000;
    fake.handle((_request, response) =>
      sendJson(response, 200, matrix([{ metric: {}, values: [[t(0), 'NaN'], [t(1), '+Inf'], [t(2), '3']] }])),
    );
    const series = await client().queryRangeSeries('m', START, START + 2 * MINUTE, MINUTE);
    expect(series.values).toEqual([NaN, NaN, 3]);
  });

  it('returns an all-NaN grid for a query without data', async () => {
    fake.handle((_request, response) => sendJson(response, 200, matrix([])));
    const series = await client().queryRangeSeries('missing', START, START + 2 * MINUTE + 30_000, MINUTE);
    expect(series.values).toEqual([NaN, NaN, NaN]);
  });
});

describe('instantQuery', () => {
  it('returns one sample per series and sends the evaluation time', async () => {
    fake.handle((_request, response) =>
      sendJson(response, 200, success({
        resultType: 'vector',
        result: [
          { metric: { pod: 'a' }, value: [START / 1000, '3'] },
          { metric: { pod: 'b' }, value: [START / 1000, '4'] },
        ],
      })),
    );
    const samples = await client().instantQuery('m', START);
    expect(fake.requests[0].path).toBe('/api/v1/query');
    expect(fake.requests[0].form).toEqual({ query: 'm', time: String(START / 1000) });
    expect(samples).toEqual([
      { labels: { pod: 'a' }, timestampMs: START, value: 3 },
      { labels: { pod: 'b' }, timestampMs: START, value: 4 },
    ]);
    expect(await client().instantValue('m')).toBe(7);
    expect(fake.requests[1].form).toEqual({ query: 'm' });
  });

  it('accepts a scalar result', async () => {
    fake.handle((_request, response) => sendJson(response, 200, success({ resultType: 'scalar', result: [START / 1000, '42'] })));
    expect(await client().instantValue('scalar(m)')).toBe(42);
  });

  it('has no latest value when the metric has no data', async () => {
    fake.handle((_request, response) => sendJson(response, 200, success({ resultType: 'vector', result: [] })));
    expect(await client().instantValue('missing')).toBeUndefined();
  });

  it('rejects a query that returns a range vector', async () => {
    fake.handle((_request, response) => sendJson(response, 200, success({ resultType: 'matrix', result: [] })));
    await expect(client().instantQuery('m[5m]')).rejects.toThrow(PrometheusQueryError);
  });
});

describe('failures', () => {
  const badQuery = 'invalid parameter "query": 1:13: parse error: unclosed left parenthesis';

  it('retries HTTP 503 with exponential backoff, then succeeds', async () => {
    let calls = 0;
    fake.handle((request, response) => {
      calls += 1;
      if (calls <= 2) sendJson(response, 503, { status: 'error', errorType: 'unavailable', error: 'overloaded' });
      else rangeHandler([{ metric: {}, valueAt: () => '5' }])(request, response);
    });
    const result = await client({ retries: 3 }).queryRange('m', START, START + MINUTE, MINUTE);
    expect(result.series[0].samples).toEqual([[START, 5], [START + MINUTE, 5]]);
    expect(fake.requests).toHaveLength(3);
    // Equal jitter with random() = 0.5: 3/4 of 100 ms, then of 200 ms.
    expect(sleeps).toEqual([75, 150]);
  });

  it('retries HTTP 429', async () => {
    let calls = 0;
    fake.handle((request, response) => {
      calls += 1;
      if (calls === 1) sendJson(response, 429, { status: 'error', error: 'too many requests' });
      else rangeHandler([])(request, response);
    });
    await client().queryRange('m', START, START, MINUTE);
    expect(fake.requests).toHaveLength(2);
  });

  it('gives up after the retries with PrometheusUnavailableError naming the URL and the failure', async () => {
    fake.handle((_request, response) => sendJson(response, 500, { status: 'error', errorType: 'internal', error: 'disk full' }));
    const error = await client({ retries: 2 }).queryRange('m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).toContain(`${fake.url}/api/v1/query_range`);
    expect((error as Error).message).toContain('HTTP 500: disk full');
    expect((error as Error).message).toContain('3 attempts');
    expect(fake.requests).toHaveLength(3);
  });

  it('does not retry HTTP 400 and surfaces Prometheus’ error text', async () => {
    fake.handle((_request, response) => sendJson(response, 400, { status: 'error', errorType: 'bad_data', error: badQuery }));
    const error = await client().queryRange('sum(m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect((error as Error).message).toContain('parse error: unclosed left parenthesis');
    expect((error as PrometheusQueryError).query).toBe('sum(m');
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('does not retry HTTP 422 (the query could not be executed)', async () => {
    fake.handle((_request, response) =>
      sendJson(response, 422, { status: 'error', errorType: 'execution', error: 'query processing would load too many samples into memory' }),
    );
    await expect(client().queryRange('m', START, START, MINUTE)).rejects.toThrow(/too many samples/);
    expect(fake.requests).toHaveLength(1);
  });

  it('reports a server that is not Prometheus without retrying', async () => {
    fake.handle((_request, response) => {
      response.writeHead(404, { 'Content-Type': 'text/html' });
      response.end('<html>not found</html>');
    });
    const error = await client().queryRange('m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).toContain('HTTP 404');
    expect(fake.requests).toHaveLength(1);
  });

  it('reports an answer that is not from the Prometheus API without retrying', async () => {
    fake.handle((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html' });
      response.end('<html>login</html>');
    });
    await expect(client().queryRange('m', START, START, MINUTE)).rejects.toThrow(/not from the Prometheus HTTP API/);
    fake.handle((_request, response) => sendJson(response, 200, success({ resultType: 'vector', result: [] })));
    await expect(client().queryRange('m', START, START, MINUTE)).rejects.toThrow(PrometheusUnavailableError);
    expect(fake.requests).toHaveLength(2);
  });

  it('refuses a base URL that is not http(s)', () => {
    expect(() => client({ baseUrl: 'prometheus:9090' })).toThrow(/absolute http:\/\/ or https:\/\/ URL/);
    expect(() => client({ baseUrl: 'not a url' })).toThrow(/absolute http/);
  });

  it('times out a request that gets no answer, retries it, then fails with PrometheusUnavailableError', async () => {
    fake.handle(() => {
      // never answers
    });
    const started = Date.now();
    const error = await client({ timeoutMs: 100, retries: 1 }).queryRange('m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).toContain('no answer within 100 ms');
    expect(fake.requests).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out an answer that trickles in slower than the deadline', async () => {
    fake.handle((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      const timer = setInterval(() => response.write(' '), 20);
      response.on('close', () => clearInterval(timer));
    });
    const error = await client({ timeoutMs: 150, retries: 0 }).queryRange('m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).toContain('no answer within 150 ms');
  });

  it('reports a refused connection after the retries', async () => {
    const port = await freePort();
    const error = await client({ baseUrl: `http://127.0.0.1:${port}`, retries: 2 })
      .queryRange('m', START, START, MINUTE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).toMatch(/127\.0\.0\.1:\d+\/api\/v1\/query_range is unavailable: connection refused \(after 3 attempts\)/);
    expect(sleeps).toHaveLength(2);
  });

  it('reports each request to onQuery with its outcome', async () => {
    let calls = 0;
    fake.handle((request, response) => {
      calls += 1;
      if (calls === 1) sendJson(response, 503, { status: 'error', error: 'busy' });
      else rangeHandler([])(request, response);
    });
    const seen: [number, string][] = [];
    await client({ onQuery: (seconds, outcome) => seen.push([seconds, outcome]) }).queryRange('m', START, START, MINUTE);
    expect(seen.map(([, outcome]) => outcome)).toEqual(['error', 'ok']);
    for (const [seconds] of seen) expect(seconds).toBeGreaterThanOrEqual(0);
  });
});

describe('authentication', () => {
  it('sends a bearer token', async () => {
    fake.handle(rangeHandler([]));
    await client({ auth: { bearerToken: 's3cr3t-token' } }).queryRange('m', START, START, MINUTE);
    expect(fake.requests[0].headers.authorization).toBe('Bearer s3cr3t-token');
  });

  it('sends basic auth', async () => {
    fake.handle(rangeHandler([]));
    await client({ auth: { username: 'grafana', password: 'pa:ss' } }).queryRange('m', START, START, MINUTE);
    expect(fake.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('grafana:pa:ss').toString('base64')}`);
  });

  it('sends no Authorization header without credentials', async () => {
    fake.handle(rangeHandler([]));
    await client().queryRange('m', START, START, MINUTE);
    expect(fake.requests[0].headers.authorization).toBeUndefined();
  });

  it.each([401, 403])('turns HTTP %i into PrometheusAuthError without retrying or revealing the credentials', async (status) => {
    fake.handle((_request, response) => sendJson(response, status, { error: 'denied' }));
    const error = await client({ auth: { username: 'grafana', password: 'hunter2' } })
      .queryRange('m', START, START, MINUTE)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusAuthError);
    expect((error as Error).message).toContain(`HTTP ${status}`);
    expect((error as Error).message).toContain('authSecretRef');
    expect((error as Error).message).not.toContain('hunter2');
    expect(fake.requests).toHaveLength(1);
  });

  it('keeps credentials written into the base URL out of error messages', async () => {
    fake.handle((_request, response) => sendJson(response, 503, { status: 'error', error: 'busy' }));
    const baseUrl = fake.url.replace('http://', 'http://admin:hunter2@');
    const error = await client({ baseUrl, retries: 0 }).queryRange('m', START, START, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusUnavailableError);
    expect((error as Error).message).not.toContain('hunter2');
    expect((error as Error).message).not.toContain('admin');
  });
});
