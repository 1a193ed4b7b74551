import { describe, expect, it } from 'vitest';
import { toScalerConfig, type ScalerConfig } from '../../../src/api/config.js';
import type { ForecastSpec, ModelName } from '../../../src/api/types.js';
import { ModelManager, type ModelManagerOptions } from '../../../src/controller/models.js';
import { createForecaster, resolveModel } from '../../../src/forecast/registry.js';
import type { Forecast, Forecaster, ForecasterOptions, Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, dailySine } from '../forecast/fixtures.js';

const HOUR = 3_600_000;
const QUANTILES = [0.05, 0.5, 0.9, 0.95];
const STEPS = 12;

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

/** A manager on a hand-driven clock that records every fit it reports. */
function manager(overrides: Partial<ModelManagerOptions> = {}) {
  const clock = { now: Date.UTC(2026, 0, 9) };
  const trained: string[] = [];
  const models = new ModelManager({
    now: () => clock.now,
    onTrained: (model, seconds) => {
      expect(seconds).toBeGreaterThanOrEqual(0);
      trained.push(model);
    },
    ...overrides,
  });
  return { models, clock, trained };
}

/** A forecaster that counts its calls; predicts the last value flat. */
class FakeForecaster implements Forecaster {
  fits = 0;
  updates = 0;
  private series: Series | undefined;

  constructor(
    readonly name: string,
    private readonly behaviour: { minPoints?: number; fitError?: string; updateError?: string; withUpdate?: boolean } = {},
  ) {
    if (behaviour.withUpdate === false) this.update = undefined;
  }

  minHistoryPoints(): number {
    return this.behaviour.minPoints ?? 3;
  }

  fit(series: Series): void {
    this.fits++;
    if (this.behaviour.fitError) throw new Error(this.behaviour.fitError);
    this.series = series;
  }

  update?(series: Series): void {
    this.updates++;
    if (this.behaviour.updateError) throw new Error(this.behaviour.updateError);
    this.series = series;
  }

  predict(steps: number, quantiles: number[]): Forecast {
    const s = this.series!;
    const last = s.values.at(-1)!;
    const mean = new Array<number>(steps).fill(last);
    return { model: this.name, start: s.start + s.values.length * s.stepMs, stepMs: s.stepMs, mean, quantiles: quantiles.map((q) => ({ q, values: mean })) };
  }

  describe(): Record<string, unknown> {
    return { fake: this.name };
  }
}

/** A `create` that hands out fakes for some models and the real forecasters for the rest. */
function creating(fakes: Partial<Record<ModelName, () => Forecaster>>) {
  const created: Forecaster[] = [];
  const create = (model: ModelName, options?: ForecasterOptions): Forecaster => {
    const f = fakes[model]?.() ?? createForecaster(model, options);
    created.push(f);
    return f;
  };
  return { create, created };
}

