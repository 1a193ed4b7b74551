// How long pods take from creation to Ready, per namespace, from a pod informer: what
// `leadTime: Auto` learns the lead time from.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { ResilientInformer } from './informer.js';
import { parseSelector, SelectorError, type LabelMatcher } from './selector.js';

export interface StartupHistory {
  /** Start-up durations in ms of the namespace's pods matching the selector string, most recent first. */
  startupsFor(namespace: string, selector: string): number[];
}

export interface PodStartup {
  labels: Readonly<Record<string, string>>;
  /** When the pod first became Ready (ms epoch). */
  readyAt: number;
  durationMs: number;
}

/** Start-ups kept per namespace; the oldest are dropped first. */
export const STARTUPS_PER_NAMESPACE = 200;

function timeOf(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  // Typed list results carry Dates; watch events carry the JSON strings.
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

function readyCondition(pod: V1Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Creation to the Ready condition's transition, for a pod that is Ready now. */
export function startupOf(pod: V1Pod): PodStartup | undefined {
  const ready = readyCondition(pod);
  if (ready?.status !== 'True') return undefined;
  const createdAt = timeOf(pod.metadata?.creationTimestamp);
  const readyAt = timeOf(ready.lastTransitionTime);
  if (createdAt === undefined || readyAt === undefined || readyAt < createdAt) return undefined;
  return { labels: pod.metadata?.labels ?? {}, readyAt, durationMs: readyAt - createdAt };
}

/**
 * Records each pod's start-up once, the first time it is seen Ready. A pod first seen already Ready
 * (at operator start) counts only if none of its containers restarted: after a restart the Ready
 * condition's transition time is that of the restart, not of the start-up.
 */
export class PodStartupRecorder implements StartupHistory {
  private readonly byNamespace = new Map<string, PodStartup[]>();
  /** Pods seen not Ready: their next Ready is their first. */
  private readonly starting = new Set<string>();
  private readonly recorded = new Set<string>();
  private readonly matchers = new Map<string, LabelMatcher>();

  constructor(private readonly perNamespace = STARTUPS_PER_NAMESPACE) {}

  observe(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    const namespace = pod.metadata?.namespace;
    if (!uid || !namespace || this.recorded.has(uid)) return;
    const startup = startupOf(pod);
    if (!startup) {
      if (readyCondition(pod)?.status !== 'True') this.starting.add(uid);
      return;
    }
    const restarted = (pod.status?.containerStatuses ?? []).some((c) => (c.restartCount ?? 0) > 0);
    if (!this.starting.has(uid) && restarted) return;
    this.starting.delete(uid);
    this.recorded.add(uid);
    this.insert(namespace, startup);
  }

  /** The pod is gone: its start-up stays recorded, the bookkeeping about it is dropped. */
  forget(pod: V1Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.starting.delete(uid);
    this.recorded.delete(uid);
  }

  /** Throws SelectorError for a selector that cannot be read. */
  startupsFor(namespace: string, selector: string): number[] {
    const matches = this.matcherFor(selector);
    return (this.byNamespace.get(namespace) ?? []).filter((s) => matches(s.labels)).map((s) => s.durationMs);
  }

  private insert(namespace: string, startup: PodStartup): void {
    const list = this.byNamespace.get(namespace) ?? [];
    this.byNamespace.set(namespace, list);
    // Newest Ready first; the initial list delivers pods in no particular order.
    let i = list.findIndex((s) => s.readyAt < startup.readyAt);
    if (i < 0) i = list.length;
    list.splice(i, 0, startup);
    if (list.length > this.perNamespace) list.length = this.perNamespace;
  }

  private matcherFor(selector: string): LabelMatcher {
    let m = this.matchers.get(selector);
    if (!m) {
      m = parseSelector(selector);
      // Selectors come from a few scale targets; a bound keeps a churn of them from growing this.
      if (this.matchers.size >= 1000) this.matchers.clear();
      this.matchers.set(selector, m);
    }
    return m;
  }
}

/** A pod informer (one namespace or all) feeding a PodStartupRecorder. */
export class PodStartupInformer implements StartupHistory {
  readonly informer: ResilientInformer<V1Pod>;
  private readonly recorder: PodStartupRecorder;
  private readonly warned = new Set<string>();

  constructor(
    kc: KubeConfig,
    private readonly logger: Logger,
    namespace?: string,
    recorder = new PodStartupRecorder(),
  ) {
    this.recorder = recorder;
    const api = kc.makeApiClient(CoreV1Api);
    this.informer = new ResilientInformer<V1Pod>({
      kc,
      path: namespace ? `/api/v1/namespaces/${namespace}/pods` : '/api/v1/pods',
      logger,
      what: 'pods',
      list: () => (namespace ? api.listNamespacedPod({ namespace }) : api.listPodForAllNamespaces()),
    });
    this.informer.on('add', (pod) => this.recorder.observe(pod));
    this.informer.on('update', (pod) => this.recorder.observe(pod));
    this.informer.on('delete', (pod) => this.recorder.forget(pod));
  }

  /** An unreadable selector yields no start-ups (logged once), so the scaler keeps the default. */
  startupsFor(namespace: string, selector: string): number[] {
    try {
      return this.recorder.startupsFor(namespace, selector);
    } catch (err) {
      if (!(err instanceof SelectorError)) throw err;
      if (!this.warned.has(selector)) {
        this.warned.add(selector);
        this.logger.warn({ namespace, selector, err: err.message }, 'cannot match pods to learn the lead time');
      }
      return [];
    }
  }
}
