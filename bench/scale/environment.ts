// The scale bench's world: a real kube-apiserver (with an audit log of the operator's requests), a real
// Prometheus backfilled with one series per scaler, N Deployments and N PredictiveScalers, and the
// operator as a separate `prescale run` process so that its RSS and CPU are its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppsV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../../test/helpers/envtest.js';
import { DAY, MIN, dailyPlateau, minutePoints, withNoise } from '../../test/helpers/history.js';
import { applyKustomization, applyManifests } from '../../test/helpers/manifests.js';
import { startExporter, type Exporter } from '../../test/helpers/exporter.js';
import { freePort, startPrometheus, type BackfillSeries, type PrometheusHandle } from '../../test/helpers/prometheus.js';

export const NAMESPACE = 'bench';
export const OPERATOR_USER = 'system:serviceaccount:prescale-system:prescale';
const METRIC = 'bench_demand';
const PER_REPLICA = 50;

export interface ScalerSettings {
  intervalMs: number;
  historyMs: number;
  /** e.g. "30s", "3d": as they go into the spec. */
  interval: string;
  history: string;
}

export const scalerName = (i: number) => `s-${String(i).padStart(4, '0')}`;

/** Demand of scaler i: its own base level and its own daily one-hour peak, plus noise. */
function demandOf(i: number, now: number): (t: number) => number {
  const base = 100 + (i % 7) * 20;
  const rampStart = now + ((i * 37) % 1440) * MIN;
  return withNoise(dailyPlateau(rampStart, base, 5 * base), base * 0.05, i + 1);
}

/** One series per scaler, minute points over `historyMs` plus an hour, ending a minute ago. */
export function backfill(scalers: number, historyMs: number, now: number): BackfillSeries[] {
  const end = now - MIN;
  return Array.from({ length: scalers }, (_, i) => ({
    name: METRIC,
    labels: { scaler: scalerName(i) },
    points: minutePoints(end - historyMs - 60 * MIN, end, demandOf(i, now)),
  }));
}

// Only the operator's ServiceAccount is audited, one event per finished request.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived", "ResponseStarted"]
rules:
- level: Metadata
  users: ["${OPERATOR_USER}"]
