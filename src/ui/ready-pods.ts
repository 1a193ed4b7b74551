// Ready replicas of a scale target, counted from the pods the operator already watches (the pod
// informer of learned lead times), so the web view costs no extra API request per reconcile.
import type { V1Pod } from '@kubernetes/client-node';
import { parseSelector, SelectorError, type LabelMatcher } from '../kube/selector.js';

/** Pods of one namespace, as an informer cache lists them. */
export interface PodLister {
  list(namespace?: string): readonly V1Pod[];
}

/** Ready pods in a namespace matching a selector; undefined when that cannot be told. */
export type ReadyReplicas = (namespace: string, selector: string) => number | undefined;

/** Selectors whose matchers are kept; they come from a few scale targets. */
const MAX_CACHED_SELECTORS = 1000;

/**
 * Counts pods that are Ready and not terminating, as a ReplicaSet's status.readyReplicas does.
 * An empty or unreadable selector gives undefined: it would count every pod of the namespace.
 */
export function readyPodCounter(pods: PodLister): ReadyReplicas {
  const matchers = new Map<string, LabelMatcher | undefined>();
  const matcherFor = (selector: string): LabelMatcher | undefined => {
    if (matchers.has(selector)) return matchers.get(selector);
    let matcher: LabelMatcher | undefined;
    try {
      matcher = selector.trim() === '' ? undefined : parseSelector(selector);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
    }
    if (matchers.size >= MAX_CACHED_SELECTORS) matchers.clear();
    matchers.set(selector, matcher);
    return matcher;
  };
  return (namespace, selector) => {
    const matches = matcherFor(selector);
    if (!matches) return undefined;
    let ready = 0;
    for (const pod of pods.list(namespace)) {
      if (pod.metadata?.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null) continue;
      if (!matches(pod.metadata?.labels)) continue;
      if (pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) ready++;
    }
    return ready;
  };
}
