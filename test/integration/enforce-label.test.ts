// Namespace enforcement against a real Prometheus (Debian's 2.42): with series in namespaces a and b
// (and one without a namespace), each query enforced for namespace a returns exactly what the same
// query written by hand with namespace="a" returns, and nothing from b.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enforceLabel } from '../../src/prometheus/enforce-label.js';
import { startPrometheus, type BackfillSeries, type PrometheusHandle } from '../helpers/prometheus.js';

const MINUTE = 60_000;
const POINTS = 4 * 60;
const END = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
const START = END - (POINTS - 1) * MINUTE;
const timestamps = Array.from({ length: POINTS }, (_, i) => START + i * MINUTE);

// Not a Kubernetes name, but a label value can be anything: quotes, a backslash, non-ASCII.
const ODD_NAMESPACE = 'q"\\ü😀} or demo_requests{namespace="b';

function series(name: string, labels: Record<string, string>, value: (i: number) => number): BackfillSeries {
  return { name, labels, points: timestamps.map((t, i) => [t, value(i)]) };
}

// Each series has its own values, so a result that mixed in another namespace's series would differ.
const SERIES: BackfillSeries[] = [
  series('demo_requests', { namespace: 'a', pod: 'p1' }, (i) => 10 + (i % 7)),
  series('demo_requests', { namespace: 'a', pod: 'p2' }, (i) => 20 + (i % 5)),
  series('demo_requests', { namespace: 'b', pod: 'p1' }, (i) => 1_000 + (i % 11)),
  series('demo_requests', { namespace: 'b', pod: 'p3' }, (i) => 2_000 + (i % 3)),
  series('demo_requests', { pod: 'cluster' }, (i) => 50_000 + i),
  series('demo_requests', { namespace: ODD_NAMESPACE, pod: 'p9' }, (i) => 7 + (i % 2)),
  series('demo_capacity', { namespace: 'a', pod: 'p1' }, () => 40),
  series('demo_capacity', { namespace: 'a', pod: 'p2' }, () => 50),
  series('demo_capacity', { namespace: 'b', pod: 'p1' }, () => 4_000),
  series('demo_requests_total', { namespace: 'a', pod: 'p1' }, (i) => i * 60 * 3),
  series('demo_requests_total', { namespace: 'b', pod: 'p1' }, (i) => i * 60 * 500),
  ...['0.1', '0.5', '+Inf'].flatMap((le, bucket) => [
    series('demo_latency_bucket', { namespace: 'a', le }, (i) => i * (bucket + 1) * 10),
    series('demo_latency_bucket', { namespace: 'b', le }, (i) => i * (3 - bucket) * 1_000),
  ]),
];

/** Each query as a tenant writes it, and the same query written by hand for namespace a. */
const QUERIES: [string, string][] = [
  ['demo_requests', 'demo_requests{namespace="a"}'],
  ['{__name__="demo_requests", pod="p1"}', '{__name__="demo_requests", pod="p1", namespace="a"}'],
  ['demo_requests{namespace=~"a|b"}', 'demo_requests{namespace="a"}'],
  ['demo_requests{namespace!="b"}', 'demo_requests{namespace="a"}'],
  ['sum(demo_requests)', 'sum(demo_requests{namespace="a"})'],
  ['count(demo_requests) + count(demo_capacity)', 'count(demo_requests{namespace="a"}) + count(demo_capacity{namespace="a"})'],
  ['sum by (pod) (demo_requests)', 'sum by (pod) (demo_requests{namespace="a"})'],
  ['sum(rate(demo_requests_total[5m]))', 'sum(rate(demo_requests_total{namespace="a"}[5m]))'],
  ['demo_requests / on(namespace, pod) demo_capacity', 'demo_requests{namespace="a"} / on(namespace, pod) demo_capacity{namespace="a"}'],
  ['demo_requests / ignoring(namespace) group_left demo_capacity', 'demo_requests{namespace="a"} / ignoring(namespace) group_left demo_capacity{namespace="a"}'],
  ['max_over_time(demo_requests[30m:5m])', 'max_over_time(demo_requests{namespace="a"}[30m:5m])'],
  ['avg_over_time(demo_requests[10m] offset 1h)', 'avg_over_time(demo_requests{namespace="a"}[10m] offset 1h)'],
  [`demo_requests @ ${(START + 60 * MINUTE) / 1_000}`, `demo_requests{namespace="a"} @ ${(START + 60 * MINUTE) / 1_000}`],
  [
    'histogram_quantile(0.9, sum by (le) (rate(demo_latency_bucket[5m])))',
    'histogram_quantile(0.9, sum by (le) (rate(demo_latency_bucket{namespace="a"}[5m])))',
  ],
  ['topk(1, demo_requests) # the busiest pod', 'topk(1, demo_requests{namespace="a"})'],
  [
    'label_replace(demo_requests, "ns", "$1", "namespace", "(.*)")',
    'label_replace(demo_requests{namespace="a"}, "ns", "$1", "namespace", "(.*)")',
  ],
  ['absent(demo_requests{pod="p3"})', 'absent(demo_requests{pod="p3", namespace="a"})'],
];

