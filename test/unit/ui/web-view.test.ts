// The web view's data endpoints against a running Reconciler (fake clock, fake Kubernetes and
// Prometheus edges, real decision, models and history cache) and the hardening of its HTTP server.
import { request } from 'node:http';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PredictiveScaler } from '../../../src/api/types.js';
import { HistoryCache, type RangeSource } from '../../../src/controller/history-cache.js';
import { ModelManager } from '../../../src/controller/models.js';
import { Reconciler } from '../../../src/controller/reconciler.js';
import type { Series } from '../../../src/forecast/types.js';
import type { ScaleClient } from '../../../src/kube/scale.js';
import { createOperatorMetrics } from '../../../src/observability/metrics.js';
import type { ScalerDetail, ScalerList } from '../../../src/ui/api.js';
import { readyPodCounter } from '../../../src/ui/ready-pods.js';
import { TimelineRecorder } from '../../../src/ui/recorder.js';
import { startWebView, type WebViewServer } from '../../../src/ui/server.js';
import { Timeline } from '../../../src/ui/timeline.js';
import { rawExchange } from '../../helpers/raw-http.js';

const T0 = Date.UTC(2026, 2, 2, 12);
const MIN = 60_000;
const NS = 'shop';

function scaler(name: string): PredictiveScaler {
  return {
    apiVersion: 'autoscaling.prescale.dev/v1alpha1',
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NS, uid: `uid-${name}`, generation: 1 },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 20,
      interval: '30s',
      metrics: [{ name: 'rps', query: 'sum(rate(requests_total[1m]))', targetPerReplica: '50' }],
      forecast: { model: 'Linear', history: '2h', step: '1m', horizon: '30m', quantile: 0.9 },
      scaling: { leadTime: '2m', headroom: '10%', scaleUp: { maxReplicasPerMinute: 100 } },
    },
  };
}

/** Demand of 400 until `rampAt`, 900 after: the fake Prometheus' only series. */
class FakePrometheus implements RangeSource {
  rampAt = Infinity;
  async queryRangeSeries(_query: string, startMs: number, endMs: number, stepMs: number): Promise<Series> {
    const values: number[] = [];
    for (let t = startMs; t <= endMs; t += stepMs) values.push(t >= this.rampAt ? 900 : 400);
    return { start: startMs, stepMs, values };
  }
}

/** Deployments' spec.replicas in memory, with their pod selector. */
class FakeScale implements ScaleClient {
  readonly replicas = new Map<string, number>();
  async getScale(_namespace: string, ref: { name: string }) {
    const replicas = this.replicas.get(ref.name) ?? 2;
    return { replicas, statusReplicas: replicas, selector: `app=${ref.name}` };
  }
  async setReplicas(_namespace: string, ref: { name: string }, replicas: number): Promise<void> {
    this.replicas.set(ref.name, replicas);
  }
}

