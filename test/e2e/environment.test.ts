// The end-to-end environment itself: a Deployment's pods are scheduled onto KWOK's fake nodes and
// turn Ready after the delay in their annotation; Prometheus serves backfilled history and the
// exporter's live samples as one series.
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_READY_DELAY_ANNOTATION, startCluster, type Cluster } from '../helpers/cluster.js';
import { startExporter, type Exporter } from '../helpers/exporter.js';
import { MIN, minutePoints } from '../helpers/history.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { eventually } from '../helpers/eventually.js';

const READY_DELAY_S = 8;

let cluster: Cluster;
let exporter: Exporter;
let prom: PrometheusHandle;
const started = Date.now();

beforeAll(async () => {
  exporter = await startExporter({ gauges: [{ name: 'demand', labels: { app: 'web' }, value: () => 777 }] });
  [cluster, prom] = await Promise.all([
    startCluster({ nodes: 2 }),
    startPrometheus({
      series: [{ name: 'demand', labels: { app: 'web' }, points: minutePoints(started - 60 * MIN, started - MIN, () => 111) }],
      scrapeConfigs: [exporter.scrapeConfig('1s')],
    }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([cluster?.close(), prom?.close(), exporter?.close()]);
});


describe('end-to-end environment', () => {
  it('runs a Deployment on fake nodes whose pods turn Ready after their annotated delay', async () => {
    const nodes = await cluster.kubectl(['get', 'nodes', '-o', 'name']);
    expect(nodes.trim().split('\n').sort()).toEqual(['node/kwok-node-0', 'node/kwok-node-1']);

    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'slow', namespace: 'default' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'slow' } },
        template: {
          metadata: { labels: { app: 'slow' }, annotations: { [POD_READY_DELAY_ANNOTATION]: `${READY_DELAY_S}s` } },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/slow:1' }] },
        },
      },
    };
    const applied = Date.now();
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
    const apps = cluster.controlPlane.kubeConfig.makeApiClient(AppsV1Api);
    const status = () => apps.readNamespacedDeployment({ name: 'slow', namespace: 'default' }).then((d) => d.status ?? {});

    // Scheduled and started, not Ready yet.
    const pods = await eventually(
      'pods scheduled',
      () => cluster.controlPlane.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'default', labelSelector: 'app=slow' }),
      (list) => list.items.length === 3 && list.items.every((p) => p.spec?.nodeName && p.status?.podIP),
      30_000,
    );
    expect(pods.items.every((p) => p.spec!.nodeName!.startsWith('kwok-node-'))).toBe(true);
    expect((await status()).readyReplicas ?? 0).toBe(0);

    await eventually('3 ready replicas', status, (s) => s.readyReplicas === 3, 30_000);
    expect(Date.now() - applied).toBeGreaterThanOrEqual(READY_DELAY_S * 1000);
  }, 60_000);

  it('serves backfilled history and scraped live samples as one series', async () => {
    const query = async () => {
      const end = Date.now() / 1000;
      const url = `${prom.url}/api/v1/query_range?query=${encodeURIComponent('demand{app="web"}')}&start=${end - 3600}&end=${end}&step=15`;
      const body = (await (await fetch(url)).json()) as { data: { result: { metric: Record<string, string>; values: [number, string][] }[] } };
      return body.data.result;
    };
    const result = await eventually('live samples', query, (r) => r.length === 1 && r[0]!.values.at(-1)![1] === '777', 30_000);
    expect(result[0]!.metric).toEqual({ __name__: 'demand', app: 'web' });
    const values = result[0]!.values.map(([, v]) => Number(v));
    expect(values.filter((v) => v === 111).length).toBeGreaterThan(200);
    expect(new Set(values)).toEqual(new Set([111, 777]));
  }, 60_000);
});
