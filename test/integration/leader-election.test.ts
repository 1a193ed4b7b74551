import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaderElector, type LeaseApi } from '../../src/kube/leader-election.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { applyKustomization } from '../helpers/manifests.js';

// The Lease namespace and the rights of deploy/: the electors run under the operator's own token.
const NAMESPACE = 'prescale-system';
const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

let plane: ControlPlane;
let api: CoordinationV1Api;

beforeAll(async () => {
  plane = await startControlPlane();
  await applyKustomization(plane.kubeConfig, 'deploy');
  const token = await mintServiceAccountToken(plane.kubeConfig, NAMESPACE, 'prescale');
  api = plane.tokenKubeConfig(token).makeApiClient(CoordinationV1Api);
});

afterAll(async () => {
  await plane?.close();
});

/** A candidate plus what its callbacks saw. */
interface Candidate {
  identity: string;
  elector: LeaderElector;
  started: number;
  stopped: number;
  signal: AbortSignal | undefined;
  done: Promise<void>;
}

const candidates: Candidate[] = [];

function candidate(leaseName: string, identity: string, leaseApi: LeaseApi = api): Candidate {
  const elector = new LeaderElector({ api: leaseApi, namespace: NAMESPACE, name: leaseName, identity, ...TIMING });
  const c: Candidate = { identity, elector, started: 0, stopped: 0, signal: undefined, done: Promise.resolve() };
  c.done = elector.run({
    onStartedLeading: (signal) => {
      c.started++;
      c.signal = signal;
    },
    onStoppedLeading: () => {
      c.stopped++;
    },
  });
  candidates.push(c);
  return c;
}

/** Samples every candidate's isLeader() and counts instants where more than one leads. */
function watchForSplitBrain(group: Candidate[]) {
  let overlaps = 0;
  let samples = 0;
  const timer = setInterval(() => {
    samples++;
    if (group.filter((c) => c.elector.isLeader()).length > 1) overlaps++;
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return { overlaps, samples };
    },
  };
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function leaderOf(group: Candidate[]): Candidate | undefined {
  return group.find((c) => c.elector.isLeader());
}

/** Wraps the API so a test can cut one candidate off: its requests then hang, like a partition. */
function severableApi(): { api: LeaseApi; sever: () => void } {
  let severed = false;
  const hang = <T>() => new Promise<T>(() => {});
  return {
    sever: () => {
      severed = true;
    },
    api: {
      readNamespacedLease: (param) => (severed ? hang() : api.readNamespacedLease(param)),
      createNamespacedLease: (param) => (severed ? hang() : api.createNamespacedLease(param)),
      replaceNamespacedLease: (param) => (severed ? hang() : api.replaceNamespacedLease(param)),
    },
  };
}

afterEach(async () => {
  await Promise.all(candidates.splice(0).map((c) => c.elector.release()));
});

describe('LeaderElector against a real API server', () => {
  it('elects exactly one of two candidates, and hands over at once on release', async () => {
    const group = [candidate('prescale-release', 'alpha'), candidate('prescale-release', 'beta')];
    const watch = watchForSplitBrain(group);

    const first = await waitFor('a leader', () => leaderOf(group), 10_000);
    const second = group.find((c) => c !== first)!;
    // Several retry periods later the other candidate still follows, and the leader keeps renewing.
    const before = await api.readNamespacedLease({ name: 'prescale-release', namespace: NAMESPACE });
    await sleep(2_000);
    expect(first.elector.isLeader()).toBe(true);
    expect(second.elector.isLeader()).toBe(false);
    expect(first.started).toBe(1);
    expect(second.started).toBe(0);

    const lease = await api.readNamespacedLease({ name: 'prescale-release', namespace: NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe(first.identity);
    expect(lease.spec?.leaseDurationSeconds).toBe(3);
    expect(lease.spec?.leaseTransitions).toBe(0);
    // MicroTime round-trips with microsecond precision, and the renewals moved it forward.
    const renewTime = String(lease.spec?.renewTime);
    expect(renewTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    expect(Date.parse(renewTime)).toBeGreaterThan(Date.parse(String(before.spec?.renewTime)));

    const releasedAt = Date.now();
    await first.elector.release();
    expect(first.elector.isLeader()).toBe(false);
    expect(first.stopped).toBe(1);
    expect(first.signal?.aborted).toBe(true);
    await first.done;

    await waitFor('the other candidate to lead', () => second.elector.isLeader(), 5_000);
    // Well under the 3 s lease duration: the successor did not wait for the lease to expire.
    expect(Date.now() - releasedAt).toBeLessThan(2_000);
    const taken = await api.readNamespacedLease({ name: 'prescale-release', namespace: NAMESPACE });
    expect(taken.spec?.holderIdentity).toBe(second.identity);
    expect(taken.spec?.leaseTransitions).toBe(1);

    const { overlaps, samples } = watch.stop();
    expect(samples).toBeGreaterThan(50);
    expect(overlaps).toBe(0);
  });

  it('leaves the Lease without a holder when the only leader releases it', async () => {
    const only = candidate('prescale-solo', 'solo');
    await waitFor('leadership', () => only.elector.isLeader(), 10_000);
    await only.elector.release();
    const lease = await api.readNamespacedLease({ name: 'prescale-solo', namespace: NAMESPACE });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(only.stopped).toBe(1);
  });

  it('lets a follower take over only after the lease expires when the leader stops renewing', async () => {
    const severable = severableApi();
    const leader = candidate('prescale-partition', 'gamma', severable.api);
    await waitFor('the first candidate to lead', () => leader.elector.isLeader(), 10_000);
    const follower = candidate('prescale-partition', 'delta');
    const group = [leader, follower];
    const watch = watchForSplitBrain(group);
    await sleep(1_200);
    expect(follower.elector.isLeader()).toBe(false);

    const severedAt = Date.now();
    severable.sever();

    await waitFor('the cut-off leader to step down', () => !leader.elector.isLeader(), 5_000);
    const steppedDownAfter = Date.now() - severedAt;
    await leader.done;
    expect(leader.stopped).toBe(1);
    expect(leader.signal?.aborted).toBe(true);
    // It steps down by the renew deadline, counted from the start of its last successful renewal.
    expect(steppedDownAfter).toBeLessThanOrEqual(TIMING.renewDeadlineMs + 500);

    await waitFor('the follower to take over', () => follower.elector.isLeader(), 10_000);
    const takeoverAfter = Date.now() - severedAt;
    // The follower must wait for the lease to expire: at least lease duration minus one retry
    // period (the leader's last renewal happened at most one retry period before the cut).
    expect(takeoverAfter).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - TIMING.retryPeriodMs - 200);
    expect(takeoverAfter).toBeLessThan(TIMING.leaseDurationMs + 3 * TIMING.retryPeriodMs + 1_000);

    const lease = await api.readNamespacedLease({ name: 'prescale-partition', namespace: NAMESPACE });
    expect(lease.spec?.holderIdentity).toBe('delta');
    expect(lease.spec?.leaseTransitions).toBe(1);

    const { overlaps, samples } = watch.stop();
    expect(samples).toBeGreaterThan(50);
    expect(overlaps).toBe(0);
  });
});