describe('ModelManager with the statistical forecasters', () => {
  const history = dailySine(3, 30, 2);

  it('trains on the first call and forecasts right after the series', () => {
    const { models, clock, trained } = manager();

    const out = models.forecast('ns/web/rps', history, config(), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'HoltWinters', model: 'HoltWinters', trained: true, trainedAt: clock.now });
    expect(out.fallbackReason).toBeUndefined();
    expect(out.unavailable).toBeUndefined();
    expect(trained).toEqual(['HoltWinters']);
    const f = out.forecast!;
    expect(f.start).toBe(lastTime(history) + FIVE_MINUTES);
    expect(f.mean).toHaveLength(STEPS);
    expect(f.quantiles.map((q) => q.q)).toEqual(QUANTILES);
    expect(out.details).toMatchObject({ model: 'HoltWinters', seasonSteps: 288 });
  });

  it('within retrainEvery only updates, and the forecast starts after the newer series', () => {
    const { models, clock, trained } = manager();
    const first = models.forecast('k', history, config(), STEPS, QUANTILES);

    clock.now += 10 * 60_000;
    const newer = extend(history, 2);
    const second = models.forecast('k', newer, config(), STEPS, QUANTILES);

    expect(second.trained).toBe(false);
    expect(second.trainedAt).toBe(first.trainedAt);
    expect(trained).toEqual(['HoltWinters']);
    expect(second.forecast!.start).toBe(lastTime(newer) + FIVE_MINUTES);
    expect(second.forecast!.start).toBe(first.forecast!.start + 2 * FIVE_MINUTES);
  });

  it('retrains once retrainEvery has passed', () => {
    const { models, clock, trained } = manager();
    models.forecast('k', history, config(), STEPS, QUANTILES);

    clock.now += 6 * HOUR - 1;
    expect(models.forecast('k', extend(history, 1), config(), STEPS, QUANTILES).trained).toBe(false);
    clock.now += 1;
    const out = models.forecast('k', extend(history, 2), config(), STEPS, QUANTILES);

    expect(out.trained).toBe(true);
    expect(out.trainedAt).toBe(clock.now);
    expect(trained).toEqual(['HoltWinters', 'HoltWinters']);
  });

  it('retrains when the seasonality changes', () => {
    const { models, clock } = manager();
    models.forecast('k', history, config({ seasonality: 'Auto' }), STEPS, QUANTILES);

    clock.now += 60_000;
    const out = models.forecast('k', history, config({ seasonality: ['1d'] }), STEPS, QUANTILES);

    expect(out.trained).toBe(true);
    expect(out.trainedAt).toBe(clock.now);
  });

  it('retrains when the requested model changes', () => {
    const { models, clock, trained } = manager();
    models.forecast('k', history, config({ model: 'HoltWinters' }), STEPS, QUANTILES);

    clock.now += 60_000;
    const out = models.forecast('k', history, config({ model: 'Linear' }), STEPS, QUANTILES);

    expect(out).toMatchObject({ model: 'Linear', trained: true });
    expect(trained).toEqual(['HoltWinters', 'Linear']);
  });

  it.each<ModelName>(['LSTM'])('serves %s with HoltWinters and the reason from resolveModel', (requested) => {
    const { models } = manager();

    const out = models.forecast('k', history, config({ model: requested }), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: requested, model: 'HoltWinters', trained: true });
    expect(out.fallbackReason).toBe(resolveModel(requested).fallbackReason);
    expect(out.fallbackReason).toMatch(/not available/);
    expect(out.forecast).toBeDefined();
  });

  it('serves the Ensemble itself, with each member weighted by its validation error', () => {
    const { models } = manager();
    const out = models.forecast('k', dailySine(3, 30, 3), config({ model: 'Ensemble', seasonality: ['1d'] }), STEPS, QUANTILES);
    expect(out).toMatchObject({ requestedModel: 'Ensemble', model: 'Ensemble', trained: true });
    expect(out.fallbackReason).toBeUndefined();
    const members = out.details!.members as { name: string; weight: number; mase?: number }[];
    expect(members.map((m) => m.name)).toEqual(['HoltWinters', 'SeasonalNaive', 'Linear']);
    expect(members.reduce((s, m) => s + m.weight, 0)).toBeCloseTo(1, 9);
    // The model that can follow the daily cycle carries the most weight.
    const hw = members.find((m) => m.name === 'HoltWinters')!;
    for (const m of members) expect(hw.weight).toBeGreaterThanOrEqual(m.weight);
    expect(out.mase).toBeGreaterThan(0);
  });

  it('keeps the resolveModel reason on updates between retrains', () => {
    const { models, clock } = manager();
    models.forecast('k', history, config({ model: 'LSTM' }), STEPS, QUANTILES);
    clock.now += 60_000;

    const out = models.forecast('k', extend(history, 1), config({ model: 'LSTM' }), STEPS, QUANTILES);

    expect(out.trained).toBe(false);
    expect(out.fallbackReason).toBe(resolveModel('LSTM').fallbackReason);
  });

  it.each<[ModelName, ModelName]>([
    ['LSTM', 'HoltWinters'],
    ['HoltWinters', 'LSTM'],
  ])('switching the requested model from %s to %s refits, so the fallback reason follows the spec', (from, to) => {
    const { models, clock } = manager();
    models.forecast('k', history, config({ model: from }), STEPS, QUANTILES);
    clock.now += 60_000;

    const out = models.forecast('k', history, config({ model: to }), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: to, model: 'HoltWinters', trained: true });
    expect(out.fallbackReason).toBe(resolveModel(to).fallbackReason);
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

    const out = models.forecast('k', series, config(forecast as ForecastSpec), STEPS, QUANTILES);

    expect(out.trained).toBe(false);
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

    const out = models.forecast('k', series, config({ model: 'Linear', horizon: '1h' }), STEPS, QUANTILES);

    expect(out.unavailable).toBeUndefined();
    expect(out.trained).toBe(true);
  });

  it('after losing history a model that had been trained becomes unavailable, and trains afresh later', () => {
    const { models, clock, trained } = manager();
    models.forecast('k', history, config(), STEPS, QUANTILES);

    // Even between retrains: the update cannot use a series this short, and no refit is possible.
    clock.now += 60_000;
    const short: Series = { ...history, values: history.values.slice(0, 10) };
    const out = models.forecast('k', short, config(), STEPS, QUANTILES);
    expect(out.unavailable?.reason).toBe('InsufficientHistory');

    clock.now += 60_000;
    expect(models.forecast('k', history, config(), STEPS, QUANTILES).trained).toBe(true);
    expect(trained).toEqual(['HoltWinters', 'HoltWinters']);
  });
});

