// An informer that keeps going: client-node's ListWatch stops on a watch error (API server restart,
// dropped connection); this restarts it with capped exponential backoff. Expired resourceVersions
// (410 Gone) make ListWatch re-list by itself.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ListPromise, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface ResilientInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  path: string;
  list: ListPromise<T>;
  logger: Logger;
  what: string;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly cache: ObjectCache<T>;
  private readonly informer: Informer<T> & ObjectCache<T>;
  private failures = 0;
  private stopped = false;
  private synced = false;
  private timer: unknown;

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    this.informer = makeInformer(opts.kc, opts.path, opts.list);
    this.cache = this.informer;
    this.informer.on('error', (err) => this.onError(err));
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    this.informer.on(verb, (obj: T) => {
      this.failures = 0;
      cb(obj);
    });
  }

  /** Resolves after the first successful list. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
    this.synced = true;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) (this.opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.timer);
    await this.informer.stop();
  }

  private onError(err: unknown): void {
    // One restart at a time: a second error while one is pending must not start a second watch.
    if (this.stopped || this.timer !== undefined) return;
    this.failures++;
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
    this.opts.logger.warn(
      { informer: this.opts.what, err: (err as Error)?.message ?? String(err), retryInMs: delay },
      'watch failed; restarting',
    );
    const setTimer = this.opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.timer = setTimer(() => {
      this.timer = undefined;
      if (this.stopped) return;
      // start() resolves once the re-list succeeded: only then is the watch back, and the next
      // outage starts again from the shortest backoff.
      this.informer.start().then(
        () => {
          if (this.stopped) return;
          this.opts.logger.info({ informer: this.opts.what, failures: this.failures }, 'watch re-established');
          this.failures = 0;
        },
        (e) => this.onError(e),
      );
    }, delay);
  }
}
