// The operator against a real kube-apiserver (RBAC on, running with a token bound only to the deploy/
// RBAC) and a real Prometheus holding days of history with a daily ramp due in a few minutes.
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CustomObjectsApi,
  CoordinationV1Api,
  CoreV1Api,
  EventsV1Api,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { DAY, MIN, dailyPlateau, minutePoints, withNoise } from '../helpers/history.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';
import { condition, eventually } from '../helpers/eventually.js';

const NS = 'shop';
const BASE = 100;
const PEAK = 1000;
const PER_REPLICA = 50;
/** The daily ramp starts this long after the test starts. */
const RAMP_IN_MS = 4 * MIN;

let cp: ControlPlane;
let prom: PrometheusHandle;
let operator: RunningOperator;
let admin: KubeConfig;
let workDir: string;
let logPath: string;
let token: string;
const started = Date.now();
const rampStart = started + RAMP_IN_MS;

/** A one-hour plateau every day at the time of day of `rampStart`. */
const demand = withNoise(dailyPlateau(rampStart, BASE, PEAK), 3);
const history = minutePoints;

type TargetRef = { apiVersion: string; kind: string; name: string };

function scalerManifest(
  name: string,
  target: string | TargetRef,
  opts: { query?: string; extraSpec?: object; annotations?: Record<string, string> } = {},
) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NS, ...(opts.annotations ? { annotations: opts.annotations } : {}) },
    spec: {
      scaleTargetRef: typeof target === 'string' ? { apiVersion: 'apps/v1', kind: 'Deployment', name: target } : target,
      minReplicas: 2,
      maxReplicas: 60,
      interval: '5s',
      metrics: [{ name: 'rps', query: opts.query ?? 'sum(demand{app="web"})', targetPerReplica: String(PER_REPLICA) }],
      forecast: { model: 'HoltWinters', history: '3d', step: '1m', horizon: '30m', seasonality: ['1d'], quantile: 0.9 },
      scaling: { leadTime: '5m', headroom: '10%', scaleUp: { maxReplicasPerMinute: 100 } },
      ...opts.extraSpec,
    },
  };
}

function deployment(name: string, replicas = 2) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'registry.invalid/web:1' }] } },
    },
  };
}

/** A custom resource kind that declares a scale subresource. */
const WIDGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'widgets.example.prescale.dev' },
  spec: {
    group: 'example.prescale.dev',
    scope: 'Namespaced',
    names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { replicas: { type: 'integer' } } },
              status: { type: 'object', properties: { replicas: { type: 'integer' } } },
            },
          },
        },
      },
    ],
  },
};

async function createScaler(manifest: object): Promise<void> {
  await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, body: manifest });
}

async function getScaler(name: string): Promise<PredictiveScaler> {
  return (await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, name })) as PredictiveScaler;
}

async function replicasOf(name: string): Promise<number> {
  return (await admin.makeApiClient(AppsV1Api).readNamespacedDeployment({ name, namespace: NS })).spec?.replicas ?? -1;
}


async function eventsFor(name: string) {
  const list = await admin.makeApiClient(EventsV1Api).listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.regarding?.name === name);
}

function crdsAndCustomTargets(): string {
  const statefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: NS },
    spec: { ...deployment('db').spec, serviceName: 'db' },
  };
  const widget = { apiVersion: 'example.prescale.dev/v1', kind: 'Widget', metadata: { name: 'gadget', namespace: NS }, spec: { replicas: 2 } };
  return [WIDGET_CRD, statefulSet, widget].map((o) => JSON.stringify(o)).join('\n---\n');
}

