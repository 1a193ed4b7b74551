// Training in worker threads, with the compiled worker a user runs: results match inline training,
// the main thread stays responsive while an LSTM trains, and timeouts and failures are contained.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toScalerConfig } from '../../src/api/config.js';
import { ModelManager, type ModelOutcome } from '../../src/controller/models.js';
import { trainModel, type TrainingRequest } from '../../src/controller/training/train-model.js';
import { TrainingTimeoutError, WorkerPoolTrainer } from '../../src/controller/training/worker-pool.js';
import { PlanningUnavailable, replan } from '../../src/planner/replan.js';
import { selectBackend } from '../../src/forecast/tf/backend.js';
import type { Series } from '../../src/forecast/types.js';
import { TRAINING_WORKER_SCRIPT } from '../helpers/worker-script.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** Three days of a noisy daily cycle at 1-minute steps (what a web service's request rate looks like). */
function dailyTraffic(days = 3): Series {
  const perDay = DAY / MINUTE;
  let seed = 7;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 10;
  const values = Array.from({ length: days * perDay }, (_, i) => 100 + 60 * Math.sin((2 * Math.PI * i) / perDay) + noise());
  return { start: Date.UTC(2026, 0, 5), stepMs: MINUTE, values };
}

function request(model: TrainingRequest['model'], series = dailyTraffic()): TrainingRequest {
  return { model, options: { seasonality: 'Auto', horizonSteps: 30 }, series, quantile: 0.9 };
}

let pool: WorkerPoolTrainer | undefined;

beforeAll(async () => {
  await selectBackend();
});

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('WorkerPoolTrainer', () => {
  it('replans in a worker thread with the same result as inline, and tells an unavailable plan from a failure', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 60_000, script: TRAINING_WORKER_SCRIPT });
    const config = toScalerConfig({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 50,
      metrics: [{ name: 'rps', query: 'q', targetPerReplica: 20 }],
      forecast: { model: 'HoltWinters', history: '3d', seasonality: ['1d'] },
      scaling: { leadTime: '5m', objective: { maxUnderProvisioned: '1%' } },
    });
    const request = { demand: dailyTraffic(), config, leadTimeMs: 5 * MINUTE };
    const remote = await pool.plan(request);
    expect(remote).toEqual(replan(request));
    expect(remote.plans).toBe(24);

    const short = { ...request, demand: { ...request.demand, values: request.demand.values.slice(0, 600) } };
    const refused = await pool.plan(short).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(PlanningUnavailable);
    expect((refused as Error).message).toMatch(/planning needs 1d of history, have 10h/);
  });
  it('trains in a worker thread and hands back a model that forecasts exactly like one trained inline', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 60_000, script: TRAINING_WORKER_SCRIPT });
    const series = dailyTraffic();
    const remote = await pool.train(request('HoltWinters', series));
    const local = trainModel(request('HoltWinters', series));

    expect(remote.model).toBe('HoltWinters');
    expect(remote.mase).toBeCloseTo(local.mase!, 12);
    expect(remote.driftFallback?.model).toBe('SeasonalNaive');
    remote.forecaster.update(series);
    expect(remote.forecaster.predict(60, [0.5, 0.9])).toEqual(local.forecaster.predict(60, [0.5, 0.9]));
  });

  it('keeps the main thread responsive while an LSTM trains: event-loop lag stays a small fraction of the training time', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 120_000, script: TRAINING_WORKER_SCRIPT });
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const result = await pool.train(request('LSTM'));
    const trainingMs = performance.now() - started;
    delay.disable();

    expect(result.model).toBe('LSTM');
    expect(result.forecaster.describe()).toMatchObject({ model: 'LSTM', fitted: true });
    // Inline, the event loop would be blocked for the whole training; in a worker the longest
    // stall must be a small fraction of it.
    const maxLagMs = delay.max / 1e6;
    expect(maxLagMs).toBeLessThan(trainingMs / 10);
  }, 120_000);

  it('abandons a training that exceeds the timeout, and the next job runs on a fresh worker', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 200, script: TRAINING_WORKER_SCRIPT });
    await expect(pool.train(request('LSTM'))).rejects.toBeInstanceOf(TrainingTimeoutError);
    expect(pool.running()).toBe(0);
    // The stuck worker was stopped; a quick job gets a new one and finishes within the same timeout.
    expect((await pool.train(request('Linear'))).model).toBe('Linear');
  }, 60_000);

  it('reports a failing training with its message and keeps serving later jobs', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 60_000, script: TRAINING_WORKER_SCRIPT });
    const noData: Series = { start: 0, stepMs: MINUTE, values: new Array<number>(100).fill(NaN) };
    await expect(pool.train(request('HoltWinters', noData))).rejects.toThrow(/every model failed/);
    expect((await pool.train(request('SeasonalNaive'))).model).toBe('SeasonalNaive');
  }, 60_000);

  it('runs statistical jobs ahead of queued LSTM jobs', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 60_000, script: TRAINING_WORKER_SCRIPT });
    const finished: string[] = [];
    const track = (p: Promise<{ model: string }>) => p.then((r) => finished.push(r.model));
    const first = track(pool.train(request('LSTM')));
    await waitFor(() => pool!.running() === 1, 30_000);
    const jobs = [first, track(pool.train(request('LSTM'))), track(pool.train(request('Linear')))];
    expect(pool.queued()).toBe(2);
    await Promise.all(jobs);
    // The first LSTM job had started; the Linear one overtook the second.
    expect(finished).toEqual(['LSTM', 'Linear', 'LSTM']);
  }, 120_000);

  it('runs queued jobs in order, one per worker, and close() rejects what has not started', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 60_000, script: TRAINING_WORKER_SCRIPT });
    const first = pool.train(request('HoltWinters'));
    const second = pool.train(request('Linear'));
    expect(pool.queued() + pool.running()).toBe(2);
    expect((await first).model).toBe('HoltWinters');
    expect((await second).model).toBe('Linear');

    const running = expect(pool.train(request('LSTM'))).rejects.toThrow(/closed/);
    const waiting = expect(pool.train(request('Linear'))).rejects.toThrow(/closed/);
    await pool.close();
    await running;
    await waiting;
  }, 60_000);
});