describe('ModelManager fallbacks and failures', () => {
  const history = dailySine(3, 30, 2);

  it('a model whose fit throws falls back to the next in the chain, with a fallbackReason', () => {
    const { create } = creating({ HoltWinters: () => new FakeForecaster('HoltWinters', { fitError: 'optimizer diverged' }) });
    const { models, trained } = manager({ create });

    const out = models.forecast('k', history, config(), STEPS, QUANTILES);

    expect(out).toMatchObject({ requestedModel: 'HoltWinters', model: 'SeasonalNaive', trained: true });
    expect(out.fallbackReason).toContain('HoltWinters failed');
    expect(out.fallbackReason).toContain('optimizer diverged');
    expect(out.fallbackReason).toContain('using SeasonalNaive');
    expect(out.forecast!.start).toBe(lastTime(history) + FIVE_MINUTES);
    expect(trained).toEqual(['SeasonalNaive']);
  });

  it('falls back two steps when the first two models fail', () => {
    const { create } = creating({
      HoltWinters: () => new FakeForecaster('HoltWinters', { fitError: 'hw broke' }),
      SeasonalNaive: () => new FakeForecaster('SeasonalNaive', { fitError: 'sn broke' }),
    });
    const { models } = manager({ create });

    const out = models.forecast('k', history, config(), STEPS, QUANTILES);

    expect(out.model).toBe('Linear');
    expect(out.fallbackReason).toMatch(/hw broke.*sn broke.*using Linear/);
  });

  it('stays on the fallback between retrains, keeping its reason', () => {
    const { create } = creating({ HoltWinters: () => new FakeForecaster('HoltWinters', { fitError: 'boom' }) });
    const { models, clock } = manager({ create });
    const first = models.forecast('k', history, config(), STEPS, QUANTILES);

    clock.now += 60_000;
    const second = models.forecast('k', extend(history, 1), config(), STEPS, QUANTILES);

    expect(second).toMatchObject({ model: 'SeasonalNaive', trained: false, fallbackReason: first.fallbackReason });
  });

  it('every model failing gives ModelFailed naming each failure', () => {
    const { create } = creating({
      HoltWinters: () => new FakeForecaster('HoltWinters', { fitError: 'e1' }),
      SeasonalNaive: () => new FakeForecaster('SeasonalNaive', { fitError: 'e2' }),
      Linear: () => new FakeForecaster('Linear', { fitError: 'e3' }),
    });
    const { models, trained } = manager({ create });

    const out = models.forecast('k', history, config(), STEPS, QUANTILES);

    expect(out.trained).toBe(false);
    expect(out.forecast).toBeUndefined();
    expect(out.unavailable?.reason).toBe('ModelFailed');
    expect(out.unavailable?.message).toMatch(/HoltWinters: e1.*SeasonalNaive: e2.*Linear: e3/);
    expect(trained).toEqual([]);
  });

  it('after a failure nothing is cached: the next call fits again', () => {
    let fail = true;
    const fake = () => new FakeForecaster('Linear', fail ? { fitError: 'nope' } : {});
    const { create } = creating({ Linear: fake });
    const { models, clock } = manager({ create });
    expect(models.forecast('k', history, config({ model: 'Linear' }), STEPS, QUANTILES).unavailable?.reason).toBe('ModelFailed');

    fail = false;
    clock.now += 60_000;
    expect(models.forecast('k', history, config({ model: 'Linear' }), STEPS, QUANTILES)).toMatchObject({ model: 'Linear', trained: true });
  });

  it('between retrains it calls update, not fit; a model without update is re-fitted instead', () => {
    const { create, created } = creating({
      Linear: () => new FakeForecaster('Linear'),
      SeasonalNaive: () => new FakeForecaster('SeasonalNaive', { withUpdate: false }),
    });
    const { models, clock } = manager({ create });
    models.forecast('lin', history, config({ model: 'Linear' }), STEPS, QUANTILES);
    models.forecast('sn', history, config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);
    clock.now += 60_000;
    models.forecast('lin', extend(history, 1), config({ model: 'Linear' }), STEPS, QUANTILES);
    models.forecast('sn', extend(history, 1), config({ model: 'SeasonalNaive' }), STEPS, QUANTILES);

    // The first fitted forecaster of each name is the one serving; later ones score the validation folds.
    const fitted = created.filter((f): f is FakeForecaster => f instanceof FakeForecaster && f.fits > 0);
    const serving = ['Linear', 'SeasonalNaive'].map((name) => fitted.find((f) => f.name === name)!);
    expect(serving.map((f) => [f.name, f.fits, f.updates])).toEqual([
      ['Linear', 1, 1],
      ['SeasonalNaive', 2, 0],
    ]);
  });

  it('an update that throws is replaced by a fresh fit', () => {
    const { create } = creating({ Linear: () => new FakeForecaster('Linear', { updateError: 'state corrupt' }) });
    const { models, clock, trained } = manager({ create });
    models.forecast('k', history, config({ model: 'Linear' }), STEPS, QUANTILES);
    clock.now += 60_000;

    const out = models.forecast('k', extend(history, 1), config({ model: 'Linear' }), STEPS, QUANTILES);

    expect(out).toMatchObject({ model: 'Linear', trained: true, trainedAt: clock.now });
    expect(trained).toEqual(['Linear', 'Linear']);
  });

  it('keeps one model per key, and forget(prefix) drops them', () => {
    const { create } = creating({ Linear: () => new FakeForecaster('Linear') });
    const { models, clock } = manager({ create });
    const cfg = config({ model: 'Linear' });
    for (const key of ['ns/a/rps', 'ns/a/cpu', 'ns/b/rps']) models.forecast(key, history, cfg, STEPS, QUANTILES);
    clock.now += 60_000;

    models.forget('ns/a/');

    expect(models.forecast('ns/a/rps', history, cfg, STEPS, QUANTILES).trained).toBe(true);
    expect(models.forecast('ns/a/cpu', history, cfg, STEPS, QUANTILES).trained).toBe(true);
    expect(models.forecast('ns/b/rps', history, cfg, STEPS, QUANTILES).trained).toBe(false);
  });

  it('reports the fit duration measured by the injected timer', () => {
    const ticks = [10, 250];
    const durations: number[] = [];
    const { create } = creating({ Linear: () => new FakeForecaster('Linear') });
    const models = new ModelManager({
      now: () => 0,
      create,
      timer: () => ticks.shift()!,
      onTrained: (_m, seconds) => durations.push(seconds),
    });

    models.forecast('k', history, config({ model: 'Linear' }), STEPS, QUANTILES);

    expect(durations).toEqual([0.24]);
  });
});

