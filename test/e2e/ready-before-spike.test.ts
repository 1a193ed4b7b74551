// End to end: a user installs prescale with kubectl into a cluster whose pods take 60-90 s to become
// Ready, and a daily demand ramp from BASE to PEAK is due five minutes from now. When it arrives,
// the Deployment's Ready replicas must already carry it, which an HPA (reacting to the load it
// sees) cannot achieve with the same pods' start-up time.
//
// Takes about six minutes of wall-clock time (the ramp has to come): `npm run test:e2e` runs it,
// the default `npm test` does not.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { HpaController } from '../../src/simulate/hpa.js';
import { runSimulation } from '../../src/simulate/engine.js';
import { mintServiceAccountToken } from '../helpers/envtest.js';
import { MIN } from '../helpers/history.js';
import { spawnOperator, type OperatorProcess } from '../helpers/operator-process.js';
import { parseDuration } from '../../src/api/units.js';
import {
  MAX_READY_DELAY_MS,
  MIN_READY_DELAY_MS,
  PEAK,
  PER_REPLICA,
  WORKLOAD_MANIFEST,
  spikeScenario,
  startSpikeEnvironment,
  type SpikeEnvironment,
} from './spike-environment.js';

const NS = 'shop';
const scenario = spikeScenario(Date.now(), 5 * MIN);
const { rampStart, demand } = scenario;
const demandAtRamp = demand(rampStart);

interface Sample {
  at: number;
  replicas: number;
  readyReplicas: number;
}

let env: SpikeEnvironment;
let operator: OperatorProcess | undefined;
let workDir: string;
const timeline: Sample[] = [];
let sampling: NodeJS.Timeout | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-e2e-'));
  env = await startSpikeEnvironment(scenario);
  const { cluster, prometheus } = env;
  await cluster.kubectl(['apply', '-k', 'deploy/']);
  await cluster.kubectl(['apply', '-f', WORKLOAD_MANIFEST]);

  // No image of the operator here: `prescale run` runs as a process, as in the deploy/ Deployment,
  // with that ServiceAccount's token and nothing more.
  const token = await mintServiceAccountToken(cluster.controlPlane.kubeConfig, 'prescale-system', 'prescale');
  const kubeconfig = join(workDir, 'operator.kubeconfig');
  await writeFile(kubeconfig, cluster.controlPlane.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
  operator = spawnOperator([
    '--kubeconfig', kubeconfig,
    '--prometheus-url', prometheus.url,
    '--metrics-bind-address', '127.0.0.1:0',
    '--health-probe-bind-address', '127.0.0.1:0',
    '--leader-elect',
    '--leader-election-namespace', 'prescale-system',
    '--concurrency', '2',
    '--log-level', 'info',
  ]);
  await operator.waitForLog((l) => l.msg === 'informer caches synced', 60_000);

  const apps = cluster.controlPlane.kubeConfig.makeApiClient(AppsV1Api);
  sampling = setInterval(() => {
    apps
      .readNamespacedDeployment({ name: 'web', namespace: NS })
      .then((d) => timeline.push({ at: Date.now(), replicas: d.spec?.replicas ?? 0, readyReplicas: d.status?.readyReplicas ?? 0 }))
      .catch(() => undefined);
  }, 2_000);
}, 240_000);

afterAll(async () => {
  if (sampling) clearInterval(sampling);
  if (operator) {
    operator.kill('SIGTERM');
    await operator.exited;
  }
  await env?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function getScaler(): Promise<PredictiveScaler> {
  return (await env.cluster.controlPlane.kubeConfig
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name: 'web' })) as PredictiveScaler;
}

function sleepUntil(t: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
}

