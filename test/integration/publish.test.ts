// mode: Publish against a real kube-apiserver running the aggregation layer and a real Prometheus:
// the operator (with the deploy/ RBAC plus components/publishing) computes the decision, patches
// nothing, and serves it through the API server's aggregator as external.metrics.k8s.io and to a
// gRPC client speaking KEDA's external-scaler contract; an HPA or KEDA's HPA that consumes it is not
// a conflict.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { AppsV1Api, AutoscalingV2Api, CustomObjectsApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { exposeLocalPort, waitForApiServiceAvailable } from '../../src/demo/env/aggregation.js';
import { createLogger } from '../../src/observability/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { condition, eventually } from '../helpers/eventually.js';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { DAY, MIN, dailyPlateau, minutePoints, withNoise } from '../helpers/history.js';
import { httpsGet } from '../helpers/https-json.js';
import { externalScalerClient, type ExternalScalerClient } from '../helpers/keda-client.js';
import { renderKustomization } from '../helpers/kustomize.js';
import { applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';

const NS = 'shop';
const started = Date.now();
const rampStart = started + 4 * MIN;
const demand = withNoise(dailyPlateau(rampStart, 100, 1000), 3);

let cp: ControlPlane;
let prom: PrometheusHandle;
let operator: RunningOperator;
let admin: KubeConfig;
let workDir: string;
let keda: ExternalScalerClient;

function scaler(name: string, mode: string) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      mode,
      minReplicas: 2,
      maxReplicas: 60,
      interval: '5s',
      metrics: [{ name: 'rps', query: 'sum(demand{app="web"})', targetPerReplica: '50' }],
      forecast: { model: 'HoltWinters', history: '3d', step: '1m', horizon: '30m', seasonality: ['1d'], quantile: 0.9 },
      scaling: { leadTime: '5m', headroom: '10%', scaleUp: { maxReplicasPerMinute: 100 } },
    },
  };
}

function deployment(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
    },
  };
}

function hpa(name: string, target: string, metricName: string, selector?: Record<string, string>, owner?: string) {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name,
      namespace: NS,
      ...(owner ? { ownerReferences: [{ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', name: owner, uid: '8d3c1a52-0000-4000-8000-000000000001' }] } : {}),
    },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
      minReplicas: 2,
      maxReplicas: 60,
      metrics: [
        { type: 'External', external: { metric: { name: metricName, ...(selector ? { selector: { matchLabels: selector } } : {}) }, target: { type: 'AverageValue', averageValue: '1' } } },
      ],
    },
  };
}

async function getScaler(name: string): Promise<PredictiveScaler> {
  return (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name })) as PredictiveScaler;
}

async function replicasOf(name: string): Promise<number> {
  return (await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: NS })).spec?.replicas ?? -1;
}

/** GET through the API server (and so through the aggregator) with a bearer token. */
function getRaw(token: string, path: string) {
  return httpsGet(new URL(path, cp.server), {
    headers: { Authorization: `Bearer ${token}` },
    ...(cp.caData ? { ca: Buffer.from(cp.caData, 'base64') } : { rejectUnauthorized: false }),
  });
}

const metricPath = (scalerName: string) =>
  `/apis/external.metrics.k8s.io/v1beta1/namespaces/${NS}/prescale_desired_replicas?labelSelector=${encodeURIComponent(`scaler=${scalerName}`)}`;
const ref = (scalerName: string, namespace = NS) => ({ name: 'so', namespace, scalerMetadata: { scaler: scalerName, scalerAddress: 'prescale:9100' } });

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-publish-test-'));
  const end = started - MIN;
  [cp, prom] = await Promise.all([
    startControlPlane({ aggregation: true }),
    startPrometheus({ series: [{ name: 'demand', labels: { app: 'web' }, points: minutePoints(end - 3 * DAY, end, demand) }] }),
  ]);
  admin = cp.kubeConfig;
  await applyManifests(admin, 'crds');
  // The operator runs as a local process: the component's Service (which selects pods) is replaced
  // by one whose EndpointSlice points at this machine.
  const objects = await renderKustomization('deploy', ['deploy/components/publishing']);
  await applyManifests(admin, objects.filter((o: KubernetesObject) => !(o.kind === 'Service' && o.metadata?.name === 'prescale-publishing')));
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await applyManifests(admin, ['pub', 'consumed', 'keda-owned', 'auto-consumed'].map(deployment));
  const token = await mintServiceAccountToken(admin, 'prescale-system', 'prescale');
  operator = await startOperator({
    kubeConfig: cp.tokenKubeConfig(token),
    logger: createLogger({ level: 'debug', destination: createWriteStream(join(workDir, 'operator.log')) }),
    prometheusUrl: prom.url,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    externalScalerBindAddress: '127.0.0.1:0',
    externalMetricsBindAddress: '0.0.0.0:0',
    leaderElect: false,
    leaderElectionNamespace: 'prescale-system',
    leaderElectionId: 'prescale-operator',
    concurrency: 4,
    trainingWorkers: 1,
    trainingTimeoutMs: 120_000,
    trainingWorkerScript: TRAINING_WORKER_SCRIPT,
    version: 'test',
  });
  await exposeLocalPort(admin, { namespace: 'prescale-system', name: 'prescale-publishing', port: operator.publishing.externalMetrics!.port });
  await waitForApiServiceAvailable(admin, 'v1beta1.external.metrics.k8s.io', 60_000);
  keda = await externalScalerClient(`127.0.0.1:${operator.publishing.keda!.port}`);
}, 240_000);

