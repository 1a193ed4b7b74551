import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import type { ForecastSpec } from '../../../src/api/types.js';
import { ModelManager, type ModelEvent, type ModelManagerOptions, type ModelOutcome, type ModelRecord } from '../../../src/controller/models.js';
import { InlineTrainer } from '../../../src/controller/training/trainer.js';
import type { Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, dailySine } from '../forecast/fixtures.js';
import { CountingForecaster, ManualTrainer, MemoryPersistence, creating, settled } from './model-fakes.js';

const SECOND = 1_000;
const HOUR = 3_600_000;
const QUANTILES = [0.05, 0.5, 0.9, 0.95];
const STEPS = 12;
const KEY = 'ns/web/rps';

function config(forecast: ForecastSpec = {}): ScalerConfig {
  return toScalerConfig({
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    maxReplicas: 20,
    metrics: [{ name: 'rps', query: 'sum(rate(http_requests_total[1m]))', targetPerReplica: '10' }],
    forecast: { step: '5m', horizon: '1h', retrainEvery: '6h', ...forecast },
  });
}

/** Without the pretrained cold-start model: what the model manager does on its own while none serves. */
function reactiveConfig(forecast: ForecastSpec = {}): ScalerConfig {
  return config({ coldStart: 'None', ...forecast });
}

function lastTime(s: Series): number {
  return s.start + (s.values.length - 1) * s.stepMs;
}

/** The same series with `n` more points, continuing the daily sine. */
function extend(s: Series, n: number): Series {
  const perDay = DAY / FIVE_MINUTES;
  const more = Array.from({ length: n }, (_, k) => 100 + 30 * Math.sin((2 * Math.PI * (s.values.length + k)) / perDay));
  return { ...s, values: [...s.values, ...more] };
}

function types(events: ModelEvent[]): string[] {
  return events.map((e) => e.type);
}

/** A manager on a hand-driven clock that records every training it reports and every settled key. */
function manager(overrides: Partial<ModelManagerOptions> = {}) {
  const clock = { now: Date.UTC(2026, 0, 9) };
  const trained: string[] = [];
  const settledKeys: string[] = [];
  const models = new ModelManager({
    now: () => clock.now,
    onTrained: (model, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      trained.push(model);
    },
    onTrainingSettled: (key) => settledKeys.push(key),
    ...overrides,
  });
  return { models, clock, trained, settledKeys };
}

const history = dailySine(3, 30, 2);

