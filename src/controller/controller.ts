// Wires the PredictiveScaler informer to the work queue and the reconciler: the informer only
// enqueues namespace/name; the reconciler re-reads everything; each scaler is requeued after its
// interval, and with per-key exponential backoff after an error.
import { CustomObjectsApi, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../api/types.js';
import { apiStatusCode } from '../kube/errors.js';
import { ResilientInformer } from '../kube/informer.js';
import type { OperatorMetrics } from '../observability/metrics.js';
import { WorkQueue } from './workqueue.js';
import type { ReconcileResult } from './reconciler.js';

export interface ScalerReconciler {
  reconcile(key: string): Promise<ReconcileResult>;
}

export function scalerKey(s: { metadata?: { namespace?: string; name?: string } }): string {
  return `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
}

/** A change that needs a reconcile now: spec (generation), annotations (pause) or a new object. */
export function needsReconcile(before: PredictiveScaler | undefined, after: PredictiveScaler): boolean {
  if (!before) return true;
  return (
    before.metadata.generation !== after.metadata.generation ||
    before.metadata.uid !== after.metadata.uid ||
    JSON.stringify(before.metadata.annotations ?? {}) !== JSON.stringify(after.metadata.annotations ?? {})
  );
}

export function scalerInformer(kc: KubeConfig, logger: Logger, namespace?: string): ResilientInformer<PredictiveScaler> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const path = namespace ? `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}` : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
  return new ResilientInformer<PredictiveScaler>({
    kc,
    path,
    logger,
    what: PLURAL,
    list: async () =>
      (namespace
        ? await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace })
        : await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as KubernetesListObject<PredictiveScaler>,
  });
}

export interface ControllerOptions {
  informer: ResilientInformer<PredictiveScaler>;
  reconciler: ScalerReconciler;
  concurrency: number;
  logger: Logger;
  metrics: OperatorMetrics;
}

export class Controller {
  /** A fresh queue per run: a shut-down queue takes no more work, and a new leadership term starts clean. */
  private queue: WorkQueue;
  private readonly seen = new Map<string, PredictiveScaler>();
  private running = false;

  constructor(private readonly opts: ControllerOptions) {
    this.queue = this.newQueue();
    const onChange = (obj: PredictiveScaler) => {
      const key = scalerKey(obj);
      const before = this.seen.get(key);
      this.seen.set(key, obj);
      if (needsReconcile(before, obj)) this.queue.add(key);
    };
    opts.informer.on('add', onChange);
    opts.informer.on('update', onChange);
    opts.informer.on('delete', (obj) => {
      const key = scalerKey(obj);
      this.seen.delete(key);
      this.queue.add(key);
    });
  }

  /** Asks for a reconcile of `namespace/name` (e.g. a model finished training in the background). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  private newQueue(): WorkQueue {
    return new WorkQueue({ concurrency: this.opts.concurrency, onError: (key, err) => this.onError(key, err) });
  }

  /**
   * Starts handling queued keys and enqueues every known scaler. The informer must have synced. May be
   * called again after stop(), e.g. when leadership is won back.
   */
  start(): void {
    if (this.running) return;
    this.running = true;
    // Enqueue before starting, so these collapse with keys the informer's initial list already
    // queued instead of marking keys that are already being handled for a second round.
    for (const s of this.opts.informer.cache.list()) this.queue.add(scalerKey(s));
    this.queue.start((key) => this.handle(key));
  }

  async stop(): Promise<void> {
    this.running = false;
    const queue = this.queue;
    this.queue = this.newQueue();
    await queue.shutdown({ drain: true });
  }

  queueLength(): number {
    return this.queue.len();
  }

  private async handle(key: string): Promise<void> {
    const result = await this.opts.reconciler.reconcile(key);
    this.queue.forget(key);
    if (result.requeueAfterMs !== undefined && this.running) this.queue.addAfter(key, result.requeueAfterMs);
  }

  private onError(key: string, err: unknown): void {
    const code = apiStatusCode(err);
    const reason = code === 409 ? 'Conflict' : code !== undefined ? `HTTP${code}` : (err as Error)?.name || 'Error';
    this.opts.metrics.reconcileErrors.inc({ reason });
    const [namespace, scaler] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
    this.opts.logger.warn({ namespace, scaler, reason, err: (err as Error)?.message ?? String(err) }, 'reconcile failed; retrying with backoff');
    if (this.running) this.queue.addRateLimited(key);
  }
}
