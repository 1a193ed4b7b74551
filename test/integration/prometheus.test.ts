// The Prometheus client against a real Prometheus (Debian's 2.42) with three days of backfilled history.

import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient, type PrometheusClientOptions } from '../../src/prometheus/client.js';
import { PrometheusQueryError, PrometheusUnavailableError } from '../../src/prometheus/errors.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const POINTS = 3 * 24 * 60;
// History ends a few minutes ago: recent backfilled data is served next to the (empty) head block.
const END = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
const START = END - (POINTS - 1) * MINUTE;

const valueA = (ts: number) => 100 + 50 * Math.sin((2 * Math.PI * ts) / DAY);
const valueB = (ts: number) => 20 + ((ts / MINUTE) % 7);
const timestamps = Array.from({ length: POINTS }, (_, i) => START + i * MINUTE);

let prometheus: PrometheusHandle;

beforeAll(async () => {
  prometheus = await startPrometheus({
    series: [
      { name: 'demo_requests', labels: { pod: 'a' }, points: timestamps.map((t) => [t, valueA(t)]) },
      { name: 'demo_requests', labels: { pod: 'b' }, points: timestamps.map((t) => [t, valueB(t)]) },
    ],
  });
});

afterAll(async () => {
  await prometheus?.close();
});

function client(options: Partial<PrometheusClientOptions> = {}): PrometheusClient {
  return new PrometheusClient({ baseUrl: prometheus.url, timeoutMs: 5_000, retries: 2, backoffMs: 10, ...options });
}

describe('PrometheusClient against a real Prometheus', () => {
  it('returns exactly the backfilled values at every step of a range fetched in several chunks', async () => {
    const outcomes: string[] = [];
    const result = await client({ maxPointsPerRequest: 1_500, onQuery: (_s, outcome) => outcomes.push(outcome) })
      .queryRange('demo_requests', START, END, MINUTE);

    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    const byPod = new Map(result.series.map((s) => [s.labels.pod, s]));
    expect([...byPod.keys()].sort()).toEqual(['a', 'b']);
    expect(byPod.get('a')?.labels).toEqual({ __name__: 'demo_requests', pod: 'a' });
    expect(byPod.get('a')?.samples).toEqual(timestamps.map((t) => [t, valueA(t)]));
    expect(byPod.get('b')?.samples).toEqual(timestamps.map((t) => [t, valueB(t)]));
  });

  it('stays under Prometheus’ 11,000-point limit with the default chunk size', async () => {
    const stepMs = 10_000; // 25,920 evaluation steps over the three days: three requests
    const outcomes: string[] = [];
    const series = await client({ onQuery: (_s, outcome) => outcomes.push(outcome) })
      .queryRangeSeries('demo_requests{pod="b"}', START, END, stepMs);

    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(series.values).toHaveLength((END - START) / stepMs + 1);
    // Between samples Prometheus answers with the latest sample before the evaluation time.
    series.values.forEach((value, i) => {
      const ts = START + i * stepMs;
      expect(value).toBe(valueB(ts - (ts - START) % MINUTE));
    });
  });

  it('gets a PrometheusQueryError from Prometheus when one request would exceed 11,000 points', async () => {
    const error = await client({ maxPointsPerRequest: 20_000 })
      .queryRange('demo_requests', START, START + 12_000 * 10_000, 10_000)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect((error as Error).message).toContain('exceeded maximum resolution of 11,000 points per timeseries');
  });

  it('sums the series of a query into one regular Series', async () => {
    const from = END - 60 * MINUTE;
    const series = await client().queryRangeSeries('demo_requests', from, END, MINUTE);
    expect(series.start).toBe(from);
    expect(series.stepMs).toBe(MINUTE);
    expect(series.values).toHaveLength(61);
    series.values.forEach((value, i) => {
      const ts = from + i * MINUTE;
      expect(value).toBeCloseTo(valueA(ts) + valueB(ts), 9);
    });
  });

  it('reads an instant value', async () => {
    const at = START + 1_000 * MINUTE;
    expect(await client().instantValue('demo_requests{pod="b"}', at)).toBe(valueB(at));
    const samples = await client().instantQuery('demo_requests', at);
    expect(samples.map((s) => s.labels.pod).sort()).toEqual(['a', 'b']);
  });

  it('surfaces Prometheus’ parse error for a malformed query', async () => {
    const error = await client().queryRange('sum(rate(demo_requests[5m])', START, END, MINUTE).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrometheusQueryError);
    expect((error as Error).message).toMatch(/parse error: unclosed left parenthesis/);
  });

  it('returns an empty result, not an error, for a metric that does not exist', async () => {
    const result = await client().queryRange('no_such_metric', START, END, MINUTE);
    expect(result.series).toEqual([]);
    const series = await client().queryRangeSeries('no_such_metric', END - 2 * MINUTE, END, MINUTE);
    expect(series.values).toEqual([NaN, NaN, NaN]);
  });

  it('fails with PrometheusUnavailableError while Prometheus is down and recovers after a restart', async () => {
    const attempts: string[] = [];
    const flaky = client({ onQuery: (_s, outcome) => attempts.push(outcome) });
    await prometheus.stop();
    try {
      const error = await flaky.queryRange('demo_requests', END - 10 * MINUTE, END, MINUTE).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PrometheusUnavailableError);
      expect((error as Error).message).toContain(`${prometheus.url}/api/v1/query_range`);
      expect((error as Error).message).toContain('connection refused (after 3 attempts)');
      expect(attempts).toEqual(['error', 'error', 'error']);
    } finally {
      await prometheus.start();
    }
    const result = await flaky.queryRange('demo_requests{pod="a"}', END - 10 * MINUTE, END, MINUTE);
    expect(result.series[0].samples).toHaveLength(11);
    expect(result.series[0].samples.at(-1)).toEqual([END, valueA(END)]);
  });
});

describe('startPrometheus', () => {
  it('serves backfilled history up to a minute ago next to freshly scraped samples', async () => {
    const target = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end('# TYPE live_gauge gauge\nlive_gauge 7\n');
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const address = target.address();
    const targetPort = typeof address === 'object' && address ? address.port : 0;
    const end = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    const recent = Array.from({ length: 180 }, (_, i) => end - i * MINUTE);
    const withScrape = await startPrometheus({
      series: [{ name: 'recent_history', points: recent.map((t) => [t, t / MINUTE]) }],
      scrapeConfigs: [{ job_name: 'live', scrape_interval: '1s', static_configs: [{ targets: [`127.0.0.1:${targetPort}`] }] }],
    });
    try {
      const live = new PrometheusClient({ baseUrl: withScrape.url, retries: 0 });
      let scraped: number | undefined;
      for (let i = 0; i < 50 && scraped === undefined; i++) {
        scraped = await live.instantValue('live_gauge');
        if (scraped === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(scraped).toBe(7);
      const history = await live.queryRangeSeries('recent_history', end - 179 * MINUTE, end, MINUTE);
      expect(history.values).toEqual([...recent].reverse().map((t) => t / MINUTE));
    } finally {
      await withScrape.close();
      target.closeAllConnections();
      await new Promise((resolve) => target.close(resolve));
    }
  });
});