describe('pods are Ready before the spike', () => {
  it('has the ramp\'s demand covered by Ready replicas when it arrives', async () => {
    await sleepUntil(rampStart);
    const apps = env.cluster.controlPlane.kubeConfig.makeApiClient(AppsV1Api);
    const atRamp = (await apps.readNamespacedDeployment({ name: 'web', namespace: NS })).status ?? {};
    const scaler = await getScaler();
    const needed = Math.ceil(demandAtRamp / PER_REPLICA);
    expect(demandAtRamp).toBeGreaterThan(PEAK * 0.99);
    // On failure, say how the replicas and the plan evolved.
    const story = () =>
      `timeline (s before the ramp: replicas/ready): ${timeline.map((t) => `${Math.round((t.at - rampStart) / 1000)}:${t.replicas}/${t.readyReplicas}`).join(' ')}; leadTime ${scaler.status?.leadTime} (${scaler.status?.leadTimeSource}); explanation: ${scaler.status?.explanation}`;
    expect(atRamp.readyReplicas ?? 0, story()).toBeGreaterThanOrEqual(needed);
    // ... and the forecast the scaler planned on, not just more pods than needed by luck.
    expect(scaler.status?.forecast?.peak).toBeGreaterThan(PEAK * 0.9);
    expect(atRamp.readyReplicas ?? 0).toBeGreaterThanOrEqual(Math.ceil((scaler.status!.forecast!.peak! * 0.95) / PER_REPLICA));

    // Scaled up from the base level ahead of the ramp by more than the fastest pod start-up: no
    // reaction to the ramp itself could have had these pods Ready. (How far ahead follows the
    // learned lead time, p90 start-up + interval, checked below.)
    const firstEnough = timeline.find((s) => s.replicas >= needed);
    expect(firstEnough).toBeDefined();
    expect(firstEnough!.at).toBeLessThan(rampStart - MIN_READY_DELAY_MS);
    expect(timeline[0]!.replicas).toBeLessThan(needed);
  }, 8 * 60_000);

  it('shows the scaler\'s state in kubectl get and describe', async () => {
    const scaler = await getScaler();
    const table = await env.cluster.kubectl(['get', 'pscaler', '-n', NS]);
    const [header, row] = table.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(['NAME', 'TARGET', 'MIN', 'MAX', 'CURRENT', 'DESIRED', 'PEAK', 'MODEL', 'MODE', 'AGE']);
    expect(row!.slice(0, 4)).toEqual(['web', 'web', '2', '40']);
    expect(Number(row![4])).toBeGreaterThanOrEqual(Math.ceil(PEAK / PER_REPLICA));
    expect(Number(row![5])).toBeGreaterThanOrEqual(Math.ceil(PEAK / PER_REPLICA));
    expect(Number(row![6])).toBeGreaterThan(PEAK * 0.9);
    expect(row!.slice(7, 9)).toEqual(['HoltWinters', 'Auto']);
    // Learned from the pods' start-ups (KWOK: 60-90 s after they start): the p90 plus the 10 s
    // interval and the 1m forecast step.
    expect(scaler.status?.leadTimeSource).toBe('Learned');
    const learnedSeconds = parseDuration(scaler.status!.leadTime!) / 1000;
    expect(learnedSeconds).toBeGreaterThanOrEqual(130);
    expect(learnedSeconds).toBeLessThanOrEqual(175);

    const described = await env.cluster.kubectl(['describe', 'pscaler', 'web', '-n', NS]);
    expect(described).toMatch(/Conditions:/);
    for (const type of ['Ready', 'ForecastAvailable', 'AbleToScale', 'Degraded']) {
      expect(described).toMatch(new RegExp(`Type:\\s+${type}\\b`));
    }
    expect(described).toMatch(/Explanation:\s+rps forecast p90/);
  });

  it('is what a reactive HPA with the same pod start-up cannot do', () => {
    // The HPA algorithm of `prescale simulate` on the same demand, seeing it without any lag, with
    // pods Ready 90 s after they are requested.
    const from = rampStart - 30 * MIN;
    const values = Array.from({ length: 40 }, (_, i) => demand(from + i * MIN));
    const [hpa] = runSimulation(
      [new HpaController({ targetUtilization: 1, capacityPerReplica: PER_REPLICA, minReplicas: 2, maxReplicas: 40 })],
      {
        demand: { start: from, stepMs: MIN, values },
        capacityPerReplica: PER_REPLICA,
        startupDelayMs: MAX_READY_DELAY_MS,
        metricLagMs: 0,
        evaluateFrom: from,
        minReplicas: 2,
        maxReplicas: 40,
      },
    );
    const rampMinute = 30;
    expect(hpa!.readyCapacity[rampMinute]!).toBeLessThan(demandAtRamp);
    expect(hpa!.readyCapacity[rampMinute + 1]!).toBeLessThan(demand(rampStart + MIN));
    // It does catch up once its pods are Ready (to within its 10 % tolerance): the simulation is not rigged.
    expect(hpa!.readyCapacity[rampMinute + 5]!).toBeGreaterThanOrEqual(0.9 * demand(rampStart + 5 * MIN));
  });
});