describe('ModelManager with the inline trainer', () => {
  it('trains on the first call and serves right away, forecasting after the series', () => {
    const { models, clock, trained } = manager();

    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'HoltWinters', model: 'HoltWinters', trained: true, trainedAt: clock.now });
    expect(out.events).toEqual([{ type: 'Trained', model: 'HoltWinters', seconds: expect.any(Number), mase: out.mase }]);
    expect(out.mase).toBeGreaterThan(0);
    expect(out.fallbackReason).toBeUndefined();
    expect(out.unavailable).toBeUndefined();
    expect(out.training).toBeUndefined();
    expect(trained).toEqual(['HoltWinters']);
    const f = out.forecast!;
    expect(f.start).toBe(lastTime(history) + FIVE_MINUTES);
    expect(f.mean).toHaveLength(STEPS);
    expect(f.quantiles.map((q) => q.q)).toEqual(QUANTILES);
    expect(out.details).toMatchObject({ model: 'HoltWinters', seasonSteps: 288 });
  });

  it.each([
    { via: 'the create option', options: (create: ReturnType<typeof creating>['create']) => ({ create }) },
    { via: 'an InlineTrainer(create)', options: (create: ReturnType<typeof creating>['create']) => ({ trainer: new InlineTrainer(create) }) },
  ])('within retrainEvery only updates the model, through $via; after it, retrains', ({ options }) => {
    const { create, calls } = creating({ Linear: () => new CountingForecaster('Linear') });
    const { models, clock } = manager(options(create));
    const cfg = config({ model: 'Linear' });

    const first = models.forecast(KEY, history, cfg, STEPS, QUANTILES);
    expect(first.trained).toBe(true);
    const afterTraining = calls('Linear');
    expect(afterTraining.fits).toBe(1);

    clock.now += 10 * 60_000;
    const newer = extend(history, 2);
    const second = models.forecast(KEY, newer, cfg, STEPS, QUANTILES);

    expect(second).toMatchObject({ trained: false, trainedAt: first.trainedAt, events: [] });
    expect(calls('Linear')).toEqual({ fits: 1, updates: afterTraining.updates + 1 });
    expect(second.forecast!.start).toBe(lastTime(newer) + FIVE_MINUTES);

    clock.now = first.trainedAt! + 6 * HOUR - 1;
    expect(models.forecast(KEY, extend(history, 3), cfg, STEPS, QUANTILES).trained).toBe(false);
    expect(calls('Linear').fits).toBe(1);

    clock.now += 1;
    const third = models.forecast(KEY, extend(history, 4), cfg, STEPS, QUANTILES);
    expect(third).toMatchObject({ trained: true, trainedAt: clock.now });
    expect(types(third.events)).toEqual(['Trained']);
    expect(calls('Linear').fits).toBe(2);
  });

  it.each<{ change: string; spec: ForecastSpec }>([
    { change: 'model', spec: { model: 'SeasonalNaive' } },
    { change: 'seasonality', spec: { seasonality: ['1d'] } },
    { change: 'step', spec: { step: '1m' } },
    { change: 'horizon', spec: { horizon: '2h' } },
  ])('retrains when the $change changes', ({ spec }) => {
    const { models, clock, trained } = manager();
    models.forecast(KEY, history, config({ model: 'Linear' }), STEPS, QUANTILES);

    clock.now += 60_000;
    const out = models.forecast(KEY, history, config({ model: 'Linear', ...spec }), STEPS, QUANTILES);

    expect(out).toMatchObject({ trained: true, trainedAt: clock.now });
    expect(out.fallbackReason).toBeUndefined();
    expect(trained).toHaveLength(2);
  });

  it.each([
    // [series length in points, finite points, spec, points needed]
    { what: 'the horizon (2 x horizon steps)', points: 20, gaps: 0, forecast: { horizon: '1h' }, need: 24, have: 20 },
    { what: 'the horizon, counting only finite points', points: 30, gaps: 10, forecast: { horizon: '1h' }, need: 24, have: 20 },
    { what: 'a long horizon', points: 100, gaps: 0, forecast: { horizon: '10h' }, need: 240, have: 100 },
    { what: "the model's own minimum (two given seasons)", points: 300, gaps: 0, forecast: { seasonality: ['1d'] }, need: 576, have: 300 },
  ])('too little history for $what gives InsufficientHistory naming the points needed', ({ points, gaps, forecast, need, have }) => {
    const { models, trained } = manager();
    const series = dailySine(2);
    series.values = series.values.slice(0, points).map((v, i) => (i < gaps ? NaN : v));

    const out = models.forecast(KEY, series, config({ ...(forecast as ForecastSpec), coldStart: 'None' }), STEPS, QUANTILES);

    expect(out).toMatchObject({ trained: false, events: [] });
    expect(out.forecast).toBeUndefined();
    expect(out.unavailable?.reason).toBe('InsufficientHistory');
    expect(out.unavailable?.message).toContain(`${need} points`);
    expect(out.unavailable?.message).toContain(`have ${have}`);
    expect(trained).toEqual([]);
  });

  it('while history is too short, forecasts with the pretrained model, refits it hourly, and drops it once the model trains', () => {
    const { models, clock, trained } = manager();
    const cfg = config({ seasonality: ['1d'] }); // HoltWinters needs two days
    let series = dailySine(2);
    series.values = series.values.slice(0, 36); // 3 h at 5 min

    const out = models.forecast(KEY, series, cfg, STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'HoltWinters', model: 'Pretrained', fallbackKind: 'ColdStart', trained: false, events: [] });
    expect(out.unavailable).toBeUndefined();
    expect(out.fallbackReason).toMatch(/^HoltWinters needs 576 points of history .*have 36; forecasting with the pretrained global model/);
    expect(out.forecast!.start).toBe(lastTime(series) + FIVE_MINUTES);
    expect(out.forecast!.mean).toHaveLength(STEPS);
    expect(out.forecast!.quantiles.map((q) => q.q)).toEqual(QUANTILES);
    for (const v of out.forecast!.mean) expect(Number.isFinite(v)).toBe(true);
    // Within the series' range, not a number from elsewhere.
    expect(Math.max(...out.forecast!.mean)).toBeLessThan(200);
    expect(Math.min(...out.forecast!.mean)).toBeGreaterThan(40);
    expect(out.details).toMatchObject({ model: 'Pretrained', fineTuned: false });
    expect(trained).toEqual([]);

    // A day later (in history and on the clock) it is refitted, fine-tuned on the day it has.
    clock.now += 25 * HOUR;
    series = dailySine(2);
    series.values = series.values.slice(0, 300);
    const later = models.forecast(KEY, series, cfg, STEPS, QUANTILES);
    expect(later).toMatchObject({ model: 'Pretrained', fallbackKind: 'ColdStart' });
    expect(later.details).toMatchObject({ fineTuned: true });

    // With enough history the requested model trains and serves.
    clock.now += HOUR;
    const grown = models.forecast(KEY, dailySine(3), cfg, STEPS, QUANTILES);
    expect(grown).toMatchObject({ model: 'HoltWinters', trained: true });
    expect(grown.fallbackKind).toBeUndefined();
  });

  it('forecasts with the pretrained model while the first training runs in the background', async () => {
    const trainer = new ManualTrainer();
    const { models } = manager({ trainer });
    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(out).toMatchObject({ model: 'Pretrained', fallbackKind: 'ColdStart', training: { startedAt: expect.any(Number) } });
    expect(out.fallbackReason).toMatch(/^HoltWinters is training in the background .*; forecasting with the pretrained global model/);

    const none = models.forecast(KEY, history, config({ coldStart: 'None' }), STEPS, QUANTILES);
    expect(none.forecast).toBeUndefined();
    expect(none.unavailable?.reason).toBe('ModelTraining');
    await models.close();
  });

  it('scales reactively when even the pretrained model lacks history, or coldStart is None', () => {
    const { models } = manager();
    const series = dailySine(1);
    series.values = series.values.slice(0, 8); // 40 minutes: under the pretrained model's hour
    const out = models.forecast(KEY, series, config({ horizon: '10m' }), STEPS, QUANTILES);
    expect(out.forecast).toBeUndefined();
    expect(out.unavailable?.reason).toBe('InsufficientHistory');

    const hours = dailySine(1);
    hours.values = hours.values.slice(0, 36).map((v, i) => (i < 34 ? NaN : v)); // 2 observed slots in 3 h
    const gappy = models.forecast(KEY, hours, config({ horizon: '10m' }), STEPS, QUANTILES);
    expect(gappy.unavailable?.reason).toBe('InsufficientHistory');
  });

  it('exactly enough history is enough', () => {
    const { models } = manager();
    const series = dailySine(1);
    series.values = series.values.slice(0, 24);

    const out = models.forecast(KEY, series, config({ model: 'Linear', horizon: '1h' }), STEPS, QUANTILES);

    expect(out.unavailable).toBeUndefined();
    expect(out.trained).toBe(true);
  });

  it('after losing history a model that had been trained becomes unavailable, and trains afresh later', () => {
    const { models, clock, trained } = manager();
    models.forecast(KEY, history, config(), STEPS, QUANTILES);

    // Even between retrains: the update cannot use a series this short, and no refit is possible.
    clock.now += 60_000;
    const short: Series = { ...history, values: history.values.slice(0, 10) };
    expect(models.forecast(KEY, short, config({ coldStart: 'None' }), STEPS, QUANTILES).unavailable?.reason).toBe('InsufficientHistory');

    clock.now += 60_000;
    expect(models.forecast(KEY, history, config(), STEPS, QUANTILES).trained).toBe(true);
    expect(trained).toEqual(['HoltWinters', 'HoltWinters']);
  });

  it('keeps one model per key, and forget(prefix) drops them', () => {
    const { create } = creating({ Linear: () => new CountingForecaster('Linear') });
    const { models, clock } = manager({ create });
    const cfg = config({ model: 'Linear' });
    for (const key of ['ns/a/rps', 'ns/a/cpu', 'ns/b/rps']) models.forecast(key, history, cfg, STEPS, QUANTILES);
    clock.now += 60_000;

    models.forget('ns/a/');

    expect(models.forecast('ns/a/rps', history, cfg, STEPS, QUANTILES).trained).toBe(true);
    expect(models.forecast('ns/a/cpu', history, cfg, STEPS, QUANTILES).trained).toBe(true);
    expect(models.forecast('ns/b/rps', history, cfg, STEPS, QUANTILES).trained).toBe(false);
  });
});

