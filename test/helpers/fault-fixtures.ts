// Objects and probes shared by the fault tests: a steady demand that asks for more replicas than
// maxReplicas allows, so every scaler's one right decision is exactly its maxReplicas.
import { AppsV1Api, CustomObjectsApi, EventsV1Api, PatchStrategy, setHeaderOptions, type KubeConfig } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import type { BackfillSeries } from './prometheus.js';
import { MIN, minutePoints } from './history.js';

export const NS = 'shop';
const DEMAND = 500;
const PER_REPLICA = 50;

/**
 * `demand{app="steady"}` at 500 (ten replicas' worth plus headroom) from three hours ago until well
 * after the tests end, so it never goes stale while they run.
 */
export function steadyDemand(now: number): BackfillSeries {
  return { name: 'demand', labels: { app: 'steady' }, points: minutePoints(now - 3 * 60 * MIN, now + 30 * MIN, () => DEMAND) };
}

/** A scaler of Deployment `name` whose right answer is `maxReplicas` (the demand wants 11). */
export function steadyScaler(name: string, maxReplicas: number): PredictiveScaler {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas,
      interval: '5s',
      metrics: [{ name: 'rps', query: 'sum(demand{app="steady"})', targetPerReplica: String(PER_REPLICA) }],
      forecast: { model: 'Linear', history: '2h', step: '1m', horizon: '30m', quantile: 0.9 },
      scaling: { leadTime: '2m', headroom: '10%', scaleUp: { maxReplicasPerMinute: 100 } },
    },
  } as PredictiveScaler;
}

export function deployment(name: string, replicas = 2) {
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

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export function scalerClient(kc: KubeConfig) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const apps = kc.makeApiClient(AppsV1Api);
  const events = kc.makeApiClient(EventsV1Api);
  const ref = { group: GROUP, version: VERSION, plural: PLURAL, namespace: NS };
  return {
    create: (scaler: PredictiveScaler) => custom.createNamespacedCustomObject({ ...ref, body: scaler }),
    get: async (name: string) => (await custom.getNamespacedCustomObject({ ...ref, name })) as PredictiveScaler,
    /** JSON merge patch of the main resource (spec, metadata). */
    patch: (name: string, body: object) => custom.patchNamespacedCustomObject({ ...ref, name, body }, mergePatch),
    /** JSON merge patch of the status subresource. */
    patchStatus: (name: string, body: object) => custom.patchNamespacedCustomObjectStatus({ ...ref, name, body }, mergePatch),
    /** Deployment `name`: spec.replicas, and metadata.generation, which counts spec writes. */
    target: async (name: string) => {
      const d = await apps.readNamespacedDeployment({ name, namespace: NS });
      return { replicas: d.spec?.replicas ?? -1, generation: d.metadata?.generation ?? -1 };
    },
    /** events.k8s.io Events about scaler `name`, oldest first. */
    events: async (name: string) => {
      const list = await events.listNamespacedEvent({ namespace: NS });
      return list.items
        .filter((e) => e.regarding?.name === name)
        .sort((a, b) => Date.parse(String(a.eventTime)) - Date.parse(String(b.eventTime)));
    },
  };
}

export { condition, eventually } from './eventually.js';


export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
