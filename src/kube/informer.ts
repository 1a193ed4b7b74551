// An informer that keeps going: client-node's ListWatch stops on a watch error (API server restart,
// dropped connection); this restarts it with capped exponential backoff. Expired resourceVersions
// (410 Gone) make ListWatch re-list by itself.
//
// hasSynced() is client-go's HasSynced: true once a list has really succeeded and its items are in
// the cache, and it stays true through later outages (the cache keeps the last state it saw, and
// the watch re-lists when it comes back). ListWatch reports a failed list as an error event and
// still resolves start(), so success is told apart by whether an error fired during the attempt.
import { makeInformer, type Informer, type KubeConfig, type KubernetesObject, type ListPromise, type ObjectCache } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiErrorMessage, apiStatusCode } from './errors.js';

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

/** Why the last list or watch failed: one line, the HTTP status when the API server answered. */
export interface InformerFailure {
  message: string;
  status?: number;
}

const MAX_FAILURE_CHARS = 500;

export function describeInformerFailure(err: unknown): InformerFailure {
  const message = apiErrorMessage(err).replace(/\s+/g, ' ').trim().slice(0, MAX_FAILURE_CHARS) || 'unknown error';
  const status = apiStatusCode(err);
  return status === undefined ? { message } : { message, status };
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly cache: ObjectCache<T>;
  private readonly informer: Informer<T> & ObjectCache<T>;
  private failures = 0;
  /** Errors seen since construction; an attempt during which none fired listed and watched. */
  private errorCount = 0;
  private listed = false;
  private synced = false;
  private stopped = false;
  private timer: unknown;
  private failure: InformerFailure | undefined;
  private readonly syncWaiters = new Set<() => void>();

  constructor(private readonly opts: ResilientInformerOptions<T>) {
    this.informer = makeInformer(opts.kc, opts.path, async () => {
      const list = await opts.list();
      this.listed = true;
      return list;
    });
    this.cache = this.informer;
    this.informer.on('error', (err) => this.onError(err));
  }

  /** What this informer watches, as named in logs and readiness. */
  get what(): string {
    return this.opts.what;
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    this.informer.on(verb, (obj: T) => {
      this.failures = 0;
      cb(obj);
    });
  }

  /**
   * Lists, then watches. Resolves after the first attempt whether it succeeded or not: a failure is
   * logged and retried with backoff until stop(). hasSynced() and waitForSync() tell which it was.
   */
  async start(): Promise<void> {
    this.stopped = false;
    await this.attempt();
  }

  /** True once a list has succeeded and its items are in the cache; stays true after that. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** The last list or watch failure, until a later attempt succeeds. */
  lastFailure(): InformerFailure | undefined {
    return this.failure;
  }

  /** Resolves true once synced, false if timeoutMs passes or the informer is stopped first. */
  waitForSync(timeoutMs: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const setTimer = this.opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
      const clearTimer = this.opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
      const wake = () => {
        this.syncWaiters.delete(wake);
        clearTimer(deadline);
        resolve(this.synced);
      };
      const deadline = setTimer(wake, timeoutMs);
      this.syncWaiters.add(wake);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) (this.opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout)))(this.timer);
    this.timer = undefined;
    for (const wake of [...this.syncWaiters]) wake();
    await this.informer.stop();
  }

  /** One list-and-watch; true when no error fired during it. Never rejects: failures go to onError. */
  private async attempt(): Promise<boolean> {
    const errorsBefore = this.errorCount;
    try {
      await this.informer.start();
    } catch (err) {
      // Only building the request throws (credentials that cannot be loaded); list and watch
      // failures arrive as error events.
      this.onError(err);
    }
    if (this.stopped) {
      // ListWatch starts its watch after a list that was still pending at stop(): end that one too.
      // Never rejects: start() and the restart timer rely on it.
      await this.informer.stop().catch((err: unknown) => this.opts.logger.debug({ informer: this.opts.what, err: (err as Error)?.message }, 'stopping a late watch failed'));
      return false;
    }
    if (this.errorCount !== errorsBefore) return false;
    this.failure = undefined;
    if (this.listed && !this.synced) {
      this.synced = true;
      for (const wake of [...this.syncWaiters]) wake();
    }
    return true;
  }

  private onError(err: unknown): void {
    if (this.stopped) return;
    this.errorCount++;
    this.failure = describeInformerFailure(err);
    // One restart at a time: a second error while one is pending must not start a second watch.
    if (this.timer !== undefined) return;
    this.failures++;
    const min = this.opts.minBackoffMs ?? 500;
    const max = this.opts.maxBackoffMs ?? 30_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.failures - 1, 16));
    this.opts.logger.warn(
      { informer: this.opts.what, err: this.failure.message, status: this.failure.status, retryInMs: delay },
      'watch failed; restarting',
    );
    const setTimer = this.opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.timer = setTimer(() => {
      this.timer = undefined;
      if (this.stopped) return;
      // Only an attempt that listed and watched without an error brings the watch back; a failed
      // re-list keeps the backoff growing, and the next outage after a success starts from the
      // shortest backoff again.
      void this.attempt().then((ok) => {
        if (!ok || this.stopped) return;
        this.opts.logger.info({ informer: this.opts.what, failures: this.failures }, 'watch re-established');
        this.failures = 0;
      });
    }, delay);
  }
}