describe('ModelManager fallbacks and failures (inline)', () => {
  it('a model whose fit throws falls back to the next in the chain, with a fallbackReason', () => {
    const { create } = creating({ HoltWinters: () => new CountingForecaster('HoltWinters', { fitError: 'optimizer diverged' }) });
    const { models, trained } = manager({ create });

    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'HoltWinters', model: 'SeasonalNaive', trained: true, fallbackKind: 'ModelFailed' });
    expect(out.fallbackReason).toBe('HoltWinters failed (HoltWinters: optimizer diverged); using SeasonalNaive');
    expect(out.forecast!.start).toBe(lastTime(history) + FIVE_MINUTES);
    expect(trained).toEqual(['SeasonalNaive']);
  });

  it('an LSTM that fails falls back to HoltWinters', () => {
    const { create } = creating({ LSTM: () => new CountingForecaster('LSTM', { fitError: 'no backend' }) });
    const { models } = manager({ create });

    const out = models.forecast(KEY, history, config({ model: 'LSTM' }), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'LSTM', model: 'HoltWinters', fallbackKind: 'ModelFailed' });
    expect(out.fallbackReason).toMatch(/^LSTM failed \(LSTM: no backend\); using HoltWinters$/);
  });

  it('stays on the fallback between retrains, keeping its reason', () => {
    const { create } = creating({ HoltWinters: () => new CountingForecaster('HoltWinters', { fitError: 'boom' }) });
    const { models, clock } = manager({ create });
    const first = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    clock.now += 60_000;
    const second = models.forecast(KEY, extend(history, 1), config(), STEPS, QUANTILES);

    expect(second).toMatchObject({ model: 'SeasonalNaive', trained: false, fallbackReason: first.fallbackReason, fallbackKind: 'ModelFailed' });
  });

  it('every model failing gives ModelFailed naming each failure, and a TrainingFailed event', () => {
    const { create } = creating({
      HoltWinters: () => new CountingForecaster('HoltWinters', { fitError: 'e1' }),
      SeasonalNaive: () => new CountingForecaster('SeasonalNaive', { fitError: 'e2' }),
      Linear: () => new CountingForecaster('Linear', { fitError: 'e3' }),
    });
    const { models, trained } = manager({ create });

    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    expect(out.trained).toBe(false);
    expect(out.forecast).toBeUndefined();
    expect(out.unavailable?.reason).toBe('ModelFailed');
    expect(out.unavailable?.message).toMatch(/HoltWinters: e1; SeasonalNaive: e2; Linear: e3/);
    expect(types(out.events)).toEqual(['TrainingFailed']);
    expect(trained).toEqual([]);
  });

  it('after a failure the next attempt waits for the backoff', () => {
    let fail = true;
    const { create, calls } = creating({ Linear: () => new CountingForecaster('Linear', fail ? { fitError: 'nope' } : {}) });
    const { models, clock } = manager({ create });
    const cfg = config({ model: 'Linear' });
    expect(models.forecast(KEY, history, cfg, STEPS, QUANTILES).unavailable?.reason).toBe('ModelFailed');

    fail = false;
    clock.now += 30 * SECOND - 1;
    expect(models.forecast(KEY, history, cfg, STEPS, QUANTILES).unavailable?.reason).toBe('ModelFailed');
    expect(calls('Linear').fits).toBe(1);

    clock.now += 1;
    expect(models.forecast(KEY, history, cfg, STEPS, QUANTILES)).toMatchObject({ model: 'Linear', trained: true });
  });

  it('an update that throws is replaced by a fresh training', () => {
    const { create } = creating({ Linear: () => new CountingForecaster('Linear', { updateError: 'state corrupt' }) });
    // Updates during validation would fail too: train with too little history to hold horizons out.
    const short: Series = { ...history, values: history.values.slice(0, 30) };
    const { models, clock, trained } = manager({ create });
    models.forecast(KEY, short, config({ model: 'Linear' }), STEPS, QUANTILES);
    clock.now += 60_000;

    const out = models.forecast(KEY, extend(short, 1), config({ model: 'Linear' }), STEPS, QUANTILES);

    expect(out).toMatchObject({ model: 'Linear', trained: true, trainedAt: clock.now });
    expect(trained).toEqual(['Linear', 'Linear']);
  });
});

