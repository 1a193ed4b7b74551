// The web view of a live operator (real kube-apiserver, Debian's Prometheus with backfilled history,
// the operator in-process with the deploy/ ServiceAccount's token) opened in headless Chromium: every
// chart gets data, the page makes no request to any other origin and logs no error, and the server
// refuses every method that could change something. Leaves .tmp/ui-browser.png behind.
import { mkdir } from 'node:fs/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { startOperator, type RunningOperator } from '../../src/operator/operator.js';
import type { ScalerDetail } from '../../src/ui/api.js';
import { mintServiceAccountToken, startControlPlane, type ControlPlane } from '../helpers/envtest.js';
import { launchChromium, watchPage } from '../helpers/browser.js';
import { eventually } from '../helpers/eventually.js';
import { MIN, minutePoints, withNoise } from '../helpers/history.js';
import { applyKustomization, applyManifests } from '../helpers/manifests.js';
import { startPrometheus, type PrometheusHandle } from '../helpers/prometheus.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';

// docs/images/web-view.png is the demo's (test/e2e/demo.test.ts); this one is for looking at after a failure.
const SCREENSHOT = new URL('../../.tmp/ui-browser.png', import.meta.url);
const NS = 'shop';
const HOUR = 60 * MIN;

/** An hourly wave between 200 and 600 requests per second. */
const wave = withNoise((t) => 400 + 200 * Math.sin((2 * Math.PI * t) / HOUR), 15);

let cp: ControlPlane;
let prom: PrometheusHandle;
let operator: RunningOperator;
let admin: KubeConfig;
let browser: Browser;
let base: string;

function deployment(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } } },
  };
}

function scaler(name: string, query: string, model: string, perReplica: number) {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'PredictiveScaler',
    metadata: { name, namespace: NS },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
      minReplicas: 2,
      maxReplicas: 40,
      interval: '5s',
      metrics: [{ name: 'rps', query, targetPerReplica: String(perReplica) }],
      forecast: { model, history: '6h', step: '1m', horizon: '1h', seasonality: ['1h'], quantile: 0.9 },
      scaling: { leadTime: '3m', headroom: '10%', scaleUp: { maxReplicasPerMinute: 100 } },
    },
  };
}

/** Pods of app=web marked Ready by hand: there is no kubelet, and the web view counts Ready pods. */
async function readyPods(count: number): Promise<void> {
  const core = admin.makeApiClient(CoreV1Api);
  for (let i = 0; i < count; i++) {
    const name = `web-pod-${i}`;
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name, labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1' }] } } });
    const pod = await core.readNamespacedPodStatus({ name, namespace: NS });
    const now = new Date();
    pod.status = { ...pod.status, phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
    await core.replaceNamespacedPodStatus({ name, namespace: NS, body: pod });
  }
}

beforeAll(async () => {
  const now = Date.now();
  [cp, prom] = await Promise.all([
    startControlPlane(),
    startPrometheus({
      series: [
        { name: 'demand', labels: { app: 'web' }, points: minutePoints(now - 6 * HOUR, now + 30 * MIN, wave) },
        { name: 'demand', labels: { app: 'model-server' }, points: minutePoints(now - 6 * HOUR, now + 30 * MIN, (t) => wave(t + 20 * MIN) / 4) },
      ],
    }),
  ]);
  admin = cp.kubeConfig;
  await applyManifests(admin, 'crds');
  await applyKustomization(admin, 'deploy');
  await applyManifests(admin, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }]);
  await applyManifests(admin, [deployment('web'), deployment('model-server')]);
  await readyPods(3);
  const token = await mintServiceAccountToken(admin, 'prescale-system', 'prescale');
  operator = await startOperator({
    kubeConfig: cp.tokenKubeConfig(token),
    logger: createLogger({ level: 'warn' }),
    prometheusUrl: prom.url,
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    uiBindAddress: '127.0.0.1:0',
    leaderElect: false,
    leaderElectionNamespace: 'prescale-system',
    leaderElectionId: 'prescale-operator',
    concurrency: 2,
    trainingWorkers: 1,
    trainingTimeoutMs: 120_000,
    trainingWorkerScript: TRAINING_WORKER_SCRIPT,
    version: 'test',
  });
  base = `http://127.0.0.1:${operator.webView.address!.port}`;
  const custom = admin.makeApiClient(CustomObjectsApi);
  for (const body of [scaler('web', 'sum(demand{app="web"})', 'HoltWinters', 40), scaler('model-server', 'sum(demand{app="model-server"})', 'Ensemble', 20)]) {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace: NS, body });
  }
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await operator?.stop();
  await Promise.all([cp?.close(), prom?.close()]);
});