describe('ModelManager with training workers', () => {
  it('never waits for training: the pretrained model forecasts while the first model trains, then the trained LSTM serves', async () => {
    pool = new WorkerPoolTrainer({ size: 1, timeoutMs: 120_000, script: TRAINING_WORKER_SCRIPT });
    const cfg = toScalerConfig({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      maxReplicas: 20,
      metrics: [{ name: 'rps', query: 'x', targetPerReplica: '10' }],
      forecast: { model: 'LSTM', step: '1m', horizon: '30m', history: '3d' },
    });
    const settled: string[] = [];
    let now = Date.UTC(2026, 0, 8);
    const models = new ModelManager({ now: () => now, trainer: pool, onTrainingSettled: (key) => settled.push(key) });
    const series = dailyTraffic();

    const t0 = performance.now();
    const first = models.forecast('ns/web/rps', series, cfg, 60, [0.5, 0.9]);
    expect(performance.now() - t0).toBeLessThan(1000);
    // While the LSTM trains in its worker, the pretrained model forecasts (the cold start).
    expect(first).toMatchObject({ model: 'Pretrained', fallbackKind: 'ColdStart', training: { startedAt: expect.any(Number) } });
    expect(first.forecast!.mean).toHaveLength(60);

    await waitFor(() => settled.length === 1, 120_000);
    now += MINUTE;
    const second: ModelOutcome = models.forecast('ns/web/rps', series, cfg, 60, [0.5, 0.9]);
    expect(second).toMatchObject({ model: 'LSTM', requestedModel: 'LSTM' });
    expect(second.forecast!.mean).toHaveLength(60);
    expect(second.events.map((e) => e.type)).toContain('Trained');
    await models.close();
  }, 150_000);
});

async function waitFor(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
