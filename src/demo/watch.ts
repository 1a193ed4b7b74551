// While the demo runs, one line per change worth seeing: a scaler's desired replicas moving (with
// its explanation) and the moment the ramp arrives, with how many pods are Ready to carry it.
import { AppsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../api/types.js';

export interface ScalerSnapshot {
  key: string;
  desired?: number;
  ready?: number;
  explanation?: string;
}

const MAX_LINE = 200;

export function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Lines for what changed between two snapshots (keyed by namespace/name). */
export function changes(previous: Map<string, ScalerSnapshot>, current: ScalerSnapshot[], nowMs: number): string[] {
  const lines: string[] = [];
  for (const s of current) {
    const before = previous.get(s.key);
    if (s.desired === undefined || before?.desired === s.desired) continue;
    const from = before?.desired === undefined ? '' : `${before.desired} -> `;
    const line = `${clock(nowMs)}  ${s.key.padEnd(16)} desired ${from}${s.desired} (Ready ${s.ready ?? 0})  ${s.explanation ?? ''}`.trimEnd();
    lines.push(line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 3)}...` : line);
  }
  return lines;
}

export interface ScaleWatch {
  stop(): void;
}

export function watchScalers(kubeConfig: KubeConfig, print: (line: string) => void, options: { rampWallMs: number; now: () => number; pollMs?: number }): ScaleWatch {
  const scalers = kubeConfig.makeApiClient(CustomObjectsApi);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  let previous = new Map<string, ScalerSnapshot>();
  let rampAnnounced = options.now() >= options.rampWallMs;
  let stopped = false;
  const poll = async () => {
    const list = (await scalers.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: PredictiveScaler[] };
    const snapshots: ScalerSnapshot[] = [];
    for (const s of list.items) {
      const namespace = s.metadata.namespace ?? '';
      const target = await apps.readNamespacedDeployment({ name: s.spec.scaleTargetRef.name, namespace }).catch(() => undefined);
      snapshots.push({ key: `${namespace}/${s.metadata.name}`, desired: s.status?.desiredReplicas, ready: target?.status?.readyReplicas ?? 0, explanation: s.status?.explanation });
    }
    const now = options.now();
    if (stopped) return;
    for (const line of changes(previous, snapshots, now)) print(line);
    if (!rampAnnounced && now >= options.rampWallMs) {
      rampAnnounced = true;
      print(`${clock(now)}  the ramp is here: ${snapshots.map((s) => `${s.key} has ${s.ready ?? 0} Ready (desired ${s.desired ?? '?'})`).join(', ')}`);
    }
    previous = new Map(snapshots.map((s) => [s.key, s]));
  };
  const timer = setInterval(() => {
    poll().catch(() => undefined); // the next poll tries again; the demo's own teardown is what stops the API server
  }, options.pollMs ?? 5_000);
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
