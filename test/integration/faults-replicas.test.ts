// Two `prescale run --leader-elect` processes (the compiled CLI, each with its own token for the
// deploy/ ServiceAccount) against a real API server: exactly one acts; SIGKILL of the leader hands
// over once the lease expires, SIGTERM hands over at once; no scale decision is lost or doubled, and
// the two never act at the same time.
//
// Lease timings are not `prescale run` flags, so the defaults apply: 15 s lease, 10 s renew
// deadline, 2 s retry period.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, credentialId, tokenCredentialId, type AuditLog } from '../helpers/audit.js';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { NS, deployment, eventually, scalerClient, sleep, steadyDemand, steadyScaler } from '../helpers/fault-fixtures.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { spawnOperator, type LogLine, type OperatorProcess } from '../helpers/operator-process.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';

const LEASE_MS = 15_000;
const RETRY_MS = 2_000;
const TERM_TARGETS = ['t1', 't2', 't3', 't4'];

let workDir: string;
let audit: AuditLog;
let cp: ControlPlane;
let prom: PrometheusHandle;
let scalers: ReturnType<typeof scalerClient>;
const replicas: Replica[] = [];

interface Replica {
  name: string;
  proc: OperatorProcess;
  identity: string;
  /** The credential id its token shows up with in the audit log. */
  credential: string;
}

const at = (line: LogLine) => Date.parse(line.time);

async function startReplica(name: string): Promise<Replica> {
  const token = await mintServiceAccountToken(cp.kubeConfig, 'prescale-system', 'prescale');
  const kubeconfig = join(workDir, `${name}.kubeconfig`);
  await writeFile(kubeconfig, cp.tokenKubeConfig(token).exportConfig(), { mode: 0o600 });
  const proc = spawnOperator([
    '--kubeconfig', kubeconfig,
    '--namespace', NS,
    '--prometheus-url', prom.url,
    '--metrics-bind-address', '127.0.0.1:0',
    '--health-probe-bind-address', '127.0.0.1:0',
    '--leader-elect',
    '--leader-election-namespace', 'prescale-system',
    '--no-persist-models',
  ]);
  const starting = await proc.waitForLog((l) => l.msg === 'prescale operator starting', 60_000);
  const replica = { name, proc, identity: String(starting.identity), credential: tokenCredentialId(token) };
  replicas.push(replica);
  return replica;
}

const becameLeader = (r: Replica, timeoutMs = 60_000) => r.proc.waitForLog((l) => l.msg === 'became leader; reconciling', timeoutMs);
const scaledLines = (r: Replica) => r.proc.logs.filter((l) => l.msg === 'scaled up' || l.msg === 'scaled down');

async function leaseHolder(): Promise<string | undefined> {
  const lease = await cp.kubeConfig.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: 'prescale-operator', namespace: 'prescale-system' });
  return lease.spec?.holderIdentity ?? undefined;
}

/** Every write the operators made to `name`'s scale subresource, with the replica that made it. */
async function scaleWrites(name: string) {
  const events = (await audit.read()).filter(
    (e) => e.objectRef?.resource === 'deployments' && e.objectRef.subresource === 'scale' && e.objectRef.name === name && e.verb !== 'get',
  );
  return events.map((e) => ({
    by: replicas.find((r) => r.credential === credentialId(e))?.name ?? `unknown credential ${credentialId(e)}`,
    at: Date.parse(e.requestReceivedTimestamp),
    code: e.responseStatus?.code,
  }));
}

async function scaledUpEvents(name: string) {
  return (await scalers.events(name))
    .filter((e) => e.reason === 'ScaledUp')
    .map((e) => ({ by: replicas.find((r) => r.identity === e.reportingInstance)?.name ?? e.reportingInstance, at: Date.parse(String(e.eventTime)) }));
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-faults-replicas-'));
  audit = await auditLog(workDir);
  [cp, prom] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startPrometheus({ series: [steadyDemand(Date.now())] }),
  ]);
  await applyManifests(cp.kubeConfig, 'crds');
  await applyKustomization(cp.kubeConfig, 'deploy');
  await applyManifests(cp.kubeConfig, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await applyManifests(cp.kubeConfig, ['first', 'failover', ...TERM_TARGETS].map((n) => deployment(n)));
  scalers = scalerClient(cp.kubeConfig);
  await Promise.all([startReplica('a'), startReplica('b')]);
}, 180_000);