/** The operator as `prescale run` starts it, with the deploy/ ServiceAccount's token. */
function launchOperator(token: string, log: NodeJS.WritableStream): Promise<RunningOperator> {
  return startOperator({
    kubeConfig: cp.tokenKubeConfig(token),
    logger: createLogger({ level: 'debug', destination: log }),
    prometheusUrl: prom.url,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    leaderElect: true,
    leaderElectionNamespace: 'prescale-system',
    leaderElectionId: 'prescale-operator',
    concurrency: 4,
    trainingWorkers: 1,
    trainingTimeoutMs: 120_000,
    trainingWorkerScript: TRAINING_WORKER_SCRIPT,
    version: 'test',
    // Short enough that the API server restart below costs the lease: the operator must stop, win
    // it back and carry on.
    leaseDurationMs: 4000,
    renewDeadlineMs: 3000,
    retryPeriodMs: 500,
  });
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-operator-test-'));
  logPath = join(workDir, 'operator.log');
  const end = started - MIN;
  [cp, prom] = await Promise.all([
    startControlPlane(),
    startPrometheus({
      series: [
        { name: 'demand', labels: { app: 'web' }, points: history(end - 3 * DAY, end, demand) },
        // Only ten minutes of history: too short for any seasonal model.
        { name: 'demand', labels: { app: 'young' }, points: history(end - 10 * MIN, end, () => 500) },
        // Three hours: too short for the seasonal model, enough for the pretrained one.
        { name: 'demand', labels: { app: 'newborn' }, points: history(end - 180 * MIN, end, () => 800) },
      ],
    }),
  ]);
  admin = cp.kubeConfig;
  await applyManifests(admin, 'crds');
  await applyKustomization(admin, 'deploy');
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await applyManifests(admin, ['web', 'forecast-only', 'paused', 'bad-query', 'hpa-owned', 'young', 'newborn', 'promdown', 'after-restart', 'ensemble', 'planned'].map((n) => deployment(n)));
  await applyManifests(admin, crdsAndCustomTargets());

  // The operator runs with the deploy/ ServiceAccount's token: any permission missing from the
  // ClusterRole fails these tests.
  token = await mintServiceAccountToken(admin, 'prescale-system', 'prescale');
  const log = createWriteStream(logPath);
  operator = await launchOperator(token, log);
}, 240_000);