afterAll(async () => {
  keda?.close();
  await operator?.stop();
  await Promise.all([cp?.close(), prom?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('mode: Publish', () => {
  it('decides ahead of the ramp, patches nothing, and says nothing consumes it yet', async () => {
    await applyManifests(admin, [scaler('pub', 'Publish')]);
    const s = await eventually('pub decided', () => getScaler('pub'), (x) => (x.status?.desiredReplicas ?? 0) >= 20, 90_000);
    expect(Date.now()).toBeLessThan(rampStart);
    expect(await replicasOf('pub')).toBe(2);
    expect(condition(s, 'Ready')?.status).toBe('True');
    expect(condition(s, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'NotConsumed' });
    expect(condition(s, 'AbleToScale')!.message).toMatch(/metadata scaler: pub/);
  });

  it('serves status.desiredReplicas through the aggregation layer to a user allowed to read it', async () => {
    const s = await getScaler('pub');
    const r = await eventually('metric served', () => getRaw(cp.adminToken, metricPath('pub')), (x) => x.status === 200 && x.body.items?.[0]?.value === String(s.status?.desiredReplicas ?? -1), 30_000);
    expect(r.body).toMatchObject({ kind: 'ExternalMetricValueList', items: [{ metricName: 'prescale_desired_replicas', metricLabels: { scaler: 'pub' } }] });
  });

  it('refuses a user RBAC does not allow, naming the user (the SubjectAccessReview runs as the caller)', async () => {
    await applyManifests(admin, [{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'nosy', namespace: NS } }]);
    const r = await getRaw(await mintServiceAccountToken(admin, NS, 'nosy'), metricPath('pub'));
    expect(r.status).toBe(403);
    expect(r.body.message).toMatch(/system:serviceaccount:shop:nosy/);
  });

  it('answers a scaler that does not publish with a Status saying so', async () => {
    await applyManifests(admin, [scaler('auto-consumed', 'Auto')]);
    const r = await eventually('auto scaler refused', () => getRaw(cp.adminToken, metricPath('auto-consumed')), (x) => x.status === 404, 30_000);
    expect(r.body.message).toMatch(/not in mode Publish/);
  });

  it('serves the same decision to a KEDA external-scaler client, only within the ScaledObject\'s namespace', async () => {
    const desired = (await getScaler('pub')).status!.desiredReplicas!;
    expect(await keda.getMetricSpec(ref('pub'))).toEqual([expect.objectContaining({ metricName: 'prescale-pub', targetSizeFloat: 1 })]);
    const values = await keda.getMetrics(ref('pub'), 's0-prescale-pub');
    expect(values).toHaveLength(1);
    expect(Math.abs(values[0]!.metricValueFloat - desired)).toBeLessThanOrEqual(2); // it may have moved between the two reads
    expect(await keda.isActive(ref('pub'))).toBe(true);
    await expect(keda.getMetrics(ref('pub', 'other'), 's0-prescale-pub')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
    await expect(keda.getMetrics(ref('auto-consumed'), 'x')).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
  });

  it('takes an HPA that reads the recommendation as its consumer, not a conflict', async () => {
    await applyManifests(admin, [scaler('consumed', 'Publish'), hpa('consumed', 'consumed', 'prescale_desired_replicas', { scaler: 'consumed' })]);
    const s = await eventually('consumed', () => getScaler('consumed'), (x) => condition(x, 'AbleToScale')?.reason === 'Published', 60_000);
    expect(condition(s, 'AbleToScale')!.message).toBe('published to HorizontalPodAutoscaler consumed, which scales Deployment consumed on this recommendation');
    expect(condition(s, 'Ready')?.status).toBe('True');
  });

  it("takes KEDA's HPA for a ScaledObject with prescale's trigger as its consumer, and names the ScaledObject", async () => {
    await applyManifests(admin, [scaler('keda-owned', 'Publish'), hpa('keda-hpa-keda-owned', 'keda-owned', 's1-prescale-keda-owned', { 'scaledobject.keda.sh/name': 'keda-owned' }, 'keda-owned')]);
    const s = await eventually('keda-owned', () => getScaler('keda-owned'), (x) => condition(x, 'AbleToScale')?.reason === 'Published', 60_000);
    expect(condition(s, 'AbleToScale')!.message).toMatch(/HorizontalPodAutoscaler keda-hpa-keda-owned \(ScaledObject keda-owned\)/);
  });

  it('in Auto, an HPA reading the recommendation is a conflict, and the message says to use Publish', async () => {
    await applyManifests(admin, [hpa('auto-consumed', 'auto-consumed', 'prescale_desired_replicas', { scaler: 'auto-consumed' })]);
    const s = await eventually('conflict', () => getScaler('auto-consumed'), (x) => condition(x, 'AbleToScale')?.reason === 'ConflictingAutoscaler', 60_000);
    expect(condition(s, 'AbleToScale')!.message).toMatch(/set mode: Publish/);
    // The HPA objects exist; nothing here runs them (no controller-manager), so the counts are prescale's alone.
    expect((await admin.makeApiClient(AutoscalingV2Api).listNamespacedHorizontalPodAutoscaler({ namespace: NS })).items.length).toBe(3);
  });
});
