// A keyed work queue with client-go's guarantees: a key is never handled by two workers at once,
// duplicate adds collapse, a key added while it is being handled is handled once more afterwards,
// and ready keys are served first in, first out. Delays and per-key exponential backoff are built in.

export type TimerHandle = unknown;

/** The longest delay setTimeout honours; above it Node fires after 1 ms. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface WorkQueueOptions {
  /** How many handlers may run at once (>= 1). */
  concurrency: number;
  /** Called when a handler throws or rejects; the caller decides whether to back off. */
  onError: (key: string, error: unknown) => void;
  /** Milliseconds since the epoch; used to keep the earliest of several addAfter deadlines. */
  clock?: () => number;
  setTimer?: (callback: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

export interface ShutdownOptions {
  /** Wait for in-flight handlers to finish before resolving (default true). */
  drain?: boolean;
}

export type KeyHandler = (key: string) => Promise<void>;

interface DelayedAdd {
  deadline: number;
  timer: TimerHandle;
}

export class WorkQueue {
  private readonly concurrency: number;
  private readonly onError: (key: string, error: unknown) => void;
  private readonly clock: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;

  /** Ready keys in arrival order; a Set keeps insertion order and makes membership O(1). */
  private readonly ready = new Set<string>();
  /** Keys that need (another) handling: queued ones plus ones re-added while being processed. */
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly delayed = new Map<string, DelayedAdd>();
  private readonly failures = new Map<string, number>();

  private handler: KeyHandler | undefined;
  private shuttingDown = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new Error(`work queue concurrency must be a positive integer, got ${options.concurrency}`);
    }
    this.concurrency = options.concurrency;
    this.onError = options.onError;
    this.clock = options.clock ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
    this.baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.maxBackoffMs = options.maxBackoffMs ?? 300_000;
  }

  /** Queues a key for handling now; a no-op if it is already waiting to be handled. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    // A key being handled goes back to the ready list when its handler finishes.
    if (this.inFlight.has(key)) return;
    this.ready.add(key);
    this.dispatch();
  }

  /**
   * Queues a key after a delay; of several pending delays for one key the earliest wins. Delays are
   * capped at 2^31-1 ms (about 24.8 days), the longest a timer can wait.
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    // A timer given NaN or more than 2^31-1 ms fires at once: every requeue would become a hot loop.
    // NaN is a caller's bug; waiting the longest backoff keeps the key alive without spinning.
    const delayMs = Number.isNaN(ms) ? this.maxBackoffMs : Math.min(ms, MAX_TIMER_DELAY_MS);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const deadline = this.clock() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined) {
      if (pending.deadline <= deadline) return;
      this.clearTimer(pending.timer);
    }
    const timer = this.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { deadline, timer });
  }

  /** Queues a key after its next backoff delay: base * 2^failures, capped at the maximum. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, this.backoffFor(failures));
  }

  /** Resets a key's backoff, typically after it was handled successfully. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times a key has been rate-limited since it was last forgotten. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Starts handing keys to the handler, at most `concurrency` at a time. */
  start(handler: KeyHandler): void {
    if (this.handler !== undefined) throw new Error('work queue already started');
    if (this.shuttingDown) throw new Error('work queue is shut down');
    this.handler = handler;
    this.dispatch();
  }

  /**
   * Stops taking work: queued and delayed keys are dropped and later adds are ignored. With
   * `drain` (the default) the promise resolves once every in-flight handler has finished.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) this.clearTimer(timer);
    this.delayed.clear();
    this.ready.clear();
    this.dirty.clear();
    if (options.drain === false || this.inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Keys ready to be handled (not counting delayed or in-flight ones). */
  len(): number {
    return this.ready.size;
  }

  /** Keys being handled right now. */
  processing(): number {
    return this.inFlight.size;
  }

  private backoffFor(failures: number): number {
    // Cap the exponent first so 2^failures never overflows to Infinity.
    const exponent = Math.min(failures, 52);
    return Math.min(this.baseBackoffMs * 2 ** exponent, this.maxBackoffMs);
  }

  private dispatch(): void {
    const handler = this.handler;
    if (handler === undefined) return;
    while (!this.shuttingDown && this.inFlight.size < this.concurrency && this.ready.size > 0) {
      const key = this.ready.values().next().value as string;
      this.ready.delete(key);
      this.dirty.delete(key);
      this.inFlight.add(key);
      this.runHandler(handler, key).catch((error: unknown) => this.onError(key, error));
    }
  }

  private async runHandler(handler: KeyHandler, key: string): Promise<void> {
    try {
      await handler(key);
    } catch (error) {
      try {
        this.onError(key, error);
      } catch {
        // An onError that throws must not wedge the key in the in-flight set.
      }
    }
    this.inFlight.delete(key);
    if (this.dirty.has(key)) this.ready.add(key);
    if (this.shuttingDown && this.inFlight.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.dispatch();
  }
}