afterAll(async () => {
  await operator?.stop();
  await Promise.all([cp?.close(), prom?.close()]);
  if (process.env.PRESCALE_KEEP_TEST_LOGS) await copyFile(logPath, process.env.PRESCALE_KEEP_TEST_LOGS);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('operator against a real API server and Prometheus', () => {
  it('scales a Deployment up before the ramp its history predicts, and explains itself', async () => {
    await createScaler(scalerManifest('web', 'web'));
    const replicas = await eventually('web scaled up', () => replicasOf('web'), (r) => r >= 20);
    // Scaled before the ramp: the demand Prometheus reports now is still the base level.
    expect(Date.now()).toBeLessThan(rampStart);
    expect(replicas).toBeLessThanOrEqual(60);

    const s = await eventually('status written', () => getScaler('web'), (x) => x.status?.desiredReplicas === replicas);
    expect(s.status?.observedGeneration).toBe(s.metadata.generation);
    expect(s.status?.forecast?.model).toBe('HoltWinters');
    expect(s.status?.forecast?.peak).toBeGreaterThan(PEAK * 0.8);
    expect(s.status?.leadTime).toBe('5m');
    expect(s.status?.models?.[0]).toMatchObject({ name: 'HoltWinters', mase: expect.any(Number) });
    expect(s.status?.explanation).toMatch(/rps forecast p90/);
    // The HPA formula on the base demand of 100 ± 3: 2, or 3 once the count has left 2 (its tolerance
    // keeps 2 only while the count is 2; the pretrained model may have moved it while HoltWinters trained).
    expect(s.status?.explanation).toMatch(/reactive [23]\b/);
    expect(condition(s, 'Ready')?.status).toBe('True');
    expect(condition(s, 'AbleToScale')?.status).toBe('True');
    expect(condition(s, 'ForecastAvailable')?.status).toBe('True');
    expect(condition(s, 'Degraded')?.status).toBe('False');

    const events = await eventually('ScaledUp event', () => eventsFor('web'), (es) => es.some((e) => e.reason === 'ScaledUp'));
    const up = events.find((e) => e.reason === 'ScaledUp')!;
    expect(up.type).toBe('Normal');
    expect(up.note).toMatch(/Deployment web 2 -> \d+/);
    expect(up.reportingController).toBe('autoscaling.prescale.dev/operator');

    const metrics = await (await fetch(`http://127.0.0.1:${operator.servers.metrics!.port}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`prescale_desired_replicas\\{namespace="${NS}",scaler="web"\\} ${replicas}`));
    // One, or two when the pretrained model's forecast scaled first while HoltWinters trained.
    expect(metrics).toMatch(/prescale_scale_actions_total\{namespace="shop",scaler="web",direction="up"\} [12]\n/);
    expect(metrics).toMatch(/prescale_forecast_value\{namespace="shop",scaler="web",metric="rps",quantile="0.9"\}/);
    expect(metrics).toMatch(/prescale_reconcile_duration_seconds_count \d+/);
    expect(metrics).toMatch(/prescale_model_mase\{namespace="shop",scaler="web",metric="rps",model="HoltWinters"\} \d/);
    expect(metrics).toMatch(/prescale_observed_value\{namespace="shop",scaler="web",metric="rps"\} (9[7-9]|10[0-3])/);
    expect(metrics).toMatch(/prescale_tfjs_backend\{backend="(wasm|tensorflow|cpu)"\} 1/);
    expect(metrics).toMatch(/prescale_model_trainings_total\{outcome="success"\} \d/);
    expect(metrics).toMatch(/prescale_model_drift\{namespace="shop",scaler="web",metric="rps"\} 0/);

    const lines = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const scaledLine = lines.find((l) => l.msg === 'scaled up');
    expect(scaledLine).toMatchObject({ namespace: NS, scaler: 'web' });

    const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'prescale-operator', namespace: 'prescale-system' });
    expect(lease.spec?.holderIdentity).toBeTruthy();
  });

  it('in ForecastOnly mode computes and reports the decision but never scales', async () => {
    await createScaler(scalerManifest('forecast-only', 'forecast-only', { extraSpec: { mode: 'ForecastOnly' } }));
    const s = await eventually('forecast-only status', () => getScaler('forecast-only'), (x) => (x.status?.desiredReplicas ?? 0) >= 20);
    expect(condition(s, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'ForecastOnly' });
    expect(await replicasOf('forecast-only')).toBe(2);
  });

  it('with an objective plans its quantile and headroom on its own history, beside the HPA, in ForecastOnly mode', async () => {
    await createScaler(
      scalerManifest('planned', 'planned', {
        extraSpec: {
          mode: 'ForecastOnly',
          // No quantile and no headroom: with an objective both are Auto.
          forecast: { model: 'HoltWinters', history: '3d', step: '1m', horizon: '30m', seasonality: ['1d'] },
          scaling: { leadTime: '5m', objective: { maxUnderProvisioned: '1%' }, scaleUp: { maxReplicasPerMinute: 100 } },
        },
      }),
    );
    const s = await eventually('a plan in status', () => getScaler('planned'), (x) => x.status?.plan !== undefined && condition(x, 'ObjectiveMet')?.status !== 'Unknown', 120_000);
    const plan = s.status!.plan!;
    expect([0.5, 0.7, 0.8, 0.9, 0.95, 0.99]).toContain(plan.quantile);
    expect(['0%', '5%', '10%', '20%']).toContain(plan.headroom);
    expect(plan).toMatchObject({ objective: '1%', plans: 24, window: expect.stringMatching(/^(2d23h\d+m|3d)$/) });
    expect(plan.simulated.replicaMinutes).toMatch(/^\d+\.\d\dx oracle$/);
    expect(plan.hpa.underProvisioned).toMatch(/%$/);
    // The history repeats one plateau a day and the HPA reacts only once it has arrived: with a
    // 5-minute lead time it falls short at every ramp, where the plan does not.
    expect(Number.parseFloat(plan.hpa.underProvisioned)).toBeGreaterThan(Number.parseFloat(plan.simulated.underProvisioned));
    const objective = condition(s, 'ObjectiveMet')!;
    expect(objective.status).toBe(plan.objectiveMet ? 'True' : 'False');
    expect(objective.message).toContain(`q${plan.quantile} +${plan.headroom}`);
    const decided = await eventually('the explanation names the plan', () => getScaler('planned'), (x) => /^plan q/.test(x.status?.explanation ?? ''));
    expect(decided.status?.explanation).toContain(`plan q${plan.quantile} +${plan.headroom}`);
    expect(await replicasOf('planned')).toBe(2);

    const metrics = await (await fetch(`http://127.0.0.1:${operator.servers.metrics!.port}/metrics`)).text();
    expect(metrics).toContain(`prescale_plan_quantile{namespace="shop",scaler="planned"} ${plan.quantile}`);
    expect(metrics).toMatch(/prescale_plan_simulated_under_provisioned_ratio\{namespace="shop",scaler="planned",policy="hpa"\} \d/);
    expect(metrics).toMatch(/prescale_plan_duration_seconds_count\{outcome="success"\} [1-9]/);

    // Without the objective the scaler plans nothing: its plan, the condition and the plan's series go.
    await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: NS,
      name: 'planned',
      body: [{ op: 'remove', path: '/spec/scaling/objective' }],
    });
    const dropped = await eventually('the plan removed from status', () => getScaler('planned'), (x) => x.status?.plan === undefined && condition(x, 'ObjectiveMet') === undefined);
    expect(dropped.status?.explanation).not.toMatch(/^plan /);
    const after = await (await fetch(`http://127.0.0.1:${operator.servers.metrics!.port}/metrics`)).text();
    expect(after).not.toMatch(/prescale_plan_quantile\{namespace="shop",scaler="planned"\}/);
  });

  it('does not rewrite a steady scaler\'s status every interval', async () => {
    const before = await eventually('forecast-only settled', () => getScaler('forecast-only'), (x) => (x.status?.desiredReplicas ?? 0) >= 20);
    await new Promise((r) => setTimeout(r, 12_000)); // two more intervals
    const after = await getScaler('forecast-only');
    expect(after.metadata.resourceVersion, JSON.stringify({ before: before.status, after: after.status })).toBe(before.metadata.resourceVersion);
  });

  it('with the paused annotation reports but never scales', async () => {
    await createScaler(scalerManifest('paused', 'paused', { annotations: { 'autoscaling.prescale.dev/paused': 'true' } }));
    const s = await eventually('paused status', () => getScaler('paused'), (x) => (x.status?.desiredReplicas ?? 0) >= 20);
    expect(condition(s, 'AbleToScale')).toMatchObject({ status: 'False', reason: 'Paused' });
    await new Promise((r) => setTimeout(r, 6000)); // another interval
    expect(await replicasOf('paused')).toBe(2);
  });

  it('carries Prometheus\' own message for a bad query in a condition and an Event', async () => {
    await createScaler(scalerManifest('bad-query', 'bad-query', { query: 'sum(rate(demand{app="web"}[1m]' }));
    const s = await eventually('bad-query condition', () => getScaler('bad-query'), (x) => condition(x, 'Ready')?.reason === 'InvalidQuery');
    const ready = condition(s, 'Ready')!;
    expect(ready.status).toBe('False');
    expect(ready.message).toMatch(/metric rps: Prometheus rejected the query: .*parse error/);
    expect(await replicasOf('bad-query')).toBe(2);
    const events = await eventually('InvalidQuery event', () => eventsFor('bad-query'), (es) => es.some((e) => e.reason === 'InvalidQuery'));
    expect(events.find((e) => e.reason === 'InvalidQuery')!.type).toBe('Warning');
  });

  it('refuses a target that an HPA already scales', async () => {
    await admin.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: NS,
      body: {
        metadata: { name: 'hpa-owned' },
        spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'hpa-owned' }, minReplicas: 1, maxReplicas: 5, metrics: [] },
      },
    });
    await new Promise((r) => setTimeout(r, 1000)); // let the HPA informer see it
    await createScaler(scalerManifest('hpa-owned', 'hpa-owned'));
    const s = await eventually('conflict condition', () => getScaler('hpa-owned'), (x) => condition(x, 'AbleToScale')?.reason === 'ConflictingAutoscaler');
    expect(condition(s, 'AbleToScale')!.message).toMatch(/HorizontalPodAutoscaler hpa-owned already scales Deployment hpa-owned/);
    expect(await replicasOf('hpa-owned')).toBe(2);
  });

  it('reports a missing target without crashing', async () => {
    await createScaler(scalerManifest('ghost', 'does-not-exist'));
    const s = await eventually('target condition', () => getScaler('ghost'), (x) => condition(x, 'AbleToScale')?.reason === 'TargetNotFound');
    expect(condition(s, 'AbleToScale')!.message).toMatch(/Deployment shop\/does-not-exist does not exist/);
    // Reconciled again every interval, but an unchanged status is not written again.
    await new Promise((r) => setTimeout(r, 7000));
    expect((await getScaler('ghost')).metadata.resourceVersion).toBe(s.metadata.resourceVersion);
  });

  it('serves health and readiness probes', async () => {
    const base = `http://127.0.0.1:${operator.servers.probes!.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('scales reactively while history is too short to forecast', async () => {
    await createScaler(scalerManifest('young', 'young', { query: 'sum(demand{app="young"})' }));
    const s = await eventually('young status', () => getScaler('young'), (x) => condition(x, 'ForecastAvailable')?.reason === 'InsufficientHistory');
    expect(condition(s, 'ForecastAvailable')!.status).toBe('False');
    // 500 / 50 per replica = 10, the HPA formula on the latest value.
    expect(await eventually('young reactive scale', () => replicasOf('young'), (r) => r === 10)).toBe(10);
  });

  it('forecasts a cold start with the pretrained model, and scales on its forecast', async () => {
    await createScaler(scalerManifest('newborn', 'newborn', { query: 'sum(demand{app="newborn"})' }));
    const s = await eventually('newborn status', () => getScaler('newborn'), (x) => condition(x, 'ForecastAvailable')?.reason === 'ColdStart');
    const forecastAvailable = condition(s, 'ForecastAvailable')!;
    expect(forecastAvailable.status).toBe('True');
    expect(forecastAvailable.message).toMatch(/rps: Pretrained \(HoltWinters needs \d+ points of history .*; forecasting with the pretrained global model/);
    expect(s.status?.forecast?.model).toBe('Pretrained');
    // A flat 800: the forecast stays near it, and 800 / 50 per replica +10% headroom gives 18.
    expect(s.status?.forecast?.peak).toBeGreaterThan(700);
    expect(s.status?.forecast?.peak).toBeLessThan(950);
    expect(await eventually('newborn scaled on the forecast', () => replicasOf('newborn'), (r) => r >= 17 && r <= 21)).toBeGreaterThanOrEqual(17);
  });

  it('scales a StatefulSet and a custom resource through their scale subresource', async () => {
    await createScaler(scalerManifest('db', { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db' }));
    await createScaler(scalerManifest('gadget', { apiVersion: 'example.prescale.dev/v1', kind: 'Widget', name: 'gadget' }));
    const sts = await eventually(
      'StatefulSet scaled',
      async () => (await admin.makeApiClient(AppsV1Api).readNamespacedStatefulSet({ name: 'db', namespace: NS })).spec?.replicas ?? 0,
      (r) => r >= 20,
    );
    expect(sts).toBeGreaterThanOrEqual(20);
    const widget = await eventually(
      'Widget scaled',
      async () =>
        ((await admin.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: 'example.prescale.dev', version: 'v1', plural: 'widgets', namespace: NS, name: 'gadget' })) as { spec: { replicas: number } }).spec.replicas,
      (r) => r >= 20,
    );
    expect(widget).toBeGreaterThanOrEqual(20);
  });

  it('resumes watching after the API server restarts', async () => {
    await cp.restartApiServer();
    // A scaler created after the restart is only seen through a re-established watch.
    await createScaler(scalerManifest('after-restart', 'after-restart'));
    expect(await eventually('after-restart scaled', () => replicasOf('after-restart'), (r) => r >= 20, 60_000)).toBeGreaterThanOrEqual(20);
    const s = await getScaler('web');
    expect(condition(s, 'Ready')?.status).toBe('True');
    const messages = (await readFile(logPath, 'utf8')).split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { msg: string }).msg);
    const lost = messages.indexOf('lost leadership; stopped reconciling until the lease is won again');
    expect(lost).toBeGreaterThan(-1);
    expect(messages.slice(lost)).toContain('became leader; reconciling');
  }, 120_000);

  it('serves an Ensemble with the LSTM trained in a worker thread, each member weighted in status', async () => {
    await createScaler(scalerManifest('ensemble', 'ensemble', { extraSpec: { forecast: { model: 'Ensemble', history: '3d', step: '1m', horizon: '30m', seasonality: ['1d'], quantile: 0.9 } } }));
    const s = await eventually('ensemble forecast', () => getScaler('ensemble'), (x) => x.status?.forecast?.model === 'Ensemble', 120_000);
    const names = (s.status?.models ?? []).map((m) => m.name).sort();
    expect(names).toEqual(['HoltWinters', 'LSTM', 'Linear', 'SeasonalNaive']);
    const weights = (s.status?.models ?? []).map((m) => m.weight ?? 0);
    expect(weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    expect(s.status?.models?.find((m) => m.name === 'LSTM')).toMatchObject({ mase: expect.any(Number) });
    // Scaled well above the reactive count (2 at the base demand) before the ramp arrives.
    expect(await eventually('ensemble scaled', () => replicasOf('ensemble'), (r) => r >= 10, 60_000)).toBeGreaterThanOrEqual(10);
    expect(Date.now()).toBeLessThan(rampStart);
  }, 180_000);

  it('keeps trained models in a ConfigMap owned by the scaler, and a restarted operator serves them without training', async () => {
    const cm = await eventually(
      'model ConfigMap',
      () => admin.makeApiClient(CoreV1Api).readNamespacedConfigMap({ name: 'web-prescale-models', namespace: NS }),
      (c) => Boolean(c.binaryData?.['rps.json.gz']),
    );
    const web = await getScaler('web');
    expect(cm.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'PredictiveScaler', name: 'web', uid: web.metadata.uid });

    await operator.stop();
    const offset = (await readFile(logPath, 'utf8')).length;
    operator = await launchOperator(token, createWriteStream(logPath, { flags: 'a' }));
    const restartedLines = async () =>
      (await readFile(logPath, 'utf8'))
        .slice(offset)
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const lines = await eventually('model restored', restartedLines, (ls) => ls.some((l) => l.msg === 'model restored from the model store' && l.scaler === 'web'), 60_000);
    expect(lines.find((l) => l.msg === 'model restored from the model store' && l.scaler === 'web')).toMatchObject({ model: 'HoltWinters' });
    // Reconciled again after the restart with the restored model: a forecast, and no training.
    await eventually('web reconciled after restart', restartedLines, (ls) => ls.filter((l) => l.scaler === 'web' && l.msg === 'reconciled').length >= 2, 30_000);
    const after = await restartedLines();
    expect(after.filter((l) => l.scaler === 'web' && l.msg === 'model trained')).toEqual([]);
    expect(condition(await getScaler('web'), 'ForecastAvailable')).toMatchObject({ status: 'True' });
  }, 120_000);

  it('holds replicas and reports Degraded while Prometheus is down, and recovers', async () => {
    await createScaler(scalerManifest('promdown', 'promdown'));
    const before = await eventually('promdown scaled', () => replicasOf('promdown'), (r) => r >= 20);
    await prom.stop();
    try {
      const s = await eventually('Degraded', () => getScaler('promdown'), (x) => condition(x, 'Degraded')?.status === 'True', 90_000);
      expect(condition(s, 'Degraded')!.reason).toBe('PrometheusUnavailable');
      expect(await replicasOf('promdown')).toBe(before);
    } finally {
      await prom.start();
    }
    const s = await eventually('recovered', () => getScaler('promdown'), (x) => condition(x, 'Degraded')?.status === 'False', 90_000);
    expect(condition(s, 'Ready')?.status).toBe('True');
  }, 240_000);
});
