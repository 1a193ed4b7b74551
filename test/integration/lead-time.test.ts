// leadTime: Auto against a real API server: the operator (with the deploy/ ServiceAccount's token)
// watches the target's pods and learns the lead time from their creation-to-Ready times. There is no
// scheduler or kubelet, so the test creates the pods and marks them Ready through pods/status.
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { MIN, minutePoints } from '../helpers/history.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';
import { eventually } from '../helpers/eventually.js';

const NS = 'shop';
const S = 1000;

let cp: ControlPlane;
let prom: PrometheusHandle;
let operator: RunningOperator;
let admin: KubeConfig;
let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-lead-time-test-'));
  const end = Date.now() - MIN;
  [cp, prom] = await Promise.all([
    startControlPlane(),
    startPrometheus({ series: [{ name: 'demand', labels: { app: 'web' }, points: minutePoints(end - 30 * MIN, end, () => 100) }] }),
  ]);
  admin = cp.kubeConfig;
  await applyManifests(admin, 'crds');
  await applyKustomization(admin, 'deploy');
  await applyManifests(admin, [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
      },
    },
  ]);
  const token = await mintServiceAccountToken(admin, 'prescale-system', 'prescale');
  operator = await startOperator({
    kubeConfig: cp.tokenKubeConfig(token),
    logger: createLogger({ level: 'debug', destination: createWriteStream(join(workDir, 'operator.log')) }),
    prometheusUrl: prom.url,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    leaderElect: false,
    leaderElectionNamespace: 'prescale-system',
    leaderElectionId: 'prescale-operator',
    concurrency: 2,
    trainingWorkers: 1,
    trainingTimeoutMs: 60_000,
    trainingWorkerScript: TRAINING_WORKER_SCRIPT,
    persistModels: false,
    version: 'test',
  });
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await Promise.all([cp?.close(), prom?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** Creates a pod and, when `readyAfterS` is given, marks it Ready that many seconds after its creation. */
async function startPod(name: string, labels: Record<string, string>, readyAfterS?: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  const created = await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name, labels }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
  });
  if (readyAfterS === undefined) return;
  const readyAt = new Date(new Date(created.metadata!.creationTimestamp!).getTime() + readyAfterS * S);
  await core.patchNamespacedPodStatus({
    name,
    namespace: NS,
    body: [{ op: 'add', path: '/status/conditions', value: [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt.toISOString() }] }],
  });
}

async function getScaler(name: string): Promise<PredictiveScaler> {
  return (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name })) as PredictiveScaler;
}


async function leadTimeMetric(): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${operator.servers.metrics!.port}/metrics`)).text();
  return /^prescale_lead_time_seconds\{namespace="shop",scaler="web"\} (\S+)$/m.exec(text)?.[1];
}

describe('leadTime: Auto', () => {
  it('uses the 2m default until three of the target\'s pods became Ready, then the p90 of their start-ups', async () => {
    await startPod('web-a', { app: 'web' }, 20);
    await startPod('web-b', { app: 'web' }, 35);
    await startPod('web-starting', { app: 'web' });
    // Another workload's slow pod in the same namespace must not count.
    await startPod('batch-a', { app: 'batch' }, 300);
    await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: NS,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'PredictiveScaler',
        metadata: { name: 'web', namespace: NS },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
          minReplicas: 2,
          maxReplicas: 20,
          interval: '5s',
          metrics: [{ name: 'rps', query: 'sum(demand{app="web"})', targetPerReplica: '50' }],
          forecast: { model: 'Linear', history: '1h', step: '1m', horizon: '30m' },
          scaling: { leadTime: 'Auto' },
        },
      },
    });

    const before = await eventually('the default lead time', () => getScaler('web'), (s) => s.status?.leadTimeSource !== undefined, 30_000);
    expect(before.status).toMatchObject({ leadTime: '2m', leadTimeSource: 'Default' });
    expect(await leadTimeMetric()).toBe('120');

    await startPod('web-c', { app: 'web' }, 50);
    const after = await eventually('the learned lead time', () => getScaler('web'), (s) => s.status?.leadTimeSource === 'Learned', 30_000);
    // p90 of 20 s, 35 s and 50 s (nearest rank): 50 s, plus the 5 s interval and the 1m step.
    expect(after.status?.leadTime).toBe('1m55s');
    expect(await eventually('the lead-time metric', leadTimeMetric, (v) => v === '115', 30_000)).toBe('115');

    // A fourth, faster start-up leaves the p90 of 20, 35, 42 and 50 at 50 s; a fifth, slower one moves
    // it to 61 s (+5 s interval, +1m step). (The API server keeps condition times to the second.)
    await startPod('web-d', { app: 'web' }, 42);
    await startPod('web-e', { app: 'web' }, 61);
    const moved = await eventually('the lead time to follow new start-ups', () => getScaler('web'), (s) => s.status?.leadTime !== '1m55s', 30_000);
    expect(moved.status).toMatchObject({ leadTime: '2m6s', leadTimeSource: 'Learned' });
  }, 90_000);
});
