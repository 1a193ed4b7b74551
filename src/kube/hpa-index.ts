// Finds HorizontalPodAutoscalers that scale a target, from a cluster-wide HPA informer, and tells
// the ones that consume a PredictiveScaler's published recommendation from the ones that do not.
import { AutoscalingV2Api, type KubeConfig, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScaleTargetRef } from '../api/types.js';
import { ResilientInformer } from './informer.js';

import { DESIRED_REPLICAS_METRIC, SCALER_LABEL, scalerOfKedaHpaMetric } from '../publish/names.js';

export interface TargetAutoscaler {
  /** The HPA's name. */
  name: string;
  /** The ScaledObject that owns the HPA, when KEDA made it. */
  scaledObject?: string;
  /** Names of the PredictiveScalers whose published recommendation the HPA reads (same namespace). */
  consumes: string[];
}

export interface AutoscalerIndex {
  /** HPAs in the namespace whose scaleTargetRef is this target. */
  autoscalersOf(namespace: string, ref: ScaleTargetRef): TargetAutoscaler[];
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function hpaTargets(hpa: V2HorizontalPodAutoscaler, ref: ScaleTargetRef): boolean {
  const t = hpa.spec?.scaleTargetRef;
  return !!t && t.kind === ref.kind && t.name === ref.name && groupOf(t.apiVersion ?? '') === groupOf(ref.apiVersion);
}

/** The PredictiveScalers an HPA's External metrics read: `prescale_desired_replicas{scaler=X}` or KEDA's `s<i>-prescale-X`. */
export function consumedScalers(hpa: V2HorizontalPodAutoscaler): string[] {
  const names = new Set<string>();
  for (const m of hpa.spec?.metrics ?? []) {
    if (m.type !== 'External' || !m.external?.metric) continue;
    const metric = m.external.metric;
    if (metric.name === DESIRED_REPLICAS_METRIC) {
      const scaler = metric.selector?.matchLabels?.[SCALER_LABEL];
      if (scaler) names.add(scaler);
      continue;
    }
    const keda = scalerOfKedaHpaMetric(metric.name ?? '');
    if (keda) names.add(keda);
  }
  return [...names];
}

export function describeAutoscaler(hpa: V2HorizontalPodAutoscaler): TargetAutoscaler {
  const owner = hpa.metadata?.ownerReferences?.find((o) => o.kind === 'ScaledObject' && groupOf(o.apiVersion) === 'keda.sh');
  return {
    name: hpa.metadata?.name ?? '?',
    ...(owner ? { scaledObject: owner.name } : {}),
    consumes: consumedScalers(hpa),
  };
}

export function autoscalerLabel(a: TargetAutoscaler): string {
  return a.scaledObject ? `HorizontalPodAutoscaler ${a.name} (ScaledObject ${a.scaledObject})` : `HorizontalPodAutoscaler ${a.name}`;
}

export class HpaInformerIndex implements AutoscalerIndex {
  readonly informer: ResilientInformer<V2HorizontalPodAutoscaler>;

  constructor(kc: KubeConfig, logger: Logger, namespace?: string) {
    const api = kc.makeApiClient(AutoscalingV2Api);
    const path = namespace
      ? `/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers`
      : '/apis/autoscaling/v2/horizontalpodautoscalers';
    this.informer = new ResilientInformer<V2HorizontalPodAutoscaler>({
      kc,
      path,
      logger,
      what: 'horizontalpodautoscalers',
      list: () =>
        namespace
          ? api.listNamespacedHorizontalPodAutoscaler({ namespace })
          : api.listHorizontalPodAutoscalerForAllNamespaces(),
    });
  }

  autoscalersOf(namespace: string, ref: ScaleTargetRef): TargetAutoscaler[] {
    return this.informer.cache
      .list(namespace)
      .filter((h) => hpaTargets(h, ref))
      .map(describeAutoscaler);
  }
}