interface RangeResult {
  metric: Record<string, string>;
  values: [number, string][];
}

let prometheus: PrometheusHandle;

beforeAll(async () => {
  prometheus = await startPrometheus({ series: SERIES });
});

afterAll(async () => {
  await prometheus?.close();
});

interface Answer {
  status: string;
  error?: string;
  data?: { result: RangeResult[] };
}

async function answerTo(query: string): Promise<Answer> {
  const from = START + 90 * MINUTE;
  const body = new URLSearchParams({ query, start: String(from / 1_000), end: String(END / 1_000), step: '60' });
  const response = await fetch(`${prometheus.url}/api/v1/query_range`, { method: 'POST', body });
  const answer = (await response.json()) as Answer;
  answer.data?.result.sort((x, y) => JSON.stringify(x.metric).localeCompare(JSON.stringify(y.metric)));
  return answer;
}

async function queryRange(query: string): Promise<RangeResult[]> {
  const answer = await answerTo(query);
  expect(answer.error, `Prometheus on ${query}`).toBeUndefined();
  expect(answer.status).toBe('success');
  return answer.data!.result;
}

describe('enforceLabel against a real Prometheus', () => {
  it.each(QUERIES)('%s returns what the hand-written query for namespace a returns', async (query, byHand) => {
    const enforced = enforceLabel(query, 'namespace', 'a');
    const [enforcedResult, handResult, unenforced] = await Promise.all([
      queryRange(enforced),
      queryRange(byHand),
      answerTo(query),
    ]);

    expect(enforcedResult.length).toBeGreaterThan(0);
    expect(enforcedResult).toEqual(handResult);
    for (const { metric } of enforcedResult) {
      if ('namespace' in metric) expect(metric.namespace).toBe('a');
    }
    // The series of b (or without a namespace) were there to be read: without enforcement the answer
    // differs, or is an error (matching across namespaces finds duplicate series).
    if (!query.includes('namespace') || unenforced.error) expect(unenforced.data?.result).not.toEqual(enforcedResult);
  });

  it('reads nothing of a namespace that has no series', async () => {
    expect(await queryRange(enforceLabel('demo_requests', 'namespace', 'c'))).toEqual([]);
    expect(await queryRange(enforceLabel('sum(rate(demo_requests_total[5m]))', 'namespace', 'c'))).toEqual([]);
  });

  it('quotes a value with quotes, a backslash and non-ASCII so that Prometheus reads exactly that value', async () => {
    const enforced = enforceLabel('sum by (namespace, pod) (demo_requests)', 'namespace', ODD_NAMESPACE);
    const result = await queryRange(enforced);
    expect(result.map((r) => r.metric)).toEqual([{ namespace: ODD_NAMESPACE, pod: 'p9' }]);
  });
});
