// The world of the publishing end-to-end tests: the demo's (a KWOK cluster, Prometheus replaying the
// bundled trace so that its ramp arrives minutes from now) with only the model server
// (examples/model-serving: pods Ready 2-2.5 minutes after they start), its PredictiveScaler in
// mode: Publish, optionally a twin Deployment that only a reactive autoscaler scales, and the
// operator as a process with the publishing endpoints on. Another autoscaler (the HPA controller,
// KEDA) owns the replicas; the test adds it.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { parseDuration } from '../../src/api/units.js';
import { BUNDLED_TRACE, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from '../../src/demo/demo.js';
import { mintServiceAccountToken } from '../../src/demo/env/control-plane.js';
import { startDemoEnvironment, type DemoEnvironment } from '../../src/demo/environment.js';
import { spawnOperator, type OperatorChild } from '../../src/demo/operator-child.js';
import { loadReplayTrace, planReplay, type TraceReplay } from '../../src/demo/trace-replay.js';
import { demoWorkloads, type DemoWorkload } from '../../src/demo/workloads.js';

const REPO_ROOT = resolve('.');
const CLI = resolve('dist', 'cli', 'main.js');

export interface Sample {
  at: number;
  replicas: number;
  ready: number;
}

export interface PublishWorld {
  env: DemoEnvironment;
  kc: KubeConfig;
  replay: TraceReplay;
  workload: DemoWorkload;
  operator: OperatorChild;
  /** Replicas and Ready replicas of each sampled Deployment in the workload's namespace, every 2 s. */
  timeline: Record<string, Sample[]>;
  scaler(): Promise<PredictiveScaler>;
  /** The demand the scaler plans on, as Prometheus answers its own query. */
  demand(fromMs: number, toMs: number, stepS?: number): Promise<{ at: number; value: number }[]>;
  close(): Promise<void>;
}

export interface PublishWorldOptions {
  speed: number;
  rampInMs: number;
  /** Names of Deployments to create as copies of the model server (same pods, same start-up), each scaled by something else. */
  twins?: string[];
  /** Extra `prescale run` flags, e.g. the publishing bind addresses. */
  operatorArgs: string[];
  /** Runs after the cluster is up and before the operator starts (RBAC, APIServices, ...). */
  beforeOperator?: (env: DemoEnvironment) => Promise<void>;
}

export async function startPublishWorld(o: PublishWorldOptions): Promise<PublishWorld> {
  const started = Date.now();
  const workloads = (await demoWorkloads({ repoRoot: REPO_ROOT, speed: o.speed })).filter((w) => w.example === 'model-serving');
  const workload = workloads[0]!;
  const scalerObject = workload.objects.find((x) => x.kind === 'PredictiveScaler') as { spec: Record<string, unknown> & { forecast: { history: string } } };
  scalerObject.spec.mode = 'Publish';
  const deployment = workload.objects.find((x) => x.kind === 'Deployment')!;
  for (const twin of o.twins ?? []) workload.objects.push(twinOf(deployment, twin));

  const historyTraceMs = parseDuration(scalerObject.spec.forecast.history) * o.speed;
  const tracePath = join(REPO_ROOT, BUNDLED_TRACE);
  const replay = planReplay(await loadReplayTrace(tracePath), { nowMs: started, rampInMs: o.rampInMs, historyTraceMs, speed: o.speed }, tracePath);
  const env = await startDemoEnvironment({ replay, workloads, now: Date.now, historyWallMs: historyTraceMs / o.speed + 3_600_000, progress: () => undefined });
  let operator: OperatorChild | undefined;
  let sampling: NodeJS.Timeout | undefined;
  const close = async () => {
    if (sampling) clearInterval(sampling);
    await operator?.stop();
    await env.close();
  };
  try {
    await o.beforeOperator?.(env);
    const kc = env.cluster.controlPlane.kubeConfig;
    const token = await mintServiceAccountToken(kc, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT, 24 * 3600);
    const kubeconfig = join(env.cluster.workDir, 'operator.kubeconfig');
    await writeFile(kubeconfig, env.cluster.controlPlane.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
    operator = spawnOperator(CLI, [
      '--kubeconfig', kubeconfig,
      '--prometheus-url', env.prometheus.url,
      '--metrics-bind-address', '127.0.0.1:0',
      '--health-probe-bind-address', '127.0.0.1:0',
      '--log-level', 'debug',
      ...o.operatorArgs,
    ], join(env.cluster.workDir, 'operator.log'));
    await operator.waitForLog((l) => l.msg === 'informer caches synced', 60_000);

    const timeline: Record<string, Sample[]> = {};
    const names = [workload.deployment, ...(o.twins ?? [])];
    for (const n of names) timeline[n] = [];
    const apps = kc.makeApiClient(AppsV1Api);
    sampling = setInterval(() => {
      for (const name of names) {
        apps
          .readNamespacedDeployment({ name, namespace: workload.namespace })
          .then((d) => timeline[name]!.push({ at: Date.now(), replicas: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 }))
          .catch(() => undefined);
      }
    }, 2_000);
    const scalerQuery = () => (scalerObject.spec.metrics as Array<{ query: string }>)[0]!.query;
    return {
      env,
      kc,
      replay,
      workload,
      operator,
      timeline,
      scaler: async () =>
        (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: workload.namespace, name: workload.scaler })) as PredictiveScaler,
      demand: async (fromMs, toMs, stepS = 15) => {
        const url = new URL('/api/v1/query_range', env.prometheus.url);
        url.search = new URLSearchParams({ query: scalerQuery(), start: String(fromMs / 1000), end: String(toMs / 1000), step: String(stepS) }).toString();
        const body = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
        return (body.data.result[0]?.values ?? []).map(([t, v]) => ({ at: t * 1000, value: Number(v) }));
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function twinOf(deployment: Record<string, unknown>, name: string): Record<string, unknown> {
  const twin = structuredClone(deployment) as {
    metadata: { name: string; labels?: Record<string, string> };
    spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } };
  };
  twin.metadata.name = name;
  twin.metadata.labels = { ...twin.metadata.labels, app: name };
  twin.spec.selector.matchLabels = { app: name };
  twin.spec.template.metadata.labels = { ...twin.spec.template.metadata.labels, app: name };
  return twin as unknown as Record<string, unknown>;
}

export function readyAt(samples: Sample[], at: number): number {
  let ready = 0;
  for (const s of samples) if (s.at <= at) ready = s.ready;
  return ready;
}

/** Moments of the ramp (from rampAt on) at which Ready capacity was below the demand. */
export function shortOfDemand(samples: Sample[], demand: { at: number; value: number }[], perReplica: number, rampAt: number): string[] {
  return demand.filter((d) => d.at >= rampAt && readyAt(samples, d.at) * perReplica < d.value).map((d) => `${Math.round((d.at - rampAt) / 1000)} s: ${d.value.toFixed(1)}`);
}

export function story(name: string, samples: Sample[], demand: { at: number; value: number }[], rampAt: number): string {
  return (
    `${name} (s from the ramp: replicas/ready): ${samples.filter((_, i) => i % 5 === 0).map((s) => `${Math.round((s.at - rampAt) / 1000)}:${s.replicas}/${s.ready}`).join(' ')}\n` +
    `demand: ${demand.filter((_, i) => i % 4 === 0).map((d) => `${Math.round((d.at - rampAt) / 1000)}:${d.value.toFixed(0)}`).join(' ')}`
  );
}

export interface RampOutcome {
  /** Moments of the ramp at which the Deployment's Ready capacity was below the demand. */
  short: string[];
  /** When the Deployment was first asked for the replicas the ramp's end needs, and when the demand first needed them. */
  askedAt: number | undefined;
  firstNeedAt: number;
  /** Replicas needed as the ramp begins and at the end of the window. */
  neededAtRamp: number;
  neededAtEnd: number;
}

/** Waits until afterRampMs past the ramp, then tells how each Deployment's Ready capacity met the scaler's demand. */
export async function rampOutcomes(world: PublishWorld, afterRampMs: number, names: string[]): Promise<{ outcomes: Record<string, RampOutcome>; told: () => string }> {
  const rampAt = world.replay.rampWallMs;
  const end = rampAt + afterRampMs;
  await new Promise((r) => setTimeout(r, Math.max(0, end + 20_000 - Date.now())));
  const s = await world.scaler();
  const perReplica = Number(s.spec.metrics[0]!.targetPerReplica);
  const demand = await world.demand(rampAt - 5 * 60_000, end);
  const neededAt = (d: { value: number }) => Math.ceil(d.value / perReplica);
  const neededAtEnd = neededAt(demand.at(-1)!);
  const firstNeedAt = demand.find((d) => neededAt(d) >= neededAtEnd)!.at;
  const outcomes: Record<string, RampOutcome> = {};
  for (const name of names) {
    const samples = world.timeline[name]!;
    outcomes[name] = {
      short: shortOfDemand(samples, demand, perReplica, rampAt),
      askedAt: samples.find((x) => x.replicas >= neededAtEnd)?.at,
      firstNeedAt,
      neededAtRamp: neededAt(demand.find((d) => d.at >= rampAt)!),
      neededAtEnd,
    };
  }
  const told = () => `${names.map((n) => story(n, world.timeline[n]!, demand, rampAt)).join('\n')}\nexplanation: ${s.status?.explanation}`;
  return { outcomes, told };
}
