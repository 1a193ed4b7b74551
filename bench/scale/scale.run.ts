// The scale bench body, run by bench/scale.mjs through vitest (which loads the TypeScript test
// helpers). Settings come from PRESCALE_SCALE_* variables; the raw results go to PRESCALE_SCALE_OUT.
//
// Phases: warm-up (start the operator on N existing scalers, wait until every one serves a trained
// HoltWinters model), steady (M minutes of measurement), ensemble (switch K scalers to Ensemble and
// wait until every one serves it).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { it } from 'vitest';
import type { PredictiveScaler } from '../../src/api/types.js';
import {
  createObjects,
  listScalers,
  inPool,
  setModel,
  setObjective,
  startOperatorProcess,
  startWorld,
  DAY,
  type OperatorProcess,
  type ScalerSettings,
  type World,
} from './environment.js';
import { bucketDelta, histogramBuckets, histogramQuantile, quantile, reconcileGaps, sumOf, type Sample } from './measure.js';
import { auditedRequests, readOperatorLog, scrape, startSampler, type OperatorSample, type ProcessSample } from './observe.js';

const env = process.env;
const ROOT = resolve(import.meta.dirname, '..', '..');
const SCALERS = Number(env.PRESCALE_SCALE_SCALERS ?? 20);
const MINUTES = Number(env.PRESCALE_SCALE_MINUTES ?? 5);
const PHASE = env.PRESCALE_SCALE_PHASE ?? 'both';
const ENSEMBLE_SCALERS = Math.min(SCALERS, Number(env.PRESCALE_SCALE_ENSEMBLE_SCALERS ?? SCALERS));
const PLAN_SCALERS = Math.min(SCALERS, Number(env.PRESCALE_SCALE_PLAN_SCALERS ?? SCALERS));
const CONCURRENCY = Number(env.PRESCALE_SCALE_CONCURRENCY ?? 4);
const TRAINING_WORKERS = Number(env.PRESCALE_SCALE_TRAINING_WORKERS ?? 1);
const HISTORY_DAYS = Number(env.PRESCALE_SCALE_HISTORY_DAYS ?? 3);
const WAIT_MINUTES = Number(env.PRESCALE_SCALE_WAIT_MINUTES ?? 120);
const OUT = env.PRESCALE_SCALE_OUT ?? join(ROOT, 'bench', 'results', 'scale.json');
const INTERVAL_MS = 30_000;
const POLL_MS = 5_000;

