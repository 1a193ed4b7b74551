// Faults one operator must ride out without losing or doubling a scale decision: its API server
// connection cut while the scalers change and kube-apiserver restarts (the watch resumes from an
// expired resourceVersion: 410 Gone, re-list), Prometheus stopped and restarted, and another
// writer racing its status updates (409 Conflict).
//
// Evidence: every scaler's one right answer is its maxReplicas (see fault-fixtures.ts); a
// Deployment's metadata.generation counts writes to its spec (nothing else here writes them), and
// the API server's audit log records every request the operator made and its response code.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import { auditLog, type AuditEvent, type AuditLog } from '../helpers/audit.js';
import { startControlPlane, mintServiceAccountToken, type ControlPlane } from '../helpers/envtest.js';
import { NS, condition, deployment, eventually, scalerClient, sleep, steadyDemand, steadyScaler } from '../helpers/fault-fixtures.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';

const OPERATOR_USER = 'system:serviceaccount:prescale-system:prescale';
const INTERVAL_MS = 5000;

let workDir: string;
let audit: AuditLog;
let cp: ControlPlane;
let prom: PrometheusHandle;
let proxy: TcpProxy;
let operator: RunningOperator;
let scalers: ReturnType<typeof scalerClient>;
const logLines: Record<string, unknown>[] = [];

const logsSince = (t: number, msg: string) => logLines.filter((l) => Date.parse(String(l.time)) >= t && l.msg === msg);

async function operatorRequests(filter: (e: Awaited<ReturnType<AuditLog['read']>>[number]) => boolean) {
  return (await audit.read()).filter((e) => e.user.username === OPERATOR_USER && filter(e));
}

async function scaleWrites(name: string) {
  return operatorRequests((e) => e.objectRef?.resource === 'deployments' && e.objectRef.subresource === 'scale' && e.objectRef.name === name && e.verb !== 'get');
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'prescale-faults-'));
  audit = await auditLog(workDir);
  [cp, prom] = await Promise.all([
    startControlPlane({ apiServerArgs: audit.apiServerArgs }),
    startPrometheus({ series: [steadyDemand(Date.now())] }),
  ]);
  await applyManifests(cp.kubeConfig, 'crds');
  await applyKustomization(cp.kubeConfig, 'deploy');
  await applyManifests(cp.kubeConfig, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await applyManifests(cp.kubeConfig, ['early', 'missed', 'after-restart', 'blind', 'contended'].map((n) => deployment(n)));
  scalers = scalerClient(cp.kubeConfig);

  // The operator reaches the API server through a proxy the tests can cut; everyone else goes direct.
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(cp.server).port) });
  const token = await mintServiceAccountToken(cp.kubeConfig, 'prescale-system', 'prescale');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'proxied', server: `https://127.0.0.1:${proxy.port}`, caData: cp.caData, skipTLSVerify: cp.caData === undefined }],
    users: [{ name: 'prescale', token }],
    contexts: [{ name: 'proxied', cluster: 'proxied', user: 'prescale' }],
    currentContext: 'proxied',
  });
  operator = await startOperator({
    kubeConfig: kc,
    logger: createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } }),
    prometheusUrl: prom.url,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '0',
    leaderElect: false,
    leaderElectionNamespace: 'prescale-system',
    leaderElectionId: 'prescale-operator',
    concurrency: 4,
    trainingWorkers: 1,
    trainingTimeoutMs: 60_000,
    trainingWorkerScript: TRAINING_WORKER_SCRIPT,
    persistModels: false,
    version: 'test',
  });
}, 180_000);