describe('ModelManager validation error', () => {
  it('scores each training out of sample: a learnable daily cycle gets a MASE well below 1', () => {
    const { models } = manager();
    const series = dailySine(3, 30, 3);
    const outcome = models.forecast('ns/web/rps', series, config({ model: 'HoltWinters', seasonality: ['1d'] }), STEPS, QUANTILES);
    expect(outcome.trained).toBe(true);
    expect(outcome.mase).toBeGreaterThan(0);
    expect(outcome.mase).toBeLessThan(1);
    // Between trainings the score of the last training is reported again.
    const again = models.forecast('ns/web/rps', extend(series, 3), config({ model: 'HoltWinters', seasonality: ['1d'] }), STEPS, QUANTILES);
    expect(again.trained).toBe(false);
    expect(again.mase).toBe(outcome.mase);
  });

  it('scores a model that cannot follow the cycle worse than one that can', () => {
    const series = dailySine(3, 30, 3);
    const hw = manager().models.forecast('a', series, config({ model: 'HoltWinters', seasonality: ['1d'] }), STEPS, QUANTILES);
    const linear = manager().models.forecast('b', series, config({ model: 'Linear' }), STEPS, QUANTILES);
    expect(linear.mase!).toBeGreaterThan(hw.mase!);
  });
});
