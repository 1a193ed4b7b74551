// End to end, as a newcomer runs it: `prescale demo` as a process. It builds its world on loopback
// (KWOK cluster, Prometheus replaying the bundled NYC-taxi trace, the examples, the operator as
// deploy/'s ServiceAccount); the model server, whose pods take 2-2.5 minutes to become Ready, must
// have Ready capacity for the trace's morning ramp as it arrives, which a reactive HPA with the same
// start-up does not; the web view shows it all in Chromium; Ctrl-C leaves nothing behind.
//
// The trace plays 8x faster than real time (--speed 8), so that 40 minutes of the ramp pass within
// the test's 5 minutes after it; pods keep their real start-up time, which makes the ramp steeper
// for the scaler than in real time, not easier.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppsV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, PLURAL, VERSION, type PredictiveScaler } from '../../src/api/types.js';
import { parseDuration } from '../../src/api/units.js';
import { isPortFree } from '../../src/demo/ports.js';
import { readState, type DemoState } from '../../src/demo/state-file.js';
import { HpaController } from '../../src/simulate/hpa.js';
import { runSimulation } from '../../src/simulate/engine.js';
import { launchChromium, watchPage } from '../helpers/browser.js';
import { commandLine, descendants, isRunning, listeningPorts } from '../helpers/process-tree.js';

const CLI = resolve('dist', 'cli', 'main.js');
const SCREENSHOT = resolve('docs', 'images', 'web-view.png');
const SPEED = 8;
const RAMP_IN = '4m';
const AFTER_RAMP_MS = 5 * 60_000;
/** The model server's pods in the demo: Ready 120-150 s after they start. */
const MODEL_SERVER_MIN_STARTUP_MS = 120_000;
const MODEL_SERVER_MAX_STARTUP_MS = 150_000;

interface Sample {
  at: number;
  replicas: number;
  ready: number;
}

let stateDir: string;
let demo: ChildProcess;
/** Everything the demo has printed so far. */
let output = (): string => '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let state: DemoState;
let startedAt: number;
let readyAfterMs: number;
let kc: KubeConfig;
let browser: Browser | undefined;
const timeline: Record<string, Sample[]> = { 'ml/ranker': [], 'shop/web': [] };
let sampling: NodeJS.Timeout | undefined;