describe('ModelManager with a background trainer', () => {
  function background() {
    const trainer = new ManualTrainer();
    return { trainer, ...manager({ trainer }) };
  }

  it('reports ModelTraining until the first model is ready, then serves it with a Trained event', async () => {
    const { models, clock, trainer, settledKeys } = background();
    const startedAt = clock.now;

    const first = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(first).toMatchObject({ trained: false, unavailable: { reason: 'ModelTraining' }, training: { startedAt }, events: [] });
    expect(first.forecast).toBeUndefined();
    expect(models.trainingLoad()).toEqual({ queued: 0, running: 1 });

    clock.now += 20 * SECOND;
    const waiting = models.forecast(KEY, extend(history, 1), reactiveConfig(), STEPS, QUANTILES);
    expect(waiting).toMatchObject({ unavailable: { reason: 'ModelTraining' }, training: { startedAt } });
    expect(waiting.unavailable!.message).toContain('20s');
    expect(trainer.requests).toHaveLength(1); // forecast() never starts a second training for the key

    clock.now += 10 * SECOND;
    await trainer.finish();
    expect(settledKeys).toEqual([KEY]);

    clock.now += 5 * SECOND;
    const newer = extend(history, 2);
    const served = models.forecast(KEY, newer, reactiveConfig(), STEPS, QUANTILES);
    expect(served).toMatchObject({ model: 'HoltWinters', trained: false, trainedAt: startedAt + 30 * SECOND });
    expect(served.unavailable).toBeUndefined();
    expect(served.training).toBeUndefined();
    expect(types(served.events)).toEqual(['Trained']);
    expect(served.forecast!.start).toBe(lastTime(newer) + FIVE_MINUTES);
    expect(models.trainingLoad()).toEqual({ queued: 0, running: 0 });
  });

  it('at a retrain the previous model keeps serving until the new one takes over', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    const retraining = models.forecast(KEY, extend(history, 1), reactiveConfig(), STEPS, QUANTILES);
    expect(retraining).toMatchObject({ model: 'HoltWinters', trainedAt: first.trainedAt, training: { startedAt: clock.now }, events: [] });
    expect(retraining.forecast).toBeDefined();
    expect(trainer.requests).toHaveLength(2);

    clock.now += 60 * SECOND;
    const stillOld = models.forecast(KEY, extend(history, 2), reactiveConfig(), STEPS, QUANTILES);
    expect(stillOld).toMatchObject({ trainedAt: first.trainedAt, training: { startedAt: clock.now - 60 * SECOND } });
    expect(trainer.requests).toHaveLength(2);

    await trainer.finish();
    const renewed = models.forecast(KEY, extend(history, 3), reactiveConfig(), STEPS, QUANTILES);
    expect(renewed).toMatchObject({ model: 'HoltWinters', trainedAt: clock.now });
    expect(renewed.training).toBeUndefined();
    expect(types(renewed.events)).toEqual(['Trained']);
  });

  it('a rejected training leaves the previous model serving and is retried after a doubling backoff', async () => {
    const { models, clock, trainer, settledKeys } = background();
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    await trainer.fail('worker ran out of memory');
    expect(settledKeys).toEqual([KEY, KEY]);

    const afterFailure = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(afterFailure).toMatchObject({ model: 'HoltWinters', trainedAt: first.trainedAt });
    expect(afterFailure.forecast).toBeDefined();
    expect(afterFailure.events).toHaveLength(1);
    expect(afterFailure.events[0]).toMatchObject({ type: 'TrainingFailed' });
    const message = (afterFailure.events[0] as { message: string }).message;
    expect(message).toContain('worker ran out of memory');
    expect(message).toContain('keeps serving');

    clock.now += 30 * SECOND - 1;
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(2);
    clock.now += 1;
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(3);

    await trainer.fail('again');
    clock.now += 60 * SECOND - 1;
    expect(types(models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES).events)).toEqual(['TrainingFailed']);
    expect(trainer.requests).toHaveLength(3);
    clock.now += 1;
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(4);

    await trainer.finish();
    const recovered = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(recovered).toMatchObject({ trainedAt: clock.now });
    expect(types(recovered.events)).toEqual(['Trained']);
  });

  it('a rejected first training gives ModelFailed until the retry', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    await trainer.fail('training did not finish within 600 s');

    const out = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(out.unavailable?.reason).toBe('ModelFailed');
    expect(out.unavailable?.message).toContain('training did not finish within 600 s');
    expect(out.training).toBeUndefined();
    expect(types(out.events)).toEqual(['TrainingFailed']);

    clock.now += 30 * SECOND;
    expect(models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES).unavailable?.reason).toBe('ModelTraining');
  });

  /** A training result made of fakes, to see whether it is disposed. */
  function fakeResult(model: 'HoltWinters' | 'Linear' = 'HoltWinters') {
    const forecaster = new CountingForecaster(model);
    const fallback = new CountingForecaster('SeasonalNaive');
    forecaster.fit(history);
    fallback.fit(history);
    return { model, failures: [], forecaster, mase: 0.5, driftFallback: { model: 'SeasonalNaive' as const, forecaster: fallback }, seconds: 1 };
  }

  it('a result arriving after forget(key) is discarded and disposed', async () => {
    const { models, trainer, settledKeys } = background();
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);

    models.forget(KEY);
    const result = fakeResult();
    await trainer.finish(result);

    expect(result.forecaster.disposed).toBe(true);
    expect(result.driftFallback.forecaster.disposed).toBe(true);
    expect(settledKeys).toEqual([]);
    const out = models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    expect(out).toMatchObject({ unavailable: { reason: 'ModelTraining' }, events: [] });
    expect(trainer.requests).toHaveLength(2);
  });

  it('a result arriving after the spec changed is discarded and disposed, and the new spec trains', async () => {
    const { models, trainer, settledKeys } = background();
    models.forecast(KEY, history, reactiveConfig(), STEPS, QUANTILES);
    const changed = reactiveConfig({ seasonality: ['1d'] });
    expect(models.forecast(KEY, history, changed, STEPS, QUANTILES).unavailable?.reason).toBe('ModelTraining');

    const stale = fakeResult();
    await trainer.finish(stale);

    expect(stale.forecaster.disposed).toBe(true);
    expect(stale.driftFallback.forecaster.disposed).toBe(true);
    expect(settledKeys).toEqual([KEY]); // so that the metric is reconciled again
    const out = models.forecast(KEY, history, changed, STEPS, QUANTILES);
    expect(out.unavailable?.reason).toBe('ModelTraining');
    expect(types(out.events)).not.toContain('Trained');
    expect(trainer.requests.at(-1)!.options.seasonality).toEqual(changed.forecast.seasonality);

    await trainer.finish();
    const served = models.forecast(KEY, history, changed, STEPS, QUANTILES);
    expect(served).toMatchObject({ model: 'HoltWinters', events: [expect.objectContaining({ type: 'Trained' })] });
    expect(served.fallbackReason).toBeUndefined();
  });

  it('a training for a spec no longer wanted that fails does not hold back the new spec', async () => {
    const { models, trainer } = background();
    models.forecast(KEY, history, reactiveConfig({ model: 'Linear' }), STEPS, QUANTILES);
    models.forecast(KEY, history, reactiveConfig({ model: 'SeasonalNaive' }), STEPS, QUANTILES);

    await trainer.fail('out of memory');

    const out = models.forecast(KEY, history, reactiveConfig({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    expect(out).toMatchObject({ unavailable: { reason: 'ModelTraining' }, events: [] });
    expect(trainer.requests.map((r) => r.model)).toEqual(['Linear', 'SeasonalNaive']);
  });

  it('a result arriving after the spec changed does not replace the previous model', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, reactiveConfig({ model: 'Linear' }), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, reactiveConfig({ model: 'Linear' }), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    models.forecast(KEY, history, reactiveConfig({ model: 'Linear' }), STEPS, QUANTILES); // retrain under the old spec
    models.forecast(KEY, history, reactiveConfig({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    const stale = fakeResult('Linear');
    await trainer.finish(stale);

    const out = models.forecast(KEY, history, reactiveConfig({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    expect(stale.forecaster.disposed).toBe(true);
    expect(out).toMatchObject({ model: 'Linear', trainedAt: first.trainedAt, fallbackKind: 'ModelFailed' });
    expect(types(out.events)).not.toContain('Trained');
    expect(trainer.requests.at(-1)!.model).toBe('SeasonalNaive');
  });
});

describe('ModelManager drift', () => {
  const perDay = DAY / FIVE_MINUTES;
  const trainingPoints = 3 * perDay;
  /** Four days of the noisy daily cycle: the model trains on the first three. */
  const regular = dailySine(4, 30, 2);
  /** The same, with every point after the training history at three times its level. */
  const broken: Series = { ...regular, values: regular.values.map((v, i) => (i < trainingPoints ? v : 3 * v)) };
  const upTo = (s: Series, n: number): Series => ({ ...s, values: s.values.slice(0, n) });
  const horizonSteps = 12; // 1h at 5m
  const minSamples = horizonSteps / 2; // the default: half a window of one horizon

  /** One forecast per step, the clock advancing with the series; returns every outcome. */
  function run(models: ModelManager, clock: { now: number }, s: Series, calls: number, onEach?: (out: ModelOutcome, call: number) => void): ModelOutcome[] {
    const outcomes: ModelOutcome[] = [];
    for (let call = 1; call <= calls; call++) {
      clock.now += FIVE_MINUTES;
      const out = models.forecast(KEY, upTo(s, trainingPoints + call), config(), STEPS, QUANTILES);
      outcomes.push(out);
      onEach?.(out, call);
    }
    return outcomes;
  }

  it('a pattern break makes the model drift: the fallback serves, DriftDetected once, and a retrain clears it', async () => {
    const trainer = new ManualTrainer();
    const { models, clock } = manager({ trainer });
    models.forecast(KEY, upTo(regular, trainingPoints), config(), STEPS, QUANTILES);
    await trainer.finish();
    const trainedOutcome = models.forecast(KEY, upTo(regular, trainingPoints), config(), STEPS, QUANTILES);
    expect(trainedOutcome.mase).toBeDefined();

    // The forecast made at call k is scored at call k + horizonSteps, once all it predicted has
    // happened; drift needs minSamples scores, the first of which is the one made at training.
    const firstPossible = horizonSteps + minSamples - 1;
    const outcomes = run(models, clock, broken, firstPossible + 5);

    for (const out of outcomes.slice(0, firstPossible - 1)) {
      expect(out.drift).toBeUndefined();
      expect(out.model).toBe('HoltWinters');
    }
    const drifting = outcomes[firstPossible - 1]!;
    expect(drifting.drift).toMatchObject({ since: expect.any(Number), validationMase: trainedOutcome.mase });
    expect(drifting.drift!.liveMase).toBeGreaterThan(2 * trainedOutcome.mase!);
    expect(drifting).toMatchObject({ model: 'SeasonalNaive', fallbackKind: 'ModelDrift', requestedModel: 'HoltWinters' });
    expect(drifting.forecast!.model).toBe('SeasonalNaive');
    expect(drifting.fallbackReason).toContain('HoltWinters drifted');
    expect(drifting.training).toEqual({ startedAt: clock.now - 5 * FIVE_MINUTES });
    expect(trainer.requests).toHaveLength(2);

    const driftEvents = outcomes.flatMap((o) => o.events).filter((e) => e.type === 'DriftDetected');
    expect(driftEvents).toHaveLength(1);
    expect(types(drifting.events)).toEqual(['DriftDetected']);
    for (const out of outcomes.slice(firstPossible)) expect(out).toMatchObject({ model: 'SeasonalNaive', fallbackKind: 'ModelDrift', drift: drifting.drift });

    await trainer.finish();
    const installedAt = clock.now;
    clock.now += FIVE_MINUTES;
    const retrained = models.forecast(KEY, upTo(broken, trainingPoints + outcomes.length + 1), config(), STEPS, QUANTILES);
    expect(retrained.drift).toBeUndefined();
    expect(retrained.fallbackKind).toBeUndefined();
    expect(retrained).toMatchObject({ model: 'HoltWinters', trainedAt: installedAt });
    expect(types(retrained.events)).toEqual(['Trained']);
  });

  it('with the inline trainer the retrain after drift happens in the same call', () => {
    const { models, clock } = manager();
    models.forecast(KEY, upTo(regular, trainingPoints), config(), STEPS, QUANTILES);

    const outcomes = run(models, clock, broken, horizonSteps + minSamples + 2);
    const drifted = outcomes.findIndex((o) => o.events.some((e) => e.type === 'DriftDetected'));

    expect(drifted).toBe(horizonSteps + minSamples - 2);
    const out = outcomes[drifted]!;
    expect(types(out.events)).toEqual(['DriftDetected', 'Trained']);
    expect(out).toMatchObject({ model: 'HoltWinters', trained: true, trainedAt: clock.now - (outcomes.length - 1 - drifted) * FIVE_MINUTES });
    expect(out.drift).toBeUndefined();
    expect(outcomes.flatMap((o) => o.events).filter((e) => e.type === 'DriftDetected')).toHaveLength(1);
  });

  it('a series that keeps its pattern never drifts, and its live error is reported', () => {
    const { models, clock } = manager();
    const trained = models.forecast(KEY, upTo(regular, trainingPoints), config(), STEPS, QUANTILES);

    const outcomes = run(models, clock, regular, 4 * horizonSteps);

    for (const out of outcomes) {
      expect(out.drift).toBeUndefined();
      expect(out.fallbackKind).toBeUndefined();
      expect(out.events).toEqual([]);
    }
    const last = outcomes.at(-1)!;
    expect(last.liveMase).toBeGreaterThan(0);
    expect(last.liveMase!).toBeLessThan(2 * trained.mase!);
  });
});

describe('ModelManager persistence', () => {
  const cfg = config();

  /** A manager that trained on `history` and saved its model; returns that first forecast. */
  async function trainAndSave(persistence = new MemoryPersistence()) {
    const original = manager();
    const out = original.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    expect(out.trained).toBe(true);
    await settled();
    return { persistence, out, clock: original.clock };
  }

  it('saves the model after installing it', async () => {
    const { persistence, out } = await trainAndSave();

    expect(persistence.saves).toBe(1);
    expect(persistence.record).toMatchObject({ model: 'HoltWinters', requested: 'HoltWinters', failures: [], trainedAt: out.trainedAt, mase: out.mase });
    expect(persistence.record!.state.model).toBe('HoltWinters');
    expect(persistence.record!.driftFallback?.model).toBe('SeasonalNaive');
  });

  it('a saved model restores into a new manager and serves without training, forecasting as the original', async () => {
    const { persistence, out, clock } = await trainAndSave();
    const restarted = manager();
    restarted.clock.now = clock.now + 60_000;
    expect(restarted.models.needsRestore(KEY)).toBe(true);

    await expect(restarted.models.restore(KEY, cfg, persistence)).resolves.toEqual({ restored: true, model: 'HoltWinters', trainedAt: out.trainedAt });
    expect(restarted.models.needsRestore(KEY)).toBe(false);

    const served = restarted.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    expect(served).toMatchObject({ model: 'HoltWinters', trained: false, trainedAt: out.trainedAt, mase: out.mase });
    expect(served.events).toEqual([{ type: 'Restored', model: 'HoltWinters', trainedAt: out.trainedAt }]);
    expect(served.forecast).toEqual(out.forecast);
    expect(restarted.trained).toEqual([]);
    expect(persistence.saves).toBe(1);

    // It is retrained when it is due, counting from when it was trained, not restored.
    restarted.clock.now = out.trainedAt! + 6 * HOUR;
    expect(restarted.models.forecast(KEY, extend(history, 1), cfg, STEPS, QUANTILES).trained).toBe(true);
  });

  it.each<{ what: string; tamper: (r: ModelRecord) => void; restoreWith?: ScalerConfig; reason: RegExp }>([
    { what: 'trained under other spec.forecast settings', tamper: () => {}, restoreWith: config({ seasonality: ['1d'] }), reason: /other spec.forecast settings/ },
    { what: 'of another record format', tamper: (r) => Object.assign(r, { format: 2 }), reason: /format 2/ },
    { what: 'with a state that does not load', tamper: (r) => Object.assign(r, { state: { model: 'HoltWinters', format: 1 } }), reason: /does not load/ },
    {
      what: 'with a drift fallback that does not load',
      tamper: (r) => Object.assign(r, { driftFallback: { model: 'SeasonalNaive', state: { model: 'SeasonalNaive', format: 1 } } }),
      reason: /does not load/,
    },
  ])('a record $what is discarded and the manager trains afresh', async ({ tamper, restoreWith = cfg, reason }) => {
    const { persistence } = await trainAndSave();
    tamper(persistence.record!);
    const restarted = manager();

    const outcome = await restarted.models.restore(KEY, restoreWith, persistence);

    expect(outcome).toEqual({ discarded: expect.stringMatching(reason) });
    expect(persistence.discarded).toEqual([(outcome as { discarded: string }).discarded]);
    expect(persistence.record).toBeUndefined();
    expect(restarted.models.needsRestore(KEY)).toBe(false);
    const out = restarted.models.forecast(KEY, history, restoreWith, STEPS, QUANTILES);
    expect(out.trained).toBe(true);
    expect(types(out.events)).toEqual(['Trained']);
  });

  it('a load that throws propagates and leaves the key to restore again', async () => {
    const { persistence, out } = await trainAndSave();
    persistence.loadError = new Error('apiserver unavailable');
    const restarted = manager();

    await expect(restarted.models.restore(KEY, cfg, persistence)).rejects.toThrow('apiserver unavailable');
    expect(restarted.models.needsRestore(KEY)).toBe(true);
    expect(persistence.discarded).toEqual([]);

    persistence.loadError = undefined;
    await expect(restarted.models.restore(KEY, cfg, persistence)).resolves.toMatchObject({ restored: true, trainedAt: out.trainedAt });
  });

  it('nothing saved: restore settles as missing', async () => {
    const { models } = manager();
    await expect(models.restore(KEY, cfg, new MemoryPersistence())).resolves.toEqual({ missing: true });
    expect(models.needsRestore(KEY)).toBe(false);
  });

  it('restore is skipped once a model serves', async () => {
    const { persistence } = await trainAndSave();
    const { models } = manager();
    models.forecast(KEY, history, cfg, STEPS, QUANTILES);
    expect(models.needsRestore(KEY)).toBe(false);
    await expect(models.restore(KEY, cfg, persistence)).resolves.toEqual({ skipped: true });
  });

  it('a save that fails is reported as PersistFailed on the next outcome', async () => {
    const persistence = new MemoryPersistence();
    persistence.save = () => Promise.reject(new Error('conflict'));
    const { models, clock } = manager();
    models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    await settled();

    clock.now += 60_000;
    const out = models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    expect(out.events).toEqual([{ type: 'PersistFailed', message: 'conflict' }]);
  });
});

describe('ModelManager restore of forged and broken records', () => {
  const cfg = config();

  async function saved() {
    const persistence = new MemoryPersistence();
    const original = manager();
    original.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    await settled();
    return { persistence, record: persistence.record!, clock: original.clock };
  }

  /** Restores `tampered` into a fresh manager: it must be discarded naming `reason`, and the key must train. */
  async function expectDiscarded(persistence: MemoryPersistence, tampered: unknown, reason: RegExp) {
    persistence.record = tampered as ModelRecord;
    const restarted = manager();
    const outcome = await restarted.models.restore(KEY, cfg, persistence);
    expect(outcome).toEqual({ discarded: expect.stringMatching(reason) });
    expect(persistence.discarded).toEqual([(outcome as { discarded: string }).discarded]);
    const out = restarted.models.forecast(KEY, history, cfg, STEPS, QUANTILES);
    expect(out.trained).toBe(true);
    expect(types(out.events)).toEqual(['Trained']);
  }

  const base64Of = (values: number[]) => Buffer.from(new Float64Array(values).buffer).toString('base64');

  it.each<{ what: string; tamper: (r: Record<string, unknown>, now: number) => unknown; reason: RegExp }>([
    { what: 'null', tamper: () => null, reason: /saved record is null, not an object/ },
    { what: 'a list', tamper: (r) => [r], reason: /not an object/ },
    { what: 'a string', tamper: () => 'HoltWinters', reason: /not an object/ },
    { what: 'a format as a string', tamper: (r) => ({ ...r, format: '1' }), reason: /format "1" is not 1/ },
    { what: 'a configKey as an object', tamper: (r) => ({ ...r, configKey: { model: 'HoltWinters' } }), reason: /other spec.forecast settings/ },
    { what: 'an unknown field', tamper: (r) => ({ ...r, pinnedReplicas: 50 }), reason: /record\."pinnedReplicas" is not a field/ },
    { what: 'another requested model', tamper: (r) => ({ ...r, requested: 'LSTM' }), reason: /record.requested is "LSTM", the spec asks for HoltWinters/ },
    { what: 'a model that is no fallback of the requested one', tamper: (r) => ({ ...r, model: 'LSTM' }), reason: /record.model is "LSTM", not one of HoltWinters, SeasonalNaive, Linear/ },
    { what: 'a model of no such name', tamper: (r) => ({ ...r, model: 'Oracle' }), reason: /record.model is "Oracle"/ },
    { what: 'a model as a number', tamper: (r) => ({ ...r, model: 7 }), reason: /record.model is 7/ },
    { what: 'failures as a string', tamper: (r) => ({ ...r, failures: 'none' }), reason: /record.failures must be a list/ },
    { what: 'too many failures', tamper: (r) => ({ ...r, failures: ['a', 'b', 'c', 'd'] }), reason: /record.failures must be a list of fewer than 3/ },
    { what: 'a failure that is a number', tamper: (r) => ({ ...r, failures: [1] }), reason: /record.failures\[0\] must be a string/ },
    { what: 'an oversized failure', tamper: (r) => ({ ...r, failures: ['x'.repeat(5000)] }), reason: /record.failures\[0\] must be a string of at most 4096/ },
    { what: 'trainedAt far in the future (would never retrain)', tamper: (r, now) => ({ ...r, trainedAt: now + 365 * 24 * HOUR }), reason: /record.trainedAt is \d+, not a time/ },
    { what: 'trainedAt as a string', tamper: (r) => ({ ...r, trainedAt: '2026-01-09' }), reason: /record.trainedAt is "2026-01-09"/ },
    { what: 'trainedAt negative', tamper: (r) => ({ ...r, trainedAt: -1 }), reason: /record.trainedAt is -1/ },
    { what: 'trainedAt fractional', tamper: (r) => ({ ...r, trainedAt: 1.5 }), reason: /record.trainedAt is 1.5/ },
    { what: 'trainedAt missing', tamper: ({ trainedAt: _t, ...r }) => r, reason: /record.trainedAt is missing/ },
    { what: 'a negative mase', tamper: (r) => ({ ...r, mase: -0.5 }), reason: /record.mase is -0.5/ },
    { what: 'a mase as a string', tamper: (r) => ({ ...r, mase: '0.5' }), reason: /record.mase is "0.5"/ },
    { what: 'a huge mase (drift never detected)', tamper: (r) => ({ ...r, mase: 1e300 }), reason: /record.mase is 1e\+300/ },
    { what: 'no state', tamper: ({ state: _s, ...r }) => r, reason: /record.state must be an object/ },
    { what: 'a state of another model', tamper: (r) => ({ ...r, state: { model: 'Linear', format: 1 } }), reason: /record.state.model is "Linear", not HoltWinters/ },
    { what: 'a state format as a string', tamper: (r) => ({ ...r, state: { ...(r.state as object), format: '1' } }), reason: /record.state.format is "1"/ },
    { what: 'a drift fallback as a list', tamper: (r) => ({ ...r, driftFallback: [] }), reason: /record.driftFallback must be an object/ },
    { what: 'a drift fallback that is the model itself', tamper: (r) => ({ ...r, driftFallback: { model: 'HoltWinters', state: r.state } }), reason: /record.driftFallback.model is "HoltWinters", not one of SeasonalNaive, Linear/ },
    { what: 'a drift fallback state of another model', tamper: (r) => ({ ...r, driftFallback: { model: 'Linear', state: r.state } }), reason: /record.driftFallback.state.model is "HoltWinters", not Linear/ },
  ])('a record that is $what is discarded with the field named, and the key trains', async ({ tamper, reason }) => {
    const { persistence, record, clock } = await saved();
    await expectDiscarded(persistence, tamper(record as Record<string, unknown>, clock.now), reason);
  });

  it.each<{ what: string; state: (s: Record<string, unknown>) => Record<string, unknown>; reason: RegExp }>([
    { what: 'a smoothing parameter above 1', state: (s) => ({ ...s, params: { ...(s.params as object), alpha: 1.5 } }), reason: /params.alpha must be at most/ },
    { what: 'a smoothing parameter that is NaN-like', state: (s) => ({ ...s, params: { ...(s.params as object), alpha: 'NaN' } }), reason: /params.alpha must be a finite number/ },
    { what: 'a truncated season', state: (s) => ({ ...s, season: (s.season as string).slice(0, -8) }), reason: /season/ },
    { what: 'a season of another length than its period', state: (s) => ({ ...s, season: base64Of([1, 2, 3]) }), reason: /season holds 3 values, expected/ },
    { what: 'an oversized residual list', state: (s) => ({ ...s, sortedResiduals: 'AAAA'.repeat(700_000) }), reason: /sortedResiduals holds more than 262144 values/ },
    { what: 'unsorted residuals', state: (s) => ({ ...s, sortedResiduals: base64Of([3, 1, 2]) }), reason: /sortedResiduals must be sorted/ },
    { what: 'a level that is not a number', state: (s) => ({ ...s, level: null }), reason: /level must be a finite number/ },
    { what: 'a fractional period', state: (s) => ({ ...s, period: 1.5 }), reason: /period must be an integer/ },
    { what: 'a level and trend whose forecast overflows', state: (s) => ({ ...s, level: 1.7e308, trend: 1.7e308 }), reason: /level must be at most 1e\+100/ },
  ])('a record whose state has $what does not load, and the key trains', async ({ state, reason }) => {
    const { persistence, record } = await saved();
    await expectDiscarded(persistence, { ...record, state: state(record.state as Record<string, unknown>) }, reason);
  });

  it.each<{ what: string; state: (s: Record<string, unknown>) => Record<string, unknown>; reason: RegExp }>([
    { what: 'far above the history', state: (s) => ({ ...s, level: 1e9 }), reason: /mean forecast is [\d.e+]+ at step 1, far outside the history's range/ },
  ])('a well-formed record whose forecast of the current history is $what is discarded at its first forecast and retrained', async ({ state, reason }) => {
    const { persistence, record } = await saved();
    const forged = state(record.state as Record<string, unknown>);
    persistence.record = { ...record, state: forged } as ModelRecord;
    const restarted = manager();
    await expect(restarted.models.restore(KEY, cfg, persistence)).resolves.toMatchObject({ restored: true });

    const out = restarted.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    await settled();

    expect(types(out.events)).toEqual(['Restored', 'RestoreDiscarded', 'Trained']);
    const discarded = out.events.find((e) => e.type === 'RestoreDiscarded') as { message: string };
    expect(discarded.message).toMatch(reason);
    expect(persistence.discarded).toHaveLength(1);
    expect(persistence.discarded[0]).toMatch(reason);
    expect(out).toMatchObject({ model: 'HoltWinters', trained: true });
    const max = Math.max(...history.values);
    expect(Math.max(...out.forecast!.mean)).toBeLessThan(2 * max);
    // The retrained model was saved in place of the discarded one.
    expect(persistence.saves).toBe(2);
    expect(persistence.record?.state).not.toEqual(forged);
  });

  it('a drift fallback whose forecast is not finite discards the whole record', async () => {
    const { persistence, record } = await saved();
    class NotFinite extends CountingForecaster {
      override predict(steps: number, quantiles: number[]) {
        const forecast = super.predict(steps, quantiles);
        return { ...forecast, mean: forecast.mean.map(() => Number.NaN) };
      }
    }
    const { create } = creating({ SeasonalNaive: () => new NotFinite('SeasonalNaive') });
    persistence.record = { ...record, driftFallback: { model: 'SeasonalNaive', state: { model: 'SeasonalNaive', format: 1 } } };
    const restarted = manager({ create });
    await expect(restarted.models.restore(KEY, cfg, persistence)).resolves.toMatchObject({ restored: true });
    const out = restarted.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    expect(types(out.events)).toEqual(['Restored', 'RestoreDiscarded', 'Trained']);
    expect(persistence.discarded[0]).toMatch(/drift fallback SeasonalNaive: its mean forecast is not finite at step 1/);
  });

  it('a genuine record passes the forecast check once and then serves as before', async () => {
    const { persistence } = await saved();
    const restarted = manager();
    await restarted.models.restore(KEY, cfg, persistence);
    const first = restarted.models.forecast(KEY, history, cfg, STEPS, QUANTILES, persistence);
    const second = restarted.models.forecast(KEY, extend(history, 1), cfg, STEPS, QUANTILES, persistence);
    expect(types(first.events)).toEqual(['Restored']);
    expect(first.trained || second.trained).toBe(false);
    expect(persistence.discarded).toEqual([]);
  });
});

describe('ModelManager background trainings never leave a rejection unhandled', () => {
  it('a training rejected with a non-Error is a TrainingFailed naming it', async () => {
    const trainer = new ManualTrainer();
    const { models } = manager({ trainer });
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    trainer.jobs.shift()!.reject('worker crashed' as unknown as Error);
    await settled();
    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(out.events).toEqual([{ type: 'TrainingFailed', message: expect.stringContaining('worker crashed') }]);
  });

  it('a result that cannot be installed is logged, and the key trains again later', async () => {
    const trainer = new ManualTrainer();
    const errors: string[] = [];
    const logger = { error: (fields: object, message: string) => void errors.push(`${message} ${JSON.stringify(fields)}`) };
    const settledKeys: string[] = [];
    const { models } = manager({
      trainer,
      logger,
      onTrained: () => {
        throw new Error('metrics registry gone');
      },
      onTrainingSettled: (key) => {
        settledKeys.push(key);
        throw new Error('queue closed');
      },
    });
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    await trainer.finish();
    expect(errors).toEqual([expect.stringContaining('metrics registry gone'), expect.stringContaining('queue closed')]);
    expect(settledKeys).toEqual([KEY]);
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(2);
  });
});

