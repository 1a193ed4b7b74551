// The informer's synced flag (client-go's HasSynced): true only after a list really succeeded, kept
// through later outages; and its backoff grows while re-lists keep failing. The list is injected
// (fault injection); the watch goes to a loopback HTTP server whose answers each test scripts.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiException, KubeConfig, type KubernetesListObject, type V1ConfigMap } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResilientInformer } from '../../../src/kube/informer.js';
import { createLogger } from '../../../src/observability/logger.js';

interface Timer {
  fn: () => void;
  ms: number;
  cleared: boolean;
}

let server: Server;
let kc: KubeConfig;
/** How the next watch request is answered: a held-open 200 stream, or an error status. */
let watchAnswer: 'stream' | 500 = 'stream';
const openWatches = new Set<ServerResponse>();
let logLines: Array<Record<string, unknown>>;

beforeEach(async () => {
  watchAnswer = 'stream';
  server = createServer((req, res) => {
    if (!req.url?.includes('watch=true')) {
      res.writeHead(404).end();
      return;
    }
    if (watchAnswer !== 'stream') {
      res.writeHead(watchAnswer).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    openWatches.add(res);
    res.on('close', () => openWatches.delete(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'loopback', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'c', cluster: 'loopback', user: 'u' }],
    currentContext: 'c',
  });
  logLines = [];
});

afterEach(async () => {
  for (const res of openWatches) res.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const configMap = (name: string): V1ConfigMap => ({ metadata: { name, namespace: 'shop', resourceVersion: '7' } });
const listOf = (items: V1ConfigMap[]): KubernetesListObject<V1ConfigMap> => ({ apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '7' }, items });
const forbidden = () =>
  new ApiException(403, 'HTTP-Code: 403\nMessage: Forbidden\nBody: ...', JSON.stringify({ kind: 'Status', message: 'configmaps is forbidden: User "system:serviceaccount:x:y" cannot list resource "configmaps"' }), {});

/** An informer whose list answers from `answers` in turn (the last one repeats), on manual timers. */
function informerWith(answers: Array<() => Promise<KubernetesListObject<V1ConfigMap>>>) {
  const timers: Timer[] = [];
  let call = 0;
  const informer = new ResilientInformer<V1ConfigMap>({
    kc,
    path: '/api/v1/configmaps',
    what: 'configmaps',
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void logLines.push(JSON.parse(line)) } }),
    list: () => answers[Math.min(call++, answers.length - 1)]!(),
    setTimer: (fn, ms) => {
      const timer = { fn, ms, cleared: false };
      timers.push(timer);
      return timer;
    },
    clearTimer: (handle) => void ((handle as Timer).cleared = true),
  });
  return { informer, timers, lists: () => call };
}

/** Fires the newest pending retry timer (not waitForSync deadlines) and waits until the attempt settles. */
async function fireRetry(timers: Timer[], settled: () => boolean): Promise<void> {
  const retry = timers.filter((t) => !t.cleared && t.ms < 60_000).pop();
  expect(retry).toBeDefined();
  retry!.cleared = true;
  retry!.fn();
  for (let i = 0; i < 200 && !settled(); i++) await new Promise((r) => setTimeout(r, 10));
}

describe('ResilientInformer synced flag', () => {
  it('is false after a failed first list, says why, and turns true once a retried list succeeds', async () => {
    const { informer, timers } = informerWith([() => Promise.reject(forbidden()), () => Promise.resolve(listOf([configMap('a')]))]);
    await informer.start();
    expect(informer.hasSynced()).toBe(false);
    expect(informer.lastFailure()).toEqual({ status: 403, message: expect.stringContaining('cannot list resource "configmaps"') });
    expect(logLines.filter((l) => l.msg === 'watch failed; restarting')).toEqual([expect.objectContaining({ informer: 'configmaps', status: 403 })]);

    const waiting = informer.waitForSync(600_000);
    await fireRetry(timers, () => informer.hasSynced());
    expect(await waiting).toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.lastFailure()).toBeUndefined();
    expect(informer.cache.get('a', 'shop')?.metadata?.name).toBe('a');
    expect(timers.find((t) => t.ms === 600_000)?.cleared).toBe(true);
    await informer.stop();
  });

  it('waitForSync resolves false at its deadline while the list keeps failing, and on stop', async () => {
    const { informer, timers } = informerWith([() => Promise.reject(forbidden())]);
    await informer.start();
    const first = informer.waitForSync(600_000);
    timers.find((t) => t.ms === 600_000)!.fn();
    expect(await first).toBe(false);
    const second = informer.waitForSync(600_000);
    await informer.stop();
    expect(await second).toBe(false);
    expect(informer.hasSynced()).toBe(false);
  });

  it('backs off longer with each failed re-list instead of retrying at the shortest delay forever', async () => {
    const { informer, timers, lists } = informerWith([() => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:1'))]);
    await informer.start();
    for (let n = 2; n <= 4; n++) await fireRetry(timers, () => lists() >= n && timers.filter((t) => !t.cleared).length > 0);
    expect(timers.map((t) => t.ms)).toEqual([500, 1000, 2000, 4000]);
    expect(logLines.some((l) => l.msg === 'watch re-established')).toBe(false);
    expect(informer.hasSynced()).toBe(false);
    await informer.stop();
  });

  it('stays synced through a later watch failure, as client-go HasSynced does', async () => {
    const { informer, timers } = informerWith([() => Promise.resolve(listOf([configMap('a')]))]);
    await informer.start();
    expect(informer.hasSynced()).toBe(true);
    // The stream ends; the informer watches again and the server now refuses with 500.
    watchAnswer = 500;
    for (const res of openWatches) res.end();
    for (let i = 0; i < 200 && !informer.lastFailure(); i++) await new Promise((r) => setTimeout(r, 10));
    expect(informer.lastFailure()?.status).toBe(500);
    expect(informer.hasSynced()).toBe(true);
    expect(await informer.waitForSync(600_000)).toBe(true);
    // Recovery: the retry watches again (no re-list needed) and logs that the watch is back.
    watchAnswer = 'stream';
    await fireRetry(timers, () => informer.lastFailure() === undefined);
    expect(logLines.some((l) => l.msg === 'watch re-established')).toBe(true);
    await informer.stop();
  });
});
