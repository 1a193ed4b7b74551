// The KEDA harness (test/helpers/keda.ts) with the real KEDA in the KWOK cluster: a ScaledObject
// with a cron trigger (no external system; its window covers the whole year but the last minute)
// makes KEDA's operator create an HPA on an external metric; the real HPA controller of
// kube-controller-manager reads that metric from KEDA's metrics adapter through the aggregation
// layer and scales the Deployment from 1 to the trigger's desiredReplicas.
import { AppsV1Api, AutoscalingV2Api, CustomObjectsApi, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_READY_DELAY_ANNOTATION, startCluster, type Cluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/eventually.js';
import { EXTERNAL_METRICS_API_SERVICE, startKeda, type Keda } from '../helpers/keda.js';
import { logTail } from '../../src/demo/env/processes.js';

const DESIRED = 4;
const NAMESPACE = 'default';
const NAME = 'cron-app';

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
interface ScaledObject {
  status?: { conditions?: Condition[]; hpaName?: string; externalMetricNames?: string[] };
}

let cluster: Cluster;
let keda: Keda;

beforeAll(async () => {
  cluster = await startCluster({ nodes: 1 });
  keda = await startKeda(cluster);
}, 240_000);

afterAll(async () => {
  await keda?.stop();
  await cluster?.close();
});

describe('KEDA harness', () => {
  it('serves external metrics through the aggregation layer', async () => {
    const apiService = JSON.parse(await cluster.kubectl(['get', 'apiservice', EXTERNAL_METRICS_API_SERVICE, '-o', 'json'])) as { status: { conditions: Condition[] } };
    expect(apiService.status.conditions.find((c) => c.type === 'Available')?.status).toBe('True');
    const discovery = JSON.parse(await cluster.kubectl(['get', '--raw', '/apis/external.metrics.k8s.io/v1beta1'])) as { kind: string; groupVersion: string };
    expect(discovery).toMatchObject({ kind: 'APIResourceList', groupVersion: 'external.metrics.k8s.io/v1beta1' });
  });

  it('scales a Deployment with a cron ScaledObject through the real HPA controller', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: NAME } },
        template: {
          metadata: { labels: { app: NAME }, annotations: { [POD_READY_DELAY_ANNOTATION]: '1s' } },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] },
        },
      },
    };
    const scaledObject = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: NAME, namespace: NAMESPACE },
      spec: {
        scaleTargetRef: { name: NAME },
        pollingInterval: 5,
        minReplicaCount: 1,
        maxReplicaCount: 10,
        // Active from Jan 1 00:00 until Dec 31 23:59 UTC: within the window at any time but that minute.
        triggers: [{ type: 'cron', metadata: { timezone: 'UTC', start: '0 0 1 1 *', end: '59 23 31 12 *', desiredReplicas: String(DESIRED) } }],
      },
    };
    await cluster.kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, scaledObject] }) });

    const kc = cluster.controlPlane.kubeConfig;
    const custom = kc.makeApiClient(CustomObjectsApi);
    const readScaledObject = () =>
      custom.getNamespacedCustomObject({ group: 'keda.sh', version: 'v1alpha1', namespace: NAMESPACE, plural: 'scaledobjects', name: NAME }) as Promise<ScaledObject>;
    const condition = (so: ScaledObject, type: string) => so.status?.conditions?.find((c) => c.type === type);
    const so = await withLogs(() => eventually('ScaledObject Ready and Active', readScaledObject, (s) => condition(s, 'Ready')?.status === 'True' && condition(s, 'Active')?.status === 'True', 60_000));
    expect(so.status?.hpaName).toBe(`keda-hpa-${NAME}`);

    // KEDA's HPA targets an external metric; the adapter answers it with the trigger's value.
    const hpa = await kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: NAMESPACE, name: so.status!.hpaName! });
    const external = hpa.spec?.metrics?.[0]?.external;
    expect(external?.metric.name).toMatch(/^s0-cron-/);
    const selector = Object.entries(external?.metric.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const raw = await cluster.kubectl(['get', '--raw', `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NAMESPACE}/${external!.metric.name}?labelSelector=${encodeURIComponent(selector)}`]);
    const values = JSON.parse(raw) as { items: { metricName: string; value: string }[] };
    expect(values.items.map((i) => i.value)).toEqual([String(DESIRED)]);

    // The HPA controller (5 s sync) scales the Deployment to DESIRED; KWOK makes the pods Ready.
    const apps = kc.makeApiClient(AppsV1Api);
    await withLogs(() => eventually('Deployment scaled by the HPA', () => apps.readNamespacedDeployment({ namespace: NAMESPACE, name: NAME }), (d) => d.spec?.replicas === DESIRED && d.status?.readyReplicas === DESIRED, 90_000));
    const scaled = await eventually(
      'HPA status',
      () => kc.makeApiClient(AutoscalingV2Api).readNamespacedHorizontalPodAutoscaler({ namespace: NAMESPACE, name: so.status!.hpaName! }),
      (h: V2HorizontalPodAutoscaler) => h.status?.currentReplicas === DESIRED,
      30_000,
    );
    expect(scaled.status?.desiredReplicas).toBe(DESIRED);
    expect(scaled.status?.conditions?.find((c) => c.type === 'ScalingActive')?.status).toBe('True');
    expect(scaled.status?.currentMetrics?.[0]?.external?.current.averageValue).toBe('1');
    // The HPA controller did it (KEDA itself only scales from and to zero).
    const events = await cluster.kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', `involvedObject.name=${so.status!.hpaName!},reason=SuccessfulRescale`, '-o', 'jsonpath={.items[*].message}']);
    expect(events).toContain(`New size: ${DESIRED}; reason: external metric`);
  }, 180_000);
});

/** Adds the KEDA and controller-manager log tails to a failure. */
async function withLogs<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const logs = [
      `keda-operator.log:\n${logTail(keda.operatorLog, 30)}`,
      `keda-adapter.log:\n${logTail(keda.adapterLog, 30)}`,
      `kube-controller-manager.log:\n${logTail(`${cluster.workDir}/kube-controller-manager.log`, 30)}`,
    ];
    throw new Error(`${(err as Error).message}\n${logs.join('\n')}`);
  }
}
