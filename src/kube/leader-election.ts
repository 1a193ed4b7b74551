// Leader election on a coordination.k8s.io/v1 Lease, following client-go's leaderelection package:
// acquire by creating the Lease or taking over an expired one, renew every retryPeriod, step down
// when no renewal succeeded within renewDeadline, and release the Lease on graceful shutdown.
//
// Expiry is judged the way client-go judges it: by how long *this* process has seen the Lease
// unchanged, not by comparing the holder's renewTime with the local clock, so clock skew between
// nodes cannot make two candidates lead at once. The holder steps down renewDeadline after the start
// of its last successful renewal, which is before any candidate can see the Lease as expired
// (leaseDuration after it observed that renewal); renewDeadline < leaseDuration is enforced.

import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import pino from 'pino';
import type { Logger } from '../observability/logger.js';

/** The three Lease calls the elector makes (client-node's CoordinationV1Api satisfies it). */
export type LeaseApi = Pick<CoordinationV1Api, 'readNamespacedLease' | 'createNamespacedLease' | 'replaceNamespacedLease'>;

/** Resolves after `ms`, or early once `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

export interface LeaderElectorOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** Unique per candidate, e.g. the pod name plus a random suffix. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: () => number;
  sleep?: Sleep;
  logger?: Logger;
}

export interface LeaderCallbacks {
  /** Called once leadership is acquired; `signal` aborts when leadership ends. Not awaited. */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /** Called once when leadership ends (lost or released). Not called if it never led. */
  onStoppedLeading(): void;
}

type AttemptResult = 'acquired' | 'held-by-other' | 'failed';

const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });

