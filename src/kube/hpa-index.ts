// Finds HorizontalPodAutoscalers that already scale a target, from a cluster-wide HPA informer.
import { AutoscalingV2Api, type KubeConfig, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ScaleTargetRef } from '../api/types.js';
import { ResilientInformer } from './informer.js';

export interface AutoscalerIndex {
  /** Names of HPAs in the namespace whose scaleTargetRef is this target. */
  conflicting(namespace: string, ref: ScaleTargetRef): string[];
}

export function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
}

export function hpaTargets(hpa: V2HorizontalPodAutoscaler, ref: ScaleTargetRef): boolean {
  const t = hpa.spec?.scaleTargetRef;
  return !!t && t.kind === ref.kind && t.name === ref.name && groupOf(t.apiVersion ?? '') === groupOf(ref.apiVersion);
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

  conflicting(namespace: string, ref: ScaleTargetRef): string[] {
    return this.informer.cache
      .list(namespace)
      .filter((h) => hpaTargets(h, ref))
      .map((h) => h.metadata?.name ?? '?');
  }
}
