// What `mode: Publish` serves: each PredictiveScaler's recommendation, read from its status in the
// informer cache every replica keeps (the leader writes it; a follower serves the same answer), so
// KEDA and the HPA get the decision prescale would have applied, from whichever replica they reach.
import { PAUSED_ANNOTATION, type PredictiveScaler, type ScaleTargetRef } from '../api/types.js';

export interface PublishedRecommendation {
  namespace: string;
  name: string;
  targetRef: ScaleTargetRef;
  /** status.desiredReplicas: the count prescale would set, after every limit in the spec. */
  desiredReplicas: number;
}

export type PublishedLookup =
  | { ok: true; value: PublishedRecommendation }
  | {
      ok: false;
      /** NotFound: no such scaler. NotPublished: its mode is not Publish. NotReady: no decision to serve yet. */
      code: 'NotFound' | 'NotPublished' | 'NotReady';
      message: string;
    };

export interface PublishedSource {
  lookup(namespace: string, name: string): PublishedLookup;
  /** Calls the listener with namespace and name whenever a scaler's published value may have changed. */
  onChange(listener: (namespace: string, name: string) => void): () => void;
}

export function publishedFrom(scaler: PredictiveScaler | undefined, namespace: string, name: string): PublishedLookup {
  if (!scaler) return { ok: false, code: 'NotFound', message: `no PredictiveScaler ${namespace}/${name}` };
  if (scaler.spec?.mode !== 'Publish') {
    return { ok: false, code: 'NotPublished', message: `PredictiveScaler ${namespace}/${name} is not in mode Publish (mode ${String(scaler.spec?.mode ?? 'Auto')})` };
  }
  // Paused stops prescale's influence: the consumer gets an error and holds (the HPA keeps the count).
  if (scaler.metadata?.annotations?.[PAUSED_ANNOTATION] === 'true') {
    return { ok: false, code: 'NotReady', message: `PredictiveScaler ${namespace}/${name} is paused (annotation ${PAUSED_ANNOTATION}="true")` };
  }
  const desired = scaler.status?.desiredReplicas;
  const ready = scaler.status?.conditions?.find((c) => c.type === 'Ready');
  if (typeof desired !== 'number' || !Number.isSafeInteger(desired) || desired < 0) {
    const why = ready?.status === 'False' ? `: ${ready.reason}: ${ready.message}` : ': it has not been reconciled yet';
    return { ok: false, code: 'NotReady', message: `PredictiveScaler ${namespace}/${name} has no recommendation${why}` };
  }
  if (ready?.status === 'False' && ready.reason === 'InvalidSpec') {
    return { ok: false, code: 'NotReady', message: `PredictiveScaler ${namespace}/${name} has an invalid spec: ${ready.message}` };
  }
  return {
    ok: true,
    value: {
      namespace,
      name,
      targetRef: scaler.spec.scaleTargetRef,
      desiredReplicas: desired,
    },
  };
}

/** The source over a PredictiveScaler cache (the operator's informer). */
export function cachePublishedSource(cache: {
  get(name: string, namespace?: string): PredictiveScaler | undefined;
  on(verb: 'add' | 'update' | 'delete', cb: (obj: PredictiveScaler) => void): void;
}): PublishedSource {
  const listeners = new Set<(namespace: string, name: string) => void>();
  const notify = (obj: PredictiveScaler) => {
    for (const l of listeners) l(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
  };
  cache.on('add', notify);
  cache.on('update', notify);
  cache.on('delete', notify);
  return {
    lookup: (namespace, name) => publishedFrom(cache.get(name, namespace), namespace, name),
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