export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly namespace: string;
  private readonly name: string;
  private readonly identity: string;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: () => number;
  private readonly sleep: Sleep;
  private readonly logger: Logger;

  private leading = false;
  private running: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  /** The Lease as this process last read or wrote it, and when it first saw that version. */
  private observed: { lease: V1Lease; at: number } | undefined;
  /** The attempt in flight, awaited before releasing so a late renewal cannot race the release. */
  private inFlight: Promise<AttemptResult> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.api = options.api;
    this.namespace = options.namespace;
    this.name = options.name;
    this.identity = options.identity;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? (() => Date.now());
    this.sleep = options.sleep ?? abortableSleep;
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({
      lease: `${this.namespace}/${this.name}`,
      identity: this.identity,
    });
    if (this.identity === '') throw new Error('leader election identity must not be empty');
    if (!(this.leaseDurationMs > this.renewDeadlineMs)) {
      throw new Error('leader election lease duration must be greater than the renew deadline');
    }
    if (!(this.renewDeadlineMs > this.retryPeriodMs) || !(this.retryPeriodMs > 0)) {
      throw new Error('leader election renew deadline must be greater than the retry period, which must be positive');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until leadership is acquired, then leads until it is lost or released. Resolves when
   * this elector is done: after losing leadership, or after release().
   */
  run(callbacks: LeaderCallbacks): Promise<void> {
    if (this.running !== undefined) throw new Error('leader elector already running');
    this.running = this.campaignAndLead(callbacks);
    return this.running;
  }

  /**
   * Stops campaigning or leading. If leading, rewrites the Lease with no holder so another candidate
   * takes over at once, then calls onStoppedLeading. Resolves when run() has finished.
   */
  async release(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async campaignAndLead(callbacks: LeaderCallbacks): Promise<void> {
    const stop = this.stopping.signal;
    this.logger.info('campaigning for leadership');
    let lastRenewStart = 0;
    let acquired = false;
    while (!stop.aborted) {
      const attemptStart = this.clock();
      acquired = (await this.withDeadline(this.attempt(), this.renewDeadlineMs)) === 'acquired';
      if (acquired) {
        lastRenewStart = attemptStart;
        break;
      }
      await this.sleep(this.retryPeriodMs, stop);
    }
    if (stop.aborted) {
      // Released while the winning attempt was in flight: hand the Lease straight back.
      if (acquired) await this.releaseLease();
      return;
    }

    this.leading = true;
    const leadership = new AbortController();
    this.logger.info('became leader');
    this.startLeading(callbacks, leadership.signal);

    while (!stop.aborted) {
      await this.sleep(this.retryPeriodMs, stop);
      if (stop.aborted) break;
      const renewed = await this.renewWithin(lastRenewStart + this.renewDeadlineMs);
      if (renewed === undefined) {
        this.logger.warn('could not renew the lease within the renew deadline; stepping down');
        await this.stepDown(callbacks, leadership, false);
        return;
      }
      lastRenewStart = renewed;
    }
    await this.settleInFlight();
    await this.stepDown(callbacks, leadership, true);
  }

  /**
   * Retries every retryPeriod until a renewal succeeds or the deadline passes. Returns the start
   * time of the successful attempt, or undefined when leadership must end.
   */
  private async renewWithin(deadline: number): Promise<number | undefined> {
    const stop = this.stopping.signal;
    while (!stop.aborted) {
      const attemptStart = this.clock();
      const remaining = deadline - attemptStart;
      if (remaining <= 0) return undefined;
      const result = await this.withDeadline(this.attempt(), remaining);
      if (result === 'acquired') return attemptStart;
      if (result === 'held-by-other') {
        this.logger.warn('the lease is held by another candidate');
        return undefined;
      }
      if (stop.aborted) break;
      const wait = Math.min(this.retryPeriodMs, deadline - this.clock());
      if (wait <= 0) return undefined;
      await this.sleep(wait, stop);
    }
    // Released while renewing: the caller still holds leadership and releases it.
    return this.clock();
  }

  /** Races an attempt against the time left; a hung API server must not keep us leading. */
  private async withDeadline(attempt: Promise<AttemptResult>, ms: number): Promise<AttemptResult | 'timeout'> {
    const timeout = new AbortController();
    const timedOut = this.sleep(ms, timeout.signal).then(() => 'timeout' as const);
    try {
      return await Promise.race([attempt, timedOut]);
    } finally {
      timeout.abort();
    }
  }

  /** Waits for the attempt in flight, but no longer than a renewal may take. */
  private async settleInFlight(): Promise<void> {
    if (this.inFlight === undefined) return;
    await this.withDeadline(this.inFlight, this.renewDeadlineMs);
  }

  private startLeading(callbacks: LeaderCallbacks, signal: AbortSignal): void {
    try {
      const started = callbacks.onStartedLeading(signal);
      if (started instanceof Promise) {
        started.catch((error: unknown) => this.logger.error({ err: error }, 'onStartedLeading failed'));
      }
    } catch (error) {
      this.logger.error({ err: error }, 'onStartedLeading failed');
    }
  }

  private async stepDown(
    callbacks: LeaderCallbacks,
    leadership: AbortController | undefined,
    release: boolean,
  ): Promise<void> {
    this.leading = false;
    leadership?.abort();
    if (release) await this.releaseLease();
    this.logger.info(release ? 'released leadership' : 'lost leadership');
    try {
      callbacks.onStoppedLeading();
    } catch (error) {
      this.logger.error({ err: error }, 'onStoppedLeading failed');
    }
  }

  private attempt(): Promise<AttemptResult> {
    const attempt = this.tryAcquireOrRenew().catch((error: unknown) => {
      this.logger.warn({ err: describeError(error) }, 'leader election attempt failed');
      return 'failed' as const;
    });
    this.inFlight = attempt;
    return attempt;
  }

  private async tryAcquireOrRenew(): Promise<AttemptResult> {
    const now = this.clock();
    let current: V1Lease;
    try {
      current = await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      const created = await this.createLease(now);
      return created ? 'acquired' : 'failed';
    }

    const version = current.metadata?.resourceVersion;
    if (this.observed === undefined || this.observed.lease.metadata?.resourceVersion !== version) {
      this.observed = { lease: current, at: now };
    }
    const spec = current.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const heldByUs = holder === this.identity;
    if (holder !== '' && !heldByUs) {
      const durationMs = (spec.leaseDurationSeconds ?? Math.ceil(this.leaseDurationMs / 1000)) * 1000;
      if (now - this.observed.at < durationMs) return 'held-by-other';
    }

    const transitions = spec.leaseTransitions ?? 0;
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: current.metadata,
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: heldByUs && spec.acquireTime ? microTime(spec.acquireTime) : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: heldByUs ? transitions : transitions + 1,
      },
    };
    try {
      const replaced = await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body });
      this.observed = { lease: replaced, at: now };
      return 'acquired';
    } catch (error) {
      // 409: someone else wrote the Lease since we read it; they win this round.
      if (statusOf(error) === 409) return 'failed';
      throw error;
    }
  }

  private async createLease(now: number): Promise<boolean> {
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: this.leaseDurationSeconds(),
        acquireTime: new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      const created = await this.api.createNamespacedLease({ namespace: this.namespace, body });
      this.observed = { lease: created, at: now };
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      throw error;
    }
  }

  /** Writes the Lease with no holder (client-go's ReleaseOnCancel) so a successor need not wait. */
  private async releaseLease(): Promise<void> {
    const lease = this.observed?.lease;
    if (lease === undefined || lease.spec?.holderIdentity !== this.identity) return;
    const now = this.clock();
    const body: V1Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: lease.metadata,
      spec: {
        leaseDurationSeconds: 1,
        acquireTime: new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: lease.spec?.leaseTransitions ?? 0,
      },
    };
    try {
      this.observed = {
        lease: await this.api.replaceNamespacedLease({ name: this.name, namespace: this.namespace, body }),
        at: now,
      };
    } catch (error) {
      this.logger.warn({ err: describeError(error) }, 'could not release the lease; it expires on its own');
    }
  }

  private leaseDurationSeconds(): number {
    return Math.max(1, Math.ceil(this.leaseDurationMs / 1000));
  }
}

/** client-node 1.x hands MicroTime fields back as the raw ISO string despite the Date type. */
function microTime(value: Date | string): V1MicroTime {
  return new V1MicroTime(typeof value === 'string' ? Date.parse(value) : value.getTime());
}

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === 'number') return code;
  if (typeof statusCode === 'number') return statusCode;
  return undefined;
}

// ApiException messages embed the whole response (headers included); keep the log line short.
function describeError(error: unknown): string {
  const status = statusOf(error);
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return status === undefined ? message : `HTTP ${status}: ${message}`;
}