afterAll(async () => {
  if (process.env.PRESCALE_KEEP_TEST_LOGS) {
    await writeFile(process.env.PRESCALE_KEEP_TEST_LOGS, logLines.map((l) => JSON.stringify(l)).join('\n'));
    await writeFile(`${process.env.PRESCALE_KEEP_TEST_LOGS}.audit`, (await audit.read()).map((l) => JSON.stringify(l)).join('\n'));
  }
  await operator?.stop();
  await Promise.all([cp?.close(), prom?.close(), proxy?.close()]);
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function scaleActions(scaler: string): Promise<string[]> {
  const text = await (await fetch(`http://127.0.0.1:${operator.servers.metrics!.port}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('prescale_scale_actions_total') && l.includes(`scaler="${scaler}"`));
}

/**
 * What the API server sends first to a watch from `resourceVersion` (admin credentials). Not aborted
 * here: the API server ends a watch it answers with an ERROR event itself.
 */
async function firstWatchEvent(path: string, resourceVersion: string): Promise<{ type: string; code?: number }> {
  return new Promise((resolve, reject) => {
    void new Watch(cp.kubeConfig).watch(
      path,
      { resourceVersion },
      (type, obj: { code?: number }) => resolve({ type, code: obj.code }),
      (err) => (err ? reject(err) : undefined),
    );
  });
}

describe('operator under faults', () => {
  it('catches up on changes it missed while cut off, across an API server restart and a 410 Gone re-list', async () => {
    await scalers.create(steadyScaler('early', 5));
    await eventually('early scaled to 5', () => scalers.target('early'), (t) => t.replicas === 5);

    const cutAt = Date.now();
    proxy.cut();
    let restoredAt: number;
    try {
      await eventually('the scaler watch to fail', async () => logsSince(cutAt, 'watch failed; restarting'), (ls) => ls.some((l) => l.informer === PLURAL));
      // Changes the operator cannot see while cut off: a new scaler, and a spec change.
      await scalers.create(steadyScaler('missed', 4));
      await scalers.patch('early', { spec: { maxReplicas: 6 } });
      // A fresh API server's watch cache starts at the current resourceVersion: the operator's last
      // one is now too old to watch from.
      await cp.restartApiServer();
    } finally {
      restoredAt = Date.now();
      proxy.restore();
    }

    // The informer's restart backoff has grown during the outage (up to 30 s).
    await eventually('missed scaled to 4', () => scalers.target('missed'), (t) => t.replicas === 4, 60_000);
    await eventually('early scaled to 6', () => scalers.target('early'), (t) => t.replicas === 6);
    await scalers.create(steadyScaler('after-restart', 3));
    await eventually('after-restart scaled to 3', () => scalers.target('after-restart'), (t) => t.replicas === 3);
    await sleep(2 * INTERVAL_MS);

    // The scaler watch resumed from the resourceVersion it had when cut off; the restarted API
    // server answered it with 410 Gone (in the stream), and the informer listed again at once.
    const scalerRequests = await operatorRequests((e) => e.objectRef?.resource === PLURAL && !e.objectRef.subresource && !e.objectRef.name);
    const rvOf = (e: AuditEvent) => new URL(e.requestURI, 'https://x').searchParams.get('resourceVersion');
    // The resourceVersions its failing watch retries asked for while cut off, from its log.
    const retriedWhileCut = new Set(
      logsSince(cutAt, 'watch failed; restarting')
        .filter((l) => l.informer === PLURAL && Date.parse(String(l.time)) < restoredAt)
        .map((l) => /resourceVersion=(\d+)/.exec(String(l.err))?.[1]),
    );
    const relist = scalerRequests.findIndex((e) => e.verb === 'list' && Date.parse(e.requestReceivedTimestamp) >= restoredAt);
    expect(relist).toBeGreaterThan(0);
    const resumed = scalerRequests[relist - 1]!;
    expect(resumed).toMatchObject({ verb: 'watch', responseStatus: { code: 200 } });
    expect([...retriedWhileCut]).toContain(rvOf(resumed));
    expect(await firstWatchEvent(`/apis/${GROUP}/${VERSION}/${PLURAL}`, rvOf(resumed)!)).toMatchObject({ type: 'ERROR', code: 410 });

    // Each decision taken exactly once: one scale write per change, nothing doubled.
    expect(await scalers.target('early')).toEqual({ replicas: 6, generation: 3 });
    expect(await scalers.target('missed')).toEqual({ replicas: 4, generation: 2 });
    expect(await scalers.target('after-restart')).toEqual({ replicas: 3, generation: 2 });
    expect((await scaleWrites('early')).map((e) => e.responseStatus?.code)).toEqual([200, 200]);
    expect((await scaleWrites('missed')).map((e) => e.responseStatus?.code)).toEqual([200]);
    expect((await scalers.events('early')).filter((e) => e.reason === 'ScaledUp').map((e) => e.note?.split(':')[0])).toEqual([
      'Deployment early 2 -> 5',
      'Deployment early 5 -> 6',
    ]);
    expect((await scalers.events('missed')).filter((e) => e.reason === 'ScaledUp')).toHaveLength(1);
    expect(await scaleActions('early')).toEqual(['prescale_scale_actions_total{namespace="shop",scaler="early",direction="up"} 2']);

    const early = await scalers.get('early');
    expect(early.status?.observedGeneration).toBe(early.metadata.generation);
    expect(early.status?.desiredReplicas).toBe(6);
  }, 120_000);

  it('holds replicas while Prometheus is down, acts on a spec change made meanwhile once it is back, and only once', async () => {
    await scalers.create(steadyScaler('blind', 5));
    await eventually('blind scaled to 5', () => scalers.target('blind'), (t) => t.replicas === 5);

    await prom.stop();
    try {
      await eventually('Degraded', () => scalers.get('blind'), (s) => condition(s, 'Degraded')?.status === 'True', 30_000);
      // A spec change while blind is observed and reported, but no replica count is guessed.
      await scalers.patch('blind', { spec: { maxReplicas: 7 } });
      const s = await eventually('spec change observed', () => scalers.get('blind'), (x) => x.status?.observedGeneration === 2);
      expect(condition(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'PrometheusUnavailable' });
      expect(s.status?.currentReplicas).toBe(5);
      await sleep(2 * INTERVAL_MS);
      expect(await scalers.target('blind')).toEqual({ replicas: 5, generation: 2 });
    } finally {
      await prom.start();
    }

    await eventually('recovered', () => scalers.get('blind'), (s) => condition(s, 'Degraded')?.status === 'False', 30_000);
    await eventually('blind scaled to 7', () => scalers.target('blind'), (t) => t.replicas === 7);
    await sleep(2 * INTERVAL_MS);
    expect(await scalers.target('blind')).toEqual({ replicas: 7, generation: 3 });
    const events = await scalers.events('blind');
    expect(events.filter((e) => e.reason === 'ScaledUp').map((e) => e.note?.split(':')[0])).toEqual(['Deployment blind 2 -> 5', 'Deployment blind 5 -> 7']);
    expect(events.filter((e) => e.reason === 'ScaledDown')).toEqual([]);
    // The outage is reported once, not once per reconcile.
    expect(events.filter((e) => e.reason === 'PrometheusUnavailable').map((e) => e.note?.split(':')[0]).sort()).toEqual(['Degraded', 'ForecastAvailable']);
    expect(await scaleActions('blind')).toEqual(['prescale_scale_actions_total{namespace="shop",scaler="blind",direction="up"} 2']);
  }, 120_000);

  it('converges its status and scales once per decision while another writer keeps causing 409 Conflicts', async () => {
    let writing = true;
    let writes = 0;
    // Bumps the resourceVersion every few milliseconds: labels on the object, and a status field the
    // operator owns, which it must put right again.
    const writer = (async () => {
      while (writing) {
        try {
          if (writes % 2 === 0) await scalers.patch('contended', { metadata: { labels: { tick: String(writes) } } });
          else await scalers.patchStatus('contended', { status: { currentReplicas: 999 } });
          writes++;
        } catch {
          await sleep(20); // not created yet
        }
      }
    })();
    const startedAt = Date.now();
    try {
      await scalers.create(steadyScaler('contended', 5));
      await eventually('contended scaled to 5', () => scalers.target('contended'), (t) => t.replicas === 5);
      await scalers.patch('contended', { spec: { maxReplicas: 6 } });
      await eventually('contended scaled to 6', () => scalers.target('contended'), (t) => t.replicas === 6);
      await sleep(2 * INTERVAL_MS);
    } finally {
      writing = false;
      await writer;
    }
    expect(writes).toBeGreaterThan(50);

    const s = await eventually('status converged', () => scalers.get('contended'), (x) => x.status?.currentReplicas === 6, 15_000);
    expect(s.status?.observedGeneration).toBe(s.metadata.generation);
    expect(s.metadata.generation).toBe(2);
    expect(s.status?.desiredReplicas).toBe(6);
    expect(condition(s, 'Ready')).toMatchObject({ status: 'True' });
    expect(condition(s, 'AbleToScale')).toMatchObject({ status: 'True' });
    expect(await scalers.target('contended')).toEqual({ replicas: 6, generation: 3 });
    expect((await scalers.events('contended')).filter((e) => e.reason === 'ScaledUp')).toHaveLength(2);

    // The operator's status updates did conflict, and it retried them to success.
    const updates = await operatorRequests(
      (e) => e.objectRef?.resource === PLURAL && e.objectRef.subresource === 'status' && e.objectRef.name === 'contended' && Date.parse(e.requestReceivedTimestamp) >= startedAt,
    );
    const codes = updates.map((e) => e.responseStatus?.code);
    expect(codes).toContain(409);
    expect(codes.at(-1)).toBe(200);
  }, 120_000);
});
