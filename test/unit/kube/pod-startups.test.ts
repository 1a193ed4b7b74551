import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { PodStartupRecorder, startupOf } from '../../../src/kube/pod-startups.js';
import { SelectorError } from '../../../src/kube/selector.js';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const S = 1000;

interface PodOptions {
  uid?: string;
  namespace?: string;
  labels?: Record<string, string>;
  createdAt?: number;
  /** undefined: no Ready condition yet */
  ready?: { status: 'True' | 'False'; at: number };
  restarts?: number;
  /** Watch events carry timestamps as strings, typed list results as Dates. */
  asStrings?: boolean;
}

function pod(o: PodOptions = {}): V1Pod {
  const time = (ms: number) => (o.asStrings ? new Date(ms).toISOString() : new Date(ms));
  return {
    metadata: {
      uid: o.uid ?? 'uid-1',
      name: o.uid ?? 'web-1',
      namespace: o.namespace ?? 'shop',
      labels: o.labels ?? { app: 'web' },
      creationTimestamp: time(o.createdAt ?? T0) as Date,
    },
    status: {
      conditions: o.ready ? [{ type: 'Ready', status: o.ready.status, lastTransitionTime: time(o.ready.at) as Date }] : [],
      containerStatuses: [{ name: 'web', image: 'web:1', imageID: '', ready: o.ready?.status === 'True', restartCount: o.restarts ?? 0 }],
    },
  };
}

const ready = (uid: string, seconds: number, extra: PodOptions = {}) => pod({ uid, ready: { status: 'True', at: (extra.createdAt ?? T0) + seconds * S }, ...extra });

describe('startupOf', () => {
  it.each<[string, V1Pod, number | undefined]>([
    ['a Ready pod', ready('a', 42), 42 * S],
    ['a Ready pod from a watch event', ready('a', 42, { asStrings: true }), 42 * S],
    ['a pod not Ready yet', pod({ ready: { status: 'False', at: T0 + S } }), undefined],
    ['a pod without a Ready condition', pod(), undefined],
    ['a Ready time before the creation time (clock skew)', ready('a', -3), undefined],
  ])('%s', (_what, p, expected) => {
    expect(startupOf(p)?.durationMs).toBe(expected);
  });
});

describe('PodStartupRecorder', () => {
  it('returns the start-ups of the pods matching the selector, most recently Ready first', () => {
    const r = new PodStartupRecorder();
    // Listed in no particular order.
    r.observe(ready('b', 50, { createdAt: T0 + 100 * S }));
    r.observe(ready('a', 40));
    r.observe(ready('c', 60, { createdAt: T0 + 200 * S }));
    r.observe(ready('other', 5, { labels: { app: 'api' } }));
    r.observe(ready('elsewhere', 7, { namespace: 'bank' }));
    expect(r.startupsFor('shop', 'app=web')).toEqual([60 * S, 50 * S, 40 * S]);
    expect(r.startupsFor('shop', 'app in (web,api)')).toEqual([60 * S, 50 * S, 40 * S, 5 * S]);
    expect(r.startupsFor('bank', 'app=web')).toEqual([7 * S]);
    expect(r.startupsFor('empty', 'app=web')).toEqual([]);
  });

  it('records a pod only the first time it becomes Ready', () => {
    const r = new PodStartupRecorder();
    r.observe(pod({ uid: 'a', ready: { status: 'False', at: T0 + S } }));
    r.observe(ready('a', 30));
    r.observe(pod({ uid: 'a', ready: { status: 'False', at: T0 + 500 * S } }));
    r.observe(ready('a', 600, { restarts: 1 }));
    expect(r.startupsFor('shop', 'app=web')).toEqual([30 * S]);
  });

  it('counts a pod that restarted before its first Ready when it was watched while starting', () => {
    const r = new PodStartupRecorder();
    r.observe(pod({ uid: 'a' }));
    r.observe(ready('a', 90, { restarts: 2 }));
    expect(r.startupsFor('shop', 'app=web')).toEqual([90 * S]);
  });

  it('skips a pod first seen Ready after a container restart: its Ready time is the restart', () => {
    const r = new PodStartupRecorder();
    r.observe(ready('a', 3600, { restarts: 1 }));
    r.observe(ready('b', 40));
    expect(r.startupsFor('shop', 'app=web')).toEqual([40 * S]);
  });

  it('keeps a start-up after the pod is deleted', () => {
    const r = new PodStartupRecorder();
    const a = ready('a', 40);
    r.observe(a);
    r.forget(a);
    expect(r.startupsFor('shop', 'app=web')).toEqual([40 * S]);
  });

  it('keeps only the newest start-ups of each namespace', () => {
    const r = new PodStartupRecorder(3);
    for (let i = 0; i < 5; i++) r.observe(ready(`p${i}`, 10 + i, { createdAt: T0 + i * 100 * S }));
    // An old pod listed late is older than everything kept.
    r.observe(ready('old', 99, { createdAt: T0 - 1000 * S }));
    r.observe(ready('elsewhere', 1, { namespace: 'bank' }));
    expect(r.startupsFor('shop', 'app=web')).toEqual([14 * S, 13 * S, 12 * S]);
    expect(r.startupsFor('bank', 'app=web')).toEqual([1 * S]);
  });

  it('refuses a selector it cannot read', () => {
    expect(() => new PodStartupRecorder().startupsFor('shop', 'app in (web')).toThrow(SelectorError);
  });
});
