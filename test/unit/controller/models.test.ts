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

    const out = models.forecast(KEY, series, config(forecast as ForecastSpec), STEPS, QUANTILES);

    expect(out).toMatchObject({ trained: false, events: [] });
    expect(out.forecast).toBeUndefined();
    expect(out.unavailable?.reason).toBe('InsufficientHistory');
    expect(out.unavailable?.message).toContain(`${need} points`);
    expect(out.unavailable?.message).toContain(`have ${have}`);
    expect(trained).toEqual([]);
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
    expect(models.forecast(KEY, short, config(), STEPS, QUANTILES).unavailable?.reason).toBe('InsufficientHistory');

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

    const first = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(first).toMatchObject({ trained: false, unavailable: { reason: 'ModelTraining' }, training: { startedAt }, events: [] });
    expect(first.forecast).toBeUndefined();
    expect(models.trainingLoad()).toEqual({ queued: 0, running: 1 });

    clock.now += 20 * SECOND;
    const waiting = models.forecast(KEY, extend(history, 1), config(), STEPS, QUANTILES);
    expect(waiting).toMatchObject({ unavailable: { reason: 'ModelTraining' }, training: { startedAt } });
    expect(waiting.unavailable!.message).toContain('20s');
    expect(trainer.requests).toHaveLength(1); // forecast() never starts a second training for the key

    clock.now += 10 * SECOND;
    await trainer.finish();
    expect(settledKeys).toEqual([KEY]);

    clock.now += 5 * SECOND;
    const newer = extend(history, 2);
    const served = models.forecast(KEY, newer, config(), STEPS, QUANTILES);
    expect(served).toMatchObject({ model: 'HoltWinters', trained: false, trainedAt: startedAt + 30 * SECOND });
    expect(served.unavailable).toBeUndefined();
    expect(served.training).toBeUndefined();
    expect(types(served.events)).toEqual(['Trained']);
    expect(served.forecast!.start).toBe(lastTime(newer) + FIVE_MINUTES);
    expect(models.trainingLoad()).toEqual({ queued: 0, running: 0 });
  });

  it('at a retrain the previous model keeps serving until the new one takes over', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    const retraining = models.forecast(KEY, extend(history, 1), config(), STEPS, QUANTILES);
    expect(retraining).toMatchObject({ model: 'HoltWinters', trainedAt: first.trainedAt, training: { startedAt: clock.now }, events: [] });
    expect(retraining.forecast).toBeDefined();
    expect(trainer.requests).toHaveLength(2);

    clock.now += 60 * SECOND;
    const stillOld = models.forecast(KEY, extend(history, 2), config(), STEPS, QUANTILES);
    expect(stillOld).toMatchObject({ trainedAt: first.trainedAt, training: { startedAt: clock.now - 60 * SECOND } });
    expect(trainer.requests).toHaveLength(2);

    await trainer.finish();
    const renewed = models.forecast(KEY, extend(history, 3), config(), STEPS, QUANTILES);
    expect(renewed).toMatchObject({ model: 'HoltWinters', trainedAt: clock.now });
    expect(renewed.training).toBeUndefined();
    expect(types(renewed.events)).toEqual(['Trained']);
  });

  it('a rejected training leaves the previous model serving and is retried after a doubling backoff', async () => {
    const { models, clock, trainer, settledKeys } = background();
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, config(), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    await trainer.fail('worker ran out of memory');
    expect(settledKeys).toEqual([KEY, KEY]);

    const afterFailure = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(afterFailure).toMatchObject({ model: 'HoltWinters', trainedAt: first.trainedAt });
    expect(afterFailure.forecast).toBeDefined();
    expect(afterFailure.events).toHaveLength(1);
    expect(afterFailure.events[0]).toMatchObject({ type: 'TrainingFailed' });
    const message = (afterFailure.events[0] as { message: string }).message;
    expect(message).toContain('worker ran out of memory');
    expect(message).toContain('keeps serving');

    clock.now += 30 * SECOND - 1;
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(2);
    clock.now += 1;
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(3);

    await trainer.fail('again');
    clock.now += 60 * SECOND - 1;
    expect(types(models.forecast(KEY, history, config(), STEPS, QUANTILES).events)).toEqual(['TrainingFailed']);
    expect(trainer.requests).toHaveLength(3);
    clock.now += 1;
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(trainer.requests).toHaveLength(4);

    await trainer.finish();
    const recovered = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(recovered).toMatchObject({ trainedAt: clock.now });
    expect(types(recovered.events)).toEqual(['Trained']);
  });

  it('a rejected first training gives ModelFailed until the retry', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    await trainer.fail('training did not finish within 600 s');

    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(out.unavailable?.reason).toBe('ModelFailed');
    expect(out.unavailable?.message).toContain('training did not finish within 600 s');
    expect(out.training).toBeUndefined();
    expect(types(out.events)).toEqual(['TrainingFailed']);

    clock.now += 30 * SECOND;
    expect(models.forecast(KEY, history, config(), STEPS, QUANTILES).unavailable?.reason).toBe('ModelTraining');
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
    models.forecast(KEY, history, config(), STEPS, QUANTILES);

    models.forget(KEY);
    const result = fakeResult();
    await trainer.finish(result);

    expect(result.forecaster.disposed).toBe(true);
    expect(result.driftFallback.forecaster.disposed).toBe(true);
    expect(settledKeys).toEqual([]);
    const out = models.forecast(KEY, history, config(), STEPS, QUANTILES);
    expect(out).toMatchObject({ unavailable: { reason: 'ModelTraining' }, events: [] });
    expect(trainer.requests).toHaveLength(2);
  });

  it('a result arriving after the spec changed is discarded and disposed, and the new spec trains', async () => {
    const { models, trainer, settledKeys } = background();
    models.forecast(KEY, history, config(), STEPS, QUANTILES);
    const changed = config({ seasonality: ['1d'] });
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
    models.forecast(KEY, history, config({ model: 'Linear' }), STEPS, QUANTILES);
    models.forecast(KEY, history, config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);

    await trainer.fail('out of memory');

    const out = models.forecast(KEY, history, config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    expect(out).toMatchObject({ unavailable: { reason: 'ModelTraining' }, events: [] });
    expect(trainer.requests.map((r) => r.model)).toEqual(['Linear', 'SeasonalNaive']);
  });

  it('a result arriving after the spec changed does not replace the previous model', async () => {
    const { models, clock, trainer } = background();
    models.forecast(KEY, history, config({ model: 'Linear' }), STEPS, QUANTILES);
    await trainer.finish();
    const first = models.forecast(KEY, history, config({ model: 'Linear' }), STEPS, QUANTILES);

    clock.now = first.trainedAt! + 6 * HOUR;
    models.forecast(KEY, history, config({ model: 'Linear' }), STEPS, QUANTILES); // retrain under the old spec
    models.forecast(KEY, history, config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    const stale = fakeResult('Linear');
    await trainer.finish(stale);

    const out = models.forecast(KEY, history, config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
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
      tamper: (r) => Object.assign(r, { driftFallback: { model: 'SeasonalNaive', state: { model: 'Linear', format: 1 } } }),
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