afterAll(async () => {
  for (const r of replicas) r.proc.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.proc.exited));
  await Promise.all([cp?.close(), prom?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('two operator replicas with leader election', () => {
  it('lets only the Lease holder act, and after SIGKILL of the leader the other takes over once the lease expires', async () => {
    const leader = await Promise.any(replicas.map(async (r) => (await becameLeader(r), r)));
    const follower = replicas.find((r) => r !== leader)!;
    expect(await leaseHolder()).toBe(leader.identity);

    await scalers.create(steadyScaler('first', 5));
    await eventually('first scaled to 5', () => scalers.target('first'), (t) => t.replicas === 5);
    await sleep(RETRY_MS);
    expect(follower.proc.logs.some((l) => l.msg === 'became leader; reconciling')).toBe(false);
    expect(scaledLines(follower)).toEqual([]);
    expect((await scaleWrites('first')).map((w) => w.by)).toEqual([leader.name]);
    expect((await scaledUpEvents('first')).map((e) => e.by)).toEqual([leader.name]);

    const killedAt = Date.now();
    leader.proc.kill('SIGKILL');
    expect((await leader.proc.exited).signal).toBe('SIGKILL');
    await scalers.create(steadyScaler('failover', 4));

    const takeover = at(await becameLeader(follower, LEASE_MS + 4 * RETRY_MS));
    // Not before the dead leader's lease expired (its last renewal was at most one retry period
    // before the kill), and not much later either.
    expect(takeover - killedAt).toBeGreaterThanOrEqual(LEASE_MS - RETRY_MS - 500);
    expect(takeover - killedAt).toBeLessThanOrEqual(LEASE_MS + 2 * RETRY_MS);
    expect(await leaseHolder()).toBe(follower.identity);

    await eventually('failover scaled to 4', () => scalers.target('failover'), (t) => t.replicas === 4);
    await sleep(2 * 5000);
    expect(await scalers.target('failover')).toEqual({ replicas: 4, generation: 2 });
    // The new leader re-reconciled `first` and found nothing to do.
    expect(await scalers.target('first')).toEqual({ replicas: 5, generation: 2 });
    expect((await scaleWrites('failover')).map((w) => w.by)).toEqual([follower.name]);
    expect((await scaledUpEvents('failover')).map((e) => e.by)).toEqual([follower.name]);
    expect((await scaleWrites('first')).map((w) => w.by)).toEqual([leader.name]);
  }, 120_000);

  it('on SIGTERM mid-reconcile finishes in-flight work, exits 0 and releases the Lease so the other takes over at once', async () => {
    const holder = await leaseHolder();
    const leader = replicas.find((r) => r.identity === holder)!;
    expect(leader.proc.logs.some((l) => l.msg === 'became leader; reconciling')).toBe(true);
    const follower = await startReplica('c');
    await follower.proc.waitForLog((l) => l.msg === 'campaigning for leadership');
    await Promise.all(TERM_TARGETS.map((name, i) => scalers.create(steadyScaler(name, 3 + i))));
    // The first scale write of the batch: the others are being reconciled right now.
    await leader.proc.waitForLog((l) => l.msg === 'scaled up' && TERM_TARGETS.includes(String(l.scaler)), 30_000);
    const termAt = Date.now();
    leader.proc.kill('SIGTERM');

    const exit = await leader.proc.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - termAt).toBeLessThan(10_000);
    const messages = leader.proc.logs.map((l) => l.msg);
    expect(messages).toEqual(expect.arrayContaining(['shutting down: finishing in-flight reconciles', 'released leadership', 'stopped']));

    // Released, not expired: the successor does not wait out the 15 s lease.
    const takeover = at(await becameLeader(follower, LEASE_MS));
    expect(takeover - termAt).toBeLessThan(RETRY_MS + 3_000);
    expect(await leaseHolder()).toBe(follower.identity);

    for (const [i, name] of TERM_TARGETS.entries()) {
      await eventually(`${name} scaled to ${3 + i}`, () => scalers.target(name), (t) => t.replicas === 3 + i);
    }
    await sleep(2 * 5000);
    const leaderStoppedAt = at(leader.proc.logs.find((l) => l.msg === 'released leadership')!);
    for (const [i, name] of TERM_TARGETS.entries()) {
      expect(await scalers.target(name)).toEqual({ replicas: 3 + i, generation: 2 });
      // One write per decision, by whichever replica led at the time: never both.
      const writes = await scaleWrites(name);
      expect(writes).toHaveLength(1);
      const [write] = writes;
      if (write!.by === leader.name) expect(write!.at).toBeLessThan(leaderStoppedAt);
      else expect(write).toMatchObject({ by: follower.name, at: expect.any(Number) });
      if (write!.by === follower.name) expect(write!.at).toBeGreaterThanOrEqual(takeover);
      expect((await scaledUpEvents(name)).map((e) => e.by)).toEqual([write!.by]);
    }
    // Every scale the old leader logged happened before it let go of the lease.
    for (const line of scaledLines(leader)) expect(at(line)).toBeLessThan(leaderStoppedAt);
  }, 120_000);
});