const settings: ScalerSettings = { intervalMs: INTERVAL_MS, interval: '30s', historyMs: HISTORY_DAYS * DAY, history: `${HISTORY_DAYS}d` };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (msg: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const condition = (s: PredictiveScaler, type: string) => s.status?.conditions?.find((c) => c.type === type);
const servesModel = (s: PredictiveScaler, model: string) =>
  condition(s, 'ForecastAvailable')?.status === 'True' && s.status?.forecast?.model === model && (s.status?.models?.length ?? 0) > 0;

/** Polls the scalers until `ready` holds for every one in `names`; returns when each first did, or null. */
async function waitForAll(world: World, names: Set<string>, ready: (s: PredictiveScaler) => boolean, since: number) {
  const readyAt = new Map<string, number>();
  const progress: { t: number; ready: number }[] = [];
  const deadline = Date.now() + WAIT_MINUTES * 60_000;
  while (readyAt.size < names.size && Date.now() < deadline) {
    const scalers = await listScalers(world.cp.kubeConfig).catch(() => []);
    for (const s of scalers) if (names.has(s.metadata.name) && !readyAt.has(s.metadata.name) && ready(s)) readyAt.set(s.metadata.name, Date.now());
    progress.push({ t: Date.now(), ready: readyAt.size });
    log(`${readyAt.size}/${names.size} ready after ${Math.round((Date.now() - since) / 1000)} s`);
    if (readyAt.size < names.size) await sleep(POLL_MS);
  }
  const seconds = [...readyAt.values()].map((t) => (t - since) / 1000);
  return {
    scalers: names.size,
    ready: readyAt.size,
    allReadySeconds: readyAt.size === names.size ? Math.max(...seconds) : null,
    medianReadySeconds: quantile(seconds, 0.5),
    pollSeconds: POLL_MS / 1000,
    progress: progress.map((p) => ({ seconds: Math.round((p.t - since) / 1000), ready: p.ready })),
  };
}

interface Snapshot {
  t: number;
  operator: Sample[];
  prometheus: Sample[];
}

async function snapshot(op: OperatorProcess, world: World): Promise<Snapshot> {
  const [operator, prometheus] = await Promise.all([scrape(op.metricsUrl), scrape(`${world.prom.url}/metrics`)]);
  return { t: Date.now(), operator, prometheus };
}

/** Everything measured between two snapshots. */
async function measureWindow(op: OperatorProcess, world: World, a: Snapshot, b: Snapshot, processSamples: ProcessSample[], operatorSamples: OperatorSample[]) {
  const seconds = (b.t - a.t) / 1000;
  const buckets = bucketDelta(histogramBuckets(a.operator, 'prescale_reconcile_duration_seconds'), histogramBuckets(b.operator, 'prescale_reconcile_duration_seconds'));
  const fromOperator = (x: Snapshot) => x.operator;
  const fromPrometheus = (x: Snapshot) => x.prometheus;
  const delta = (pick: (x: Snapshot) => Sample[], name: string, match: Record<string, string> = {}) => sumOf(pick(b), name, match) - sumOf(pick(a), name, match);
  const reconciles = delta(fromOperator, 'prescale_reconcile_duration_seconds_count');
  const inWindow = processSamples.filter((p) => p.t >= a.t && p.t <= b.t);
  const firstCpu = inWindow[0];
  const lastCpu = inWindow.at(-1);
  const { reconciled, messages } = await readOperatorLog(op.logPath);
  const requests = await auditedRequests(world.auditLogPath, a.t, b.t);
  const queryRange = delta(fromPrometheus, 'prometheus_http_requests_total', { handler: '/api/v1/query_range' });
  const query = delta(fromPrometheus, 'prometheus_http_requests_total', { handler: '/api/v1/query' });
  const queryBuckets = (x: Snapshot) => histogramBuckets(x.operator, 'prescale_prometheus_query_duration_seconds', { outcome: 'ok' });
  const promBuckets = bucketDelta(queryBuckets(a), queryBuckets(b));
  return {
    seconds,
    reconciles,
    reconcilesPerSecond: reconciles / seconds,
    expectedReconcilesPerSecond: SCALERS / (INTERVAL_MS / 1000),
    reconcileSeconds: {
      p50: histogramQuantile(0.5, buckets) ?? null,
      p99: histogramQuantile(0.99, buckets) ?? null,
      mean: delta(fromOperator, 'prescale_reconcile_duration_seconds_sum') / reconciles,
      buckets: buckets.filter((x) => x.count > 0 || x.le === Infinity).map((x) => ({ le: x.le === Infinity ? '+Inf' : x.le, count: x.count })),
    },
    reconcileErrors: delta(fromOperator, 'prescale_reconcile_errors_total'),
    gaps: reconcileGaps(reconciled, SCALERS, a.t, b.t, INTERVAL_MS),
    apiRequests: { total: requests.total, perSecond: requests.total / seconds, byKind: requests.byKind },
    prometheusQueries: {
      queryRangePerSecond: queryRange / seconds,
      queryPerSecond: query / seconds,
      operatorQueryP99Seconds: histogramQuantile(0.99, promBuckets) ?? null,
    },
    process: {
      cpuCores: firstCpu && lastCpu && lastCpu.t > firstCpu.t ? (lastCpu.cpuSeconds - firstCpu.cpuSeconds) / ((lastCpu.t - firstCpu.t) / 1000) : null,
      rssMaxBytes: Math.max(...inWindow.map((p) => p.rssBytes)),
      rssMeanBytes: inWindow.reduce((s, p) => s + p.rssBytes, 0) / inWindow.length,
      load1Mean: inWindow.reduce((s, p) => s + p.load1, 0) / inWindow.length,
    },
    eventLoopLagP99Seconds: quantile(
      operatorSamples.filter((s) => s.t >= a.t && s.t <= b.t).map((s) => s.eventLoopLagP99Seconds),
      0.99,
    ),
    trainings: {
      succeeded: delta(fromOperator, 'prescale_model_trainings_total', { outcome: 'success' }),
      all: delta(fromOperator, 'prescale_model_trainings_total'),
    },
    logMessages: messages,
  };
}

it(`${SCALERS} PredictiveScalers in one operator process`, async () => {
  const workDir = await mkdtemp(join(tmpdir(), 'prescale-scale-'));
  const clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const result: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    settings: { scalers: SCALERS, minutes: MINUTES, phase: PHASE, ensembleScalers: ENSEMBLE_SCALERS, planScalers: PLAN_SCALERS, concurrency: CONCURRENCY, trainingWorkers: TRAINING_WORKERS, interval: settings.interval, history: settings.history, step: '1m', horizon: '30m', seasonality: '1d' },
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, loadAverageAtStart: loadavg() },
  };
  const write = () => writeFile(OUT, `${JSON.stringify(result, null, 1)}\n`);
  let world: World | undefined;
  let op: OperatorProcess | undefined;
  let sampler: ReturnType<typeof startSampler> | undefined;
  try {
    log(`backfilling ${SCALERS} series × ${HISTORY_DAYS} d and starting the control plane`);
    const setupStarted = Date.now();
    world = await startWorld(workDir, SCALERS, settings.historyMs, Date.now());
    log(`Prometheus ready after ${world.prometheusStartSeconds.toFixed(0)} s; creating ${SCALERS} Deployments and scalers`);
    const createStarted = Date.now();
    await createObjects(world.cp.kubeConfig, SCALERS, settings);
    result.setup = { prometheusBackfillAndStartSeconds: world.prometheusStartSeconds, createObjectsSeconds: (Date.now() - createStarted) / 1000, totalSeconds: (Date.now() - setupStarted) / 1000 };

    op = await startOperatorProcess(world, workDir, ROOT, { concurrency: CONCURRENCY, trainingWorkers: TRAINING_WORKERS });
    const operatorStarted = Date.now();
    sampler = startSampler(op.pid, op.metricsUrl, clockTicks);
    const all = new Set(Array.from({ length: SCALERS }, (_, i) => `s-${String(i).padStart(4, '0')}`));
    log('operator started; waiting for every scaler to serve a HoltWinters model');
    result.warmup = await waitForAll(world, all, (s) => servesModel(s, 'HoltWinters'), operatorStarted);
    await write();

    if (PHASE === 'statistical' || PHASE === 'both') {
      // One interval to let the warm-up's burst of first reconciles spread out.
      await sleep(INTERVAL_MS);
      const a = await snapshot(op, world);
      log(`steady window: ${MINUTES} min`);
      await sleep(MINUTES * 60_000);
      const b = await snapshot(op, world);
      result.steady = await measureWindow(op, world, a, b, sampler.processSamples, sampler.operatorSamples);
      await write();
    }

    if (PHASE === 'plan') {
      // Every replan runs in the training workers: the reconciles must keep their interval meanwhile.
      const planned = new Set([...all].slice(0, PLAN_SCALERS));
      const a = await snapshot(op, world);
      log(`giving ${planned.size} scalers an objective (0.5%): each replans in the training workers`);
      await inPool(planned.size, 8, (i) => setObjective(world!.cp.kubeConfig, i, '0.5%'));
      const hasPlan = (s: PredictiveScaler) => s.status?.plan !== undefined && condition(s, 'ObjectiveMet')?.status !== 'Unknown';
      const wait = await waitForAll(world, planned, hasPlan, a.t);
      const b = await snapshot(op, world);
      const planBuckets = (x: Snapshot) => histogramBuckets(x.operator, 'prescale_plan_duration_seconds', { outcome: 'success' });
      const durations = bucketDelta(planBuckets(a), planBuckets(b));
      const planSum = sumOf(b.operator, 'prescale_plan_duration_seconds_sum') - sumOf(a.operator, 'prescale_plan_duration_seconds_sum');
      const planCount = sumOf(b.operator, 'prescale_plan_duration_seconds_count') - sumOf(a.operator, 'prescale_plan_duration_seconds_count');
      const scalers = await listScalers(world.cp.kubeConfig);
      const met = scalers.filter((s) => planned.has(s.metadata.name) && s.status?.plan?.objectiveMet).length;
      result.plan = {
        ...wait,
        replans: planCount,
        // From submission to the workers to the result: includes the wait in the queue.
        replanSecondsMean: planCount > 0 ? planSum / planCount : null,
        replanSecondsP50: histogramQuantile(0.5, durations) ?? null,
        objectiveMet: met,
        window: await measureWindow(op, world, a, b, sampler.processSamples, sampler.operatorSamples),
      };
      await write();
    }

    if (PHASE === 'ensemble' || PHASE === 'both') {
      const switched = new Set([...all].slice(0, ENSEMBLE_SCALERS));
      const a = await snapshot(op, world);
      log(`switching ${switched.size} scalers to Ensemble`);
      await inPool(switched.size, 8, (i) => setModel(world!.cp.kubeConfig, i, 'Ensemble'));
      const wait = await waitForAll(world, switched, (s) => servesModel(s, 'Ensemble'), a.t);
      const b = await snapshot(op, world);
      const queue = sampler.operatorSamples
        .filter((s) => s.t >= a.t && s.t <= b.t)
        .map((s) => ({ seconds: Math.round((s.t - a.t) / 1000), queued: s.trainingQueueDepth, running: s.trainingRunning, trainingsSucceeded: s.trainingsSucceeded, trainingsFailed: s.trainingsFailed }));
      result.ensemble = { ...wait, queueDepth: queue, window: await measureWindow(op, world, a, b, sampler.processSamples, sampler.operatorSamples) };
      await write();
    }
    result.processSamples = sampler.processSamples.map((p) => ({ seconds: Math.round((p.t - operatorStarted) / 1000), rssMiB: Math.round(p.rssBytes / 2 ** 20), cpuSeconds: p.cpuSeconds }));
    result.wallSeconds = (Date.now() - setupStarted) / 1000;
    await write();
    log(`results in ${OUT}`);
  } finally {
    await sampler?.stop();
    await op?.stop();
    await world?.close();
    if (!env.PRESCALE_SCALE_KEEP) await rm(workDir, { recursive: true, force: true });
    else log(`kept ${workDir}`);
  }
});