describe('the web view in a browser', () => {
  it('shows every scaler with live charts from the operator, with no error and no other origin', async () => {
    // The forecast needs the trained model, not the pretrained one that serves until its first
    // training ends (the one training worker may be busy with the other scaler's Ensemble).
    await eventually(
      'a HoltWinters forecast and a scale event for web',
      async () => (await fetch(`${base}/api/scalers/shop/web`).then((r) => r.json())) as ScalerDetail,
      (d) => d.summary.model === 'HoltWinters' && d.demand[0]?.planning.some((v) => v !== null) === true && d.events.length > 0 && d.models.length > 0,
      120_000,
    );
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const { problems, elsewhere } = watchPage(page, base);
    await page.goto(`${base}/#shop/web`, { waitUntil: 'load' });

    await expect.poll(() => page.locator('#scalers tbody tr').count(), { timeout: 30_000 }).toBe(2);
    const web = page.locator('#scalers tbody tr[data-key="shop/web"]');
    await expect.poll(() => web.textContent()).toMatch(/Deployment\/web.*HoltWinters.*3m \(Fixed\).*Ready: Reconciled/);
    // Ready replicas: the three pods marked Ready.
    await expect.poll(() => web.locator('td').nth(3).textContent()).toMatch(/ \/ 3$/);

    const charts = page.locator('[data-chart]');
    await expect.poll(() => charts.count(), { timeout: 30_000 }).toBe(2);
    await expect
      .poll(() => charts.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-points')))), { timeout: 30_000 })
      .toEqual([expect.any(Number), expect.any(Number)]);
    for (const points of await charts.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-points'))))) expect(points).toBeGreaterThan(0);
    // uPlot drew on a canvas of the chart's size.
    for (const box of await page.locator('[data-chart] canvas').evaluateAll((nodes) => nodes.map((n) => n.getBoundingClientRect()))) {
      expect(box.width).toBeGreaterThan(300);
      expect(box.height).toBeGreaterThan(100);
    }
    await expect.poll(() => page.locator('#events tbody tr').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#models tbody tr').count()).toBeGreaterThan(0);
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');

    // Live: the next reconcile reaches the page without a reload.
    const before = await page.locator('#detail').getAttribute('data-reconciled-at');
    await expect.poll(() => page.locator('#detail').getAttribute('data-reconciled-at'), { timeout: 30_000 }).not.toBe(before);

    // The other scaler: its own charts, with the Ensemble's members and their weights.
    await page.locator('#scalers tbody tr[data-key="shop/model-server"]').click();
    await expect.poll(() => page.locator('#detail-heading').textContent()).toMatch(/shop\/model-server/);
    await expect.poll(() => page.locator('[data-chart^="demand:"]').getAttribute('data-points'), { timeout: 60_000 }).not.toBe('0');
    await page.locator('#scalers tbody tr[data-key="shop/web"]').click();
    await expect.poll(() => page.locator('[data-chart^="demand:"]').getAttribute('data-points'), { timeout: 30_000 }).not.toBe('0');

    await mkdir(new URL('.', SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
  });

  it('is read-only: every method but GET and HEAD is refused', async () => {
    for (const path of ['/', '/api/scalers', '/api/scalers/shop/web', '/api/events', '/assets/app.js']) {
      for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
        const response = await fetch(`${base}${path}`, { method, body: method === 'DELETE' ? undefined : '{}' });
        expect([path, method, response.status]).toEqual([path, method, 405]);
        expect(response.headers.get('allow')).toBe('GET, HEAD');
      }
    }
    const head = await fetch(`${base}/api/scalers`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });
});