function readyPod(app: string, i: number, ready: boolean, terminating = false) {
  return {
    metadata: { name: `${app}-${i}`, namespace: NS, labels: { app }, ...(terminating ? { deletionTimestamp: new Date(T0) } : {}) },
    status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('the web view against a running reconciler', () => {
  let clock: number;
  let scalers: Map<string, PredictiveScaler>;
  let prometheus: FakePrometheus;
  let reconciler: Reconciler;
  let timeline: Timeline;
  let view: WebViewServer;
  let base: string;
  const pods = [readyPod('web', 0, true), readyPod('web', 1, true), readyPod('web', 2, false), readyPod('web', 3, true, true), readyPod('other', 0, true)];

  beforeEach(async () => {
    clock = T0;
    scalers = new Map([['web', scaler('web')], ['api', scaler('api')]]);
    prometheus = new FakePrometheus();
    timeline = new Timeline();
    const logger = pino({ level: 'silent' });
    reconciler = new Reconciler({
      getScaler: (_ns, name) => scalers.get(name),
      scale: new FakeScale(),
      status: {
        update: async (s, compute) => {
          const status = compute(s);
          if (status) scalers.set(s.metadata.name, { ...s, status });
          return status !== undefined;
        },
      },
      events: { record: async () => {} },
      autoscalers: { autoscalersOf: () => [] },
      prometheus: { clientFor: async () => prometheus },
      models: new ModelManager({ now: () => clock }),
      history: new HistoryCache(),
      metrics: createOperatorMetrics(new Registry()),
      observer: new TimelineRecorder(timeline, readyPodCounter({ list: (ns) => pods.filter((p) => p.metadata.namespace === ns) as never })),
      logger,
      now: () => clock,
    });
    view = (await startWebView({
      address: '127.0.0.1:0',
      timeline,
      listScalers: () => [...scalers.values()],
      getScaler: (_ns, name) => scalers.get(name),
      logger,
      limits: { liveThrottleMs: 20, maxLiveClients: 1 },
    }))!;
    base = `http://127.0.0.1:${view.address!.port}`;
  });

  afterEach(async () => {
    await view.close();
  });

  async function reconcileAll(): Promise<void> {
    for (const name of [...scalers.keys()]) await reconciler.reconcile(`${NS}/${name}`);
  }

  async function getJson<T>(path: string): Promise<T> {
    const response = await fetch(`${base}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    return (await response.json()) as T;
  }

  it('lists every scaler with its replicas, Ready pods, model, lead time and conditions', async () => {
    await reconcileAll();
    const list = await getJson<ScalerList>('/api/scalers');
    expect(list.scalers.map((s) => `${s.namespace}/${s.name}`)).toEqual(['shop/api', 'shop/web']);
    const web = list.scalers.find((s) => s.name === 'web')!;
    // 400 rps at 50 per replica with 10% headroom: 9 replicas.
    expect(web).toMatchObject({ target: 'Deployment/web', mode: 'Auto', currentReplicas: 9, desiredReplicas: 9, model: 'Linear', leadTime: '2m', leadTimeSource: 'Fixed', lastReconciledAt: T0 });
    // Two Ready pods of app=web: one not Ready, one terminating and another app's not counted.
    expect(web.readyReplicas).toBe(2);
    expect(web.conditions.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Reconciled' });
    expect(list.scalers.find((s) => s.name === 'api')!.readyReplicas).toBe(0);
  });

  it('serves the charts of one scaler: demand with its forecast band, replicas over time, scale events, models', async () => {
    for (let i = 0; i < 10; i++) {
      if (i === 5) prometheus.rampAt = clock - 5 * MIN;
      await reconcileAll();
      clock += 30_000;
    }
    const detail = await getJson<ScalerDetail>('/api/scalers/shop/web');
    const [demand] = detail.demand;
    expect(demand!.metric).toBe('rps');
    const observed = demand!.observed.filter((v): v is number => v !== null);
    const planning = demand!.planning.filter((v): v is number => v !== null);
    expect(observed.length).toBeGreaterThan(60);
    expect(Math.max(...observed)).toBe(900);
    expect(planning.length).toBeGreaterThan(0);
    const upper = demand!.upper.filter((v): v is number => v !== null);
    const lower = demand!.lower.filter((v): v is number => v !== null);
    expect(upper.length).toBe(planning.length);
    expect(Math.min(...upper)).toBeGreaterThanOrEqual(Math.min(...lower));
    // The forecast follows the history on the same time axis.
    const times = demand!.times;
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const lastObserved = Math.max(...times.filter((_, i) => demand!.observed[i] !== null));
    expect(times[demand!.planning.findIndex((v) => v !== null)]!).toBeGreaterThan(lastObserved);

    // Runs of equal counts are kept as their ends: the first and the last reconcile are both there.
    expect(detail.replicas.times[0]).toBe(T0);
    expect(detail.replicas.times.at(-1)).toBe(T0 + 9 * 30_000);
    expect(detail.replicas.replicas[0]).toBe(9);
    // The ramp to 900 rps asks for more than the 9 replicas of 400 rps.
    expect(detail.replicas.replicas.at(-1)).toBeGreaterThan(9);
    expect(detail.replicas.ready.every((r) => r === 2)).toBe(true);
    const events = detail.events.map((e) => [e.from, e.to]);
    expect(events[0]).toEqual([2, 9]);
    expect(events.at(-1)![1]).toBe(detail.replicas.replicas.at(-1));
    expect(detail.events.at(-1)!.explanation).toMatch(/rps/);
    expect(detail.models).toEqual([expect.objectContaining({ name: 'Linear' })]);
  });

  it('forgets a deleted scaler: its charts go and its row leaves the list', async () => {
    await reconcileAll();
    scalers.delete('api');
    await reconciler.reconcile(`${NS}/api`);
    expect(timeline.get(`${NS}/api`)).toBeUndefined();
    const list = await getJson<ScalerList>('/api/scalers');
    expect(list.scalers.map((s) => s.name)).toEqual(['web']);
    expect((await fetch(`${base}/api/scalers/shop/api`)).status).toBe(404);
  });

  it('sends a throttled live update naming the reconciled scalers', async () => {
    const events: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const req = request(`${base}/api/events`, (res) => {
        expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          events.push(chunk);
          if (events.join('').includes('event: reconciled')) {
            req.destroy();
            resolve();
          }
        });
        // Streaming: reconcile once the stream is open.
        void reconcileAll();
      });
      req.on('error', (err) => (events.join('').includes('event: reconciled') ? resolve() : reject(err)));
      req.end();
    });
    await done;
    const text = events.join('');
    const update = JSON.parse(/event: reconciled\ndata: (.*)\n/.exec(text)![1]!) as { keys: string[] };
    // Both reconciles fell within one throttle period: one update names both.
    expect(update.keys.sort()).toEqual(['shop/api', 'shop/web']);
  });

  it('refuses a second live client beyond the cap with 503', async () => {
    const first = await new Promise<import('node:http').IncomingMessage>((resolve) => request(`${base}/api/events`, resolve).end());
    const second = await fetch(`${base}/api/events`);
    expect(second.status).toBe(503);
    expect(await second.text()).toMatch(/at most 1 pages/);
    first.destroy();
  });

  it('serves the page and its assets with their types and a CSP that admits only its own origin', async () => {
    const page = await fetch(`${base}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    for (const asset of ['assets/uplot.min.js', 'assets/uplot.min.css', 'assets/app.js', 'assets/app.css']) expect(html).toContain(asset);
    expect((await fetch(`${base}/assets/uplot.min.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${base}/assets/uplot.min.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await (await fetch(`${base}/assets/uplot.min.js`)).text()).toMatch(/uPlot/);
  });

  it.each([
    ['POST', '/api/scalers', 405],
    ['PUT', '/', 405],
    ['DELETE', '/api/scalers/shop/web', 405],
    ['GET', '/api/scalers/shop', 400],
    ['GET', '/api/scalers/shop/web/extra', 400],
    ['GET', '/api/scalers/Shop/web', 400],
    ['GET', '/api/scalers/shop/%2e%2e', 400],
    ['GET', '/api/scalers/shop/nope', 404],
    ['GET', '/assets/../package.json', 404],
    ['GET', '/nothing-here', 404],
  ])('%s %s -> %i', async (method, path, status) => {
    const response = await fetch(`${base}${path}`, { method });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
  });

  it.each([
    ['rebound.attacker.example', 403],
    ['rebound.attacker.example:8082', 403],
    ['127.0.0.1:8082', 200],
    ['[::1]:8082', 200],
    ['localhost:8082', 200],
    ['prescale.prescale-system.svc:8082', 200],
    ['prescale.prescale-system.svc.cluster.local', 200],
  ])('answers Host %s with %i (no DNS rebinding)', async (host, status) => {
    const exchange = await rawExchange(view.address!.port, { chunks: [`GET /api/scalers HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`], waitMs: 2000 });
    expect(exchange.statuses).toEqual([status]);
  });

  it('answers a request target that is not a path with 400, as the metrics server does', async () => {
    const exchange = await rawExchange(view.address!.port, { chunks: ['GET http://evil.example/ HTTP/1.1\r\nHost: x\r\n\r\n'], waitMs: 2000 });
    expect(exchange.statuses).toEqual([400]);
  });
});