function startDemo(args: string[]): { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>; output: () => string } {
  let text = '';
  const child = spawn(process.execPath, [CLI, 'demo', '--state-dir', stateDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
  // 'close', not 'exit': by then every byte it wrote has been read.
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, exited: done, output: () => text };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}; demo output:\n${output().slice(-4000)}`);
}

async function scaler(namespace: string, name: string): Promise<PredictiveScaler> {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })) as PredictiveScaler;
}

/** The demand the scaler plans on, as Prometheus answers its own query, one value per stepS. */
async function demandSeries(query: string, fromMs: number, toMs: number, stepS = 15): Promise<{ at: number; value: number }[]> {
  const url = new URL('/api/v1/query_range', state.prometheusUrl);
  url.search = new URLSearchParams({ query, start: String(fromMs / 1000), end: String(toMs / 1000), step: String(stepS) }).toString();
  const body = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
  return (body.data.result[0]?.values ?? []).map(([t, v]) => ({ at: t * 1000, value: Number(v) }));
}

function readyAt(samples: Sample[], at: number): number {
  let ready = 0;
  for (const s of samples) if (s.at <= at) ready = s.ready;
  return ready;
}

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'prescale-demo-e2e-'));
  startedAt = Date.now();
  const started = startDemo(['--ui-port', '0', '--speed', String(SPEED), '--ramp-in', RAMP_IN]);
  demo = started.child;
  exited = started.exited;
  output = started.output;
  state = await until('the demo to be ready', async () => {
    const s = await readState(stateDir);
    return s?.phase === 'ready' ? s : undefined;
  }, 240_000);
  readyAfterMs = Date.now() - startedAt;
  kc = new KubeConfig();
  kc.loadFromFile(state.kubeconfig!);
  const apps = kc.makeApiClient(AppsV1Api);
  sampling = setInterval(() => {
    for (const key of Object.keys(timeline)) {
      const [namespace, name] = key.split('/') as [string, string];
      apps
        .readNamespacedDeployment({ name, namespace })
        .then((d) => timeline[key]!.push({ at: Date.now(), replicas: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 }))
        .catch(() => undefined);
    }
  }, 2_000);
}, 300_000);

afterAll(async () => {
  if (sampling) clearInterval(sampling);
  await browser?.close();
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGINT');
    await exited;
  }
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('prescale demo', () => {
  it('prints where everything is and is up within a minute on a warm machine', () => {
    expect(output()).toMatch(/prescale demo is up/);
    expect(output()).toContain(`web view     ${state.url}`);
    expect(output()).toContain(`export KUBECONFIG=${state.kubeconfig}`);
    expect(output()).toMatch(/demo: trace .*nyc-taxi\.csv: the ramp at 2014-07-\d\d/);
    // Building the binaries on a cold machine takes longer; CI builds them before the tests.
    expect(readyAfterMs).toBeLessThan(120_000);
    console.info(`e2e demo: ready after ${(readyAfterMs / 1000).toFixed(1)} s`);
  });

  it('refuses a second demo beside the first, naming it, and starts nothing', async () => {
    const before = Date.now();
    const second = startDemo(['--ui-port', '0']);
    const result = await second.exited;
    expect(result.code).toBe(1);
    expect(Date.now() - before).toBeLessThan(15_000);
    expect(second.output()).toContain(`another demo is running (pid ${demo.pid}`);
    expect(second.output()).toContain(state.url!);
    expect(second.output()).not.toMatch(/starting etcd/);
    // The first one is untouched.
    expect((await readState(stateDir))?.pid).toBe(demo.pid);
  });

  it('shows every scaler with live charts in the web view, with no error and no other origin', async () => {
    const base = state.url!.replace(/\/$/, '');
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const { problems, elsewhere } = watchPage(page, base);
    await page.goto(`${base}/#ml/ranker`, { waitUntil: 'load' });
    await expect.poll(() => page.locator('#scalers tbody tr').count(), { timeout: 30_000 }).toBe(2);
    for (const key of ['shop/web', 'ml/ranker']) {
      await page.locator(`#scalers tbody tr[data-key="${key}"]`).click();
      await expect.poll(() => page.locator('#detail-heading').textContent()).toContain(key);
      const charts = page.locator('[data-chart]');
      // Every chart has data from the live operator: observed demand, the forecast, replicas.
      await expect
        .poll(() => charts.evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-points')))), { timeout: 180_000 })
        .toEqual([expect.toSatisfy((n: number) => n > 0), expect.toSatisfy((n: number) => n > 0)]);
      if (key === 'shop/web') console.info(`e2e demo: first chart with data ${((Date.now() - startedAt) / 1000).toFixed(1)} s after the demo started`);
      await expect.poll(() => page.locator('#models tbody tr').count(), { timeout: 180_000 }).toBeGreaterThan(0);
    }
    await expect.poll(() => page.locator('#live').getAttribute('data-state')).toBe('live');
    // The model server's Ensemble: its members with their weights.
    await expect.poll(() => page.locator('#models tbody tr').count(), { timeout: 180_000 }).toBeGreaterThan(1);
    await page.close();
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
  }, 420_000);

  it('has the model server\'s pods Ready for the ramp as it arrives, which a reactive HPA does not', async () => {
    const rampAt = Date.parse(state.rampAt!);
    const end = rampAt + AFTER_RAMP_MS;
    await new Promise((r) => setTimeout(r, Math.max(0, end + 20_000 - Date.now())));
    const ranker = await scaler('ml', 'ranker');
    const metric = ranker.spec.metrics[0]!;
    const perReplica = Number(metric.targetPerReplica);
    const demand = await demandSeries(metric.query, rampAt - 5 * 60_000, end);
    const samples = timeline['ml/ranker']!;
    const story = () =>
      `ranker (s from the ramp: replicas/ready): ${samples.filter((_, i) => i % 5 === 0).map((s) => `${Math.round((s.at - rampAt) / 1000)}:${s.replicas}/${s.ready}`).join(' ')}\n` +
      `demand: ${demand.filter((_, i) => i % 4 === 0).map((d) => `${Math.round((d.at - rampAt) / 1000)}:${d.value.toFixed(0)}`).join(' ')}\n` +
      `explanation: ${ranker.status?.explanation}`;

    // The ramp is real work: by its end the demand needs several more pods than as it began.
    const neededAt = (d: { value: number }) => Math.ceil(d.value / perReplica);
    const atRamp = neededAt(demand.find((d) => d.at >= rampAt)!);
    const neededAtEnd = neededAt(demand.at(-1)!);
    expect(neededAtEnd, story()).toBeGreaterThanOrEqual(atRamp + 2);

    // Ready capacity carries the demand at every moment of the ramp.
    const short = demand.filter((d) => d.at >= rampAt && readyAt(samples, d.at) * perReplica < d.value);
    expect(short.map((d) => `${Math.round((d.at - rampAt) / 1000)} s: ${d.value.toFixed(1)}`), story()).toEqual([]);

    // ... because the pods were asked for ahead of the need, by more than their start-up: no
    // reaction to the demand itself could have had them Ready in time.
    const firstNeed = demand.find((d) => neededAt(d) >= neededAtEnd)!;
    const askedAt = samples.find((s) => s.replicas >= neededAtEnd)!;
    expect(askedAt.at, story()).toBeLessThan(firstNeed.at - MODEL_SERVER_MIN_STARTUP_MS);
    // ... and not by asking for everything: at most twice the pods the ramp's end needs, plus headroom.
    const most = Math.max(...samples.filter((s) => s.at >= rampAt - 5 * 60_000 && s.at <= end).map((s) => s.replicas));
    expect(most, story()).toBeLessThanOrEqual(Math.ceil(2.4 * neededAtEnd));

    // The HPA's algorithm on the same demand (its one-minute grid), pods Ready 150 s after they
    // are asked for, falls short during the ramp.
    const minutes = await demandSeries(metric.query, rampAt - 5 * 60_000, end, 60);
    const [hpa] = runSimulation(
      [new HpaController({ targetUtilization: 1, capacityPerReplica: perReplica, minReplicas: ranker.spec.minReplicas ?? 1, maxReplicas: ranker.spec.maxReplicas })],
      {
        demand: { start: minutes[0]!.at, stepMs: 60_000, values: minutes.map((d) => d.value) },
        capacityPerReplica: perReplica,
        startupDelayMs: MODEL_SERVER_MAX_STARTUP_MS,
        metricLagMs: 0,
        evaluateFrom: minutes[0]!.at, // readyCapacity[i] is then minute i of `minutes`
        minReplicas: ranker.spec.minReplicas ?? 1,
        maxReplicas: ranker.spec.maxReplicas,
      },
    );
    const hpaShort = minutes.filter((d, i) => d.at >= rampAt && hpa!.readyCapacity[i]! < d.value);
    expect(hpaShort.length, story()).toBeGreaterThan(0);
  }, 20 * 60_000);

  it('leaves a screenshot of the web view after the ramp', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 1000 } });
    const { problems, elsewhere } = watchPage(page, state.url!.replace(/\/$/, ''));
    await page.goto(state.url!, { waitUntil: 'load' });
    await page.locator('#scalers tbody tr[data-key="ml/ranker"]').click();
    await expect.poll(() => page.locator('#detail-heading').textContent(), { timeout: 30_000 }).toContain('ml/ranker');
    await expect.poll(() => page.locator('#events tbody tr').count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await expect.poll(() => page.locator('[data-chart^="demand:"]').getAttribute('data-points'), { timeout: 30_000 }).not.toBe('0');
    await mkdir(resolve('docs', 'images'), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    expect(problems).toEqual([]);
    expect(elsewhere).toEqual([]);
  });

  it('shows the scalers in kubectl get and describe, with the lead time learned from the pods', async () => {
    const kubectl = (args: string[]) =>
      new Promise<string>((r, j) => {
        const child = spawn(join(state.kubectlDir!, 'kubectl'), ['--kubeconfig', state.kubeconfig!, ...args]);
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.once('close', (code) => (code === 0 ? r(out) : j(new Error(`kubectl ${args.join(' ')}: exit ${code}`))));
      });
    const table = await kubectl(['get', 'pscaler', '-A']);
    const [header, ...rows] = table.trim().split('\n').map((line) => line.trim().split(/\s+/));
    expect(header).toEqual(['NAMESPACE', 'NAME', 'TARGET', 'MIN', 'MAX', 'CURRENT', 'DESIRED', 'PEAK', 'MODEL', 'MODE', 'AGE']);
    expect(rows.map((r) => [r[0], r[1], r[8], r[9]])).toEqual([
      ['ml', 'ranker', 'Ensemble', 'Auto'],
      ['shop', 'web', 'HoltWinters', 'Auto'],
    ]);
    const described = await kubectl(['describe', 'pscaler', 'web', '-n', 'shop']);
    for (const type of ['Ready', 'ForecastAvailable', 'AbleToScale', 'Degraded']) expect(described).toMatch(new RegExp(`Type:\\s+${type}\\b`));
    expect(described).toMatch(/Explanation:\s+rps forecast p90/);
    // The web pods turn Ready 30-60 s after they start: learned p90, plus the 30 s interval and the 1m step.
    const web = await scaler('shop', 'web');
    expect(web.status?.leadTimeSource).toBe('Learned');
    const learned = parseDuration(web.status!.leadTime!) / 1000;
    expect(learned).toBeGreaterThanOrEqual(110);
    expect(learned).toBeLessThanOrEqual(155);
  });

  it('tears everything down on Ctrl-C: every child process gone, every port free', async () => {
    const children = descendants(demo.pid!);
    const ports = listeningPorts([demo.pid!, ...children]);
    const names = children.map(commandLine).join('\n');
    for (const component of ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok', 'prometheus', 'main.js run']) expect(names).toContain(component);
    expect(ports).toContain(Number(new URL(state.url!).port));
    expect(ports).toContain(Number(new URL(state.prometheusUrl!).port));

    demo.kill('SIGINT');
    const result = await exited;
    expect(result).toEqual({ code: 0, signal: null });
    expect(output()).toMatch(/SIGINT: tearing everything down/);
    expect(children.filter(isRunning).map(commandLine)).toEqual([]);
    for (const port of ports) expect([port, await isPortFree(port)]).toEqual([port, true]);
    expect(await readState(stateDir)).toBeUndefined();
  }, 120_000);

  it('--keep leaves a demo running in the background and prints its kubeconfig; --stop ends it', async () => {
    const kept = startDemo(['--keep', '--ui-port', '0', '--speed', String(SPEED), '--ramp-in', RAMP_IN]);
    const result = await kept.exited;
    expect(result.code, kept.output()).toBe(0);
    const pid = Number(/left running in the background \(pid (\d+)/.exec(kept.output())?.[1]);
    const running = await readState(stateDir);
    expect(running).toMatchObject({ pid, phase: 'ready' });
    expect(kept.output()).toContain(`kubeconfig ${running!.kubeconfig}`);
    expect((await fetch(running!.url!)).status).toBe(200);
    const children = descendants(pid);
    expect(children.length).toBeGreaterThan(5);

    const stop = startDemo(['--stop']);
    expect((await stop.exited).code).toBe(0);
    expect(stop.output()).toContain(`stopped the demo of pid ${pid}`);
    expect(isRunning(pid)).toBe(false);
    expect(children.filter(isRunning).map(commandLine)).toEqual([]);
    expect(await readState(stateDir)).toBeUndefined();
  }, 180_000);
});