- level: None
`;

export interface World {
  cp: ControlPlane;
  prom: PrometheusHandle;
  /** Serves every scaler's demand live, so the series go on past the backfilled history. */
  exporter: Exporter;
  auditLogPath: string;
  /** Seconds spent writing and importing the backfill, and starting Prometheus on it. */
  prometheusStartSeconds: number;
  close(): Promise<void>;
}

export async function startWorld(workDir: string, scalers: number, historyMs: number, now: number): Promise<World> {
  const policyPath = join(workDir, 'audit-policy.yaml');
  const auditLogPath = join(workDir, 'audit.log');
  await writeFile(policyPath, AUDIT_POLICY);
  const promStarted = Date.now();
  let prometheusStartSeconds = 0;
  const exporter = await startExporter({
    gauges: Array.from({ length: scalers }, (_, i) => ({ name: METRIC, labels: { scaler: scalerName(i) }, value: demandOf(i, now) })),
  });
  const [cp, prom] = await Promise.all([
    startControlPlane({ apiServerArgs: [`--audit-policy-file=${policyPath}`, `--audit-log-path=${auditLogPath}`, '--audit-log-maxsize=0'] }),
    startPrometheus({ series: backfill(scalers, historyMs, now), scrapeConfigs: [exporter.scrapeConfig('15s', 'bench-demand')], readyTimeoutMs: 600_000 }).then((p) => {
      prometheusStartSeconds = (Date.now() - promStarted) / 1000;
      return p;
    }),
  ]);
  return {
    cp,
    prom,
    exporter,
    auditLogPath,
    get prometheusStartSeconds() {
      return prometheusStartSeconds;
    },
    close: async () => {
      await Promise.all([cp.close(), prom.close(), exporter.close()]);
    },
  };
}

export function scalerManifest(i: number, s: ScalerSettings, model = 'HoltWinters') {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name: scalerName(i), namespace: NAMESPACE },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: scalerName(i) },
      minReplicas: 1,
      maxReplicas: 100,
      interval: s.interval,
      metrics: [{ name: 'rps', query: `sum(${METRIC}{scaler="${scalerName(i)}"})`, targetPerReplica: String(PER_REPLICA) }],
      forecast: { model, history: s.history, step: '1m', horizon: '30m', seasonality: ['1d'], quantile: 0.9 },
      scaling: { leadTime: '5m', headroom: '10%' },
    },
  };
}

function deploymentManifest(i: number) {
  const name = scalerName(i);
  return {
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } },
    },
  };
}

/** Runs the tasks with at most `n` at once. */
export async function inPool<T>(count: number, n: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

/** CRDs, the deploy/ RBAC, the bench namespace, N Deployments and N scalers. */
export async function createObjects(admin: KubeConfig, scalers: number, s: ScalerSettings): Promise<void> {
  await applyManifests(admin, 'crds');
  await applyKustomization(admin, 'deploy');
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }]);
  const apps = admin.makeApiClient(AppsV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  await inPool(scalers, 16, (i) => apps.createNamespacedDeployment({ namespace: NAMESPACE, body: deploymentManifest(i) }));
  await inPool(scalers, 16, (i) =>
    custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NAMESPACE, body: scalerManifest(i, s) }),
  );
}

export async function listScalers(admin: KubeConfig): Promise<PredictiveScaler[]> {
  const list = (await admin.makeApiClient(CustomObjectsApi).listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NAMESPACE })) as {
    items: PredictiveScaler[];
  };
  return list.items;
}

/** Switches scaler i's model (a spec change: the operator trains the new model). */
export async function setModel(admin: KubeConfig, i: number, model: string): Promise<void> {
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, plural: PLURAL, namespace: NAMESPACE, name: scalerName(i), body: [{ op: 'replace', path: '/spec/forecast/model', value: model }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
}

/** Gives scaler i an objective: its quantile and headroom become Auto, chosen by the planner. */
export async function setObjective(admin: KubeConfig, i: number, maxUnderProvisioned: string): Promise<void> {
  await admin.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: NAMESPACE,
      name: scalerName(i),
      body: { spec: { forecast: { quantile: null }, scaling: { headroom: null, objective: { maxUnderProvisioned } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

export interface OperatorProcess {
  pid: number;
  metricsUrl: string;
  logPath: string;
  /** SIGTERM, SIGKILL after 20 s; resolves once it has exited. */
  stop(): Promise<void>;
}

export interface OperatorFlags {
  concurrency: number;
  trainingWorkers: number;
}

/** `prescale run` as a child process, with a token of the deploy/ ServiceAccount and debug logs in a file. */
export async function startOperatorProcess(world: World, workDir: string, root: string, flags: OperatorFlags): Promise<OperatorProcess> {
  // Long enough for the longest run; the API server caps it at its own maximum.
  const token = await mintServiceAccountToken(world.cp.kubeConfig, 'prescale-system', 'prescale', 12 * 3600);
  const kubeconfigPath = join(workDir, 'operator.kubeconfig');
  await writeFile(kubeconfigPath, world.cp.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
  const port = await freePort();
  const logPath = join(workDir, 'operator.log');
  const logFd = openSync(logPath, 'a');
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(root, 'dist/cli/main.js'), 'run',
      '--kubeconfig', kubeconfigPath,
      '--namespace', NAMESPACE,
      '--prometheus-url', world.prom.url,
      '--metrics-bind-address', `127.0.0.1:${port}`,
      '--health-probe-bind-address', '0',
      '--concurrency', String(flags.concurrency),
      '--training-workers', String(flags.trainingWorkers),
      '--log-level', 'debug',
    ],
    { stdio: ['ignore', logFd, logFd] },
  );
  closeSync(logFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the operator exited during start-up; see ${logPath}`);
    if (await fetch(metricsUrl).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`the operator's /metrics did not answer within 60 s; see ${logPath}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    pid: child.pid!,
    metricsUrl,
    logPath,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export { DAY, MIN };
