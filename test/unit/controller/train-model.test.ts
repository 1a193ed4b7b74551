import { describe, expect, it } from 'vitest';
import type { ModelName } from '../../../src/api/types.js';
import { driftFallbackFor, fitWithValidation, trainModel, type TrainingRequest } from '../../../src/controller/training/train-model.js';
import { exportTrainingResult, importTrainingResult, InlineTrainer } from '../../../src/controller/training/trainer.js';
import { createForecaster } from '../../../src/forecast/registry.js';
import type { Series } from '../../../src/forecast/types.js';
import { DAY, FIVE_MINUTES, dailySine } from '../forecast/fixtures.js';
import { CountingForecaster, creating } from './model-fakes.js';

const H = 12; // one hour at five minutes
const history = dailySine(3, 30, 2);

function request(model: ModelName, overrides: Partial<TrainingRequest> = {}): TrainingRequest {
  return { model, options: { seasonality: 'Auto', horizonSteps: H }, series: history, quantile: 0.9, ...overrides };
}

function lastTime(s: Series): number {
  return s.start + (s.values.length - 1) * s.stepMs;
}

function failing(name: string, message: string) {
  return () => new CountingForecaster(name, { fitError: message });
}

describe('trainModel', () => {
  it('fits the requested model, scores it out of sample and fits its drift fallback', () => {
    const result = trainModel(request('HoltWinters'));

    expect(result).toMatchObject({ model: 'HoltWinters', failures: [] });
    expect(result.mase).toBeGreaterThan(0);
    expect(result.mase).toBeLessThan(1);
    expect(result.driftFallback?.model).toBe('SeasonalNaive');
    // Both are ready to forecast from the end of the history.
    expect(result.forecaster.predict(H, [0.9]).start).toBe(lastTime(history) + FIVE_MINUTES);
    expect(result.driftFallback!.forecaster.predict(H, [0.9]).start).toBe(lastTime(history) + FIVE_MINUTES);
  });

  it('reports the training time from the injected timer', () => {
    const ticks = [1_000, 3_500];
    const result = trainModel(request('Linear'), createForecaster, () => ticks.shift()!);
    expect(result.seconds).toBe(2.5);
  });

  it.each<[ModelName, string]>([
    ['Ensemble', 'HoltWinters'],
    ['LSTM', 'HoltWinters'],
    ['HoltWinters', 'SeasonalNaive'],
    ['SeasonalNaive', 'Linear'],
  ])('a %s whose fit throws falls back to %s, naming the failure', (model, next) => {
    const { create } = creating({ [model]: failing(model, 'optimizer diverged') });

    const result = trainModel(request(model), create);

    expect(result.model).toBe(next);
    expect(result.failures).toEqual([`${model}: optimizer diverged`]);
    expect(result.forecaster.predict(H, [0.5]).start).toBe(lastTime(history) + FIVE_MINUTES);
  });

  it('walks down the chain past every model that fails', () => {
    const { create } = creating({
      Ensemble: failing('Ensemble', 'e0'),
      HoltWinters: failing('HoltWinters', 'e1'),
      SeasonalNaive: failing('SeasonalNaive', 'e2'),
    });

    const result = trainModel(request('Ensemble'), create);

    expect(result.model).toBe('Linear');
    expect(result.failures).toEqual(['Ensemble: e0', 'HoltWinters: e1', 'SeasonalNaive: e2']);
    expect(result.driftFallback).toBeUndefined(); // nothing is simpler than Linear
  });

  it('throws naming each failure when every model fails', () => {
    const { create } = creating({
      LSTM: failing('LSTM', 'e0'),
      HoltWinters: failing('HoltWinters', 'e1'),
      SeasonalNaive: failing('SeasonalNaive', 'e2'),
      Linear: failing('Linear', 'e3'),
    });

    expect(() => trainModel(request('LSTM'), create)).toThrow('every model failed: LSTM: e0; HoltWinters: e1; SeasonalNaive: e2; Linear: e3');
  });

  it('skips a model the history is too short for, without fitting it', () => {
    const tooHungry = new CountingForecaster('HoltWinters', { minPoints: 10_000 });
    const { create } = creating({ HoltWinters: () => tooHungry });

    const result = trainModel(request('HoltWinters'), create);

    expect(result.model).toBe('SeasonalNaive');
    expect(result.failures).toEqual([`HoltWinters: needs 10000 points, have ${history.values.length}`]);
    expect(tooHungry.fits).toBe(0);
  });

  it("takes an Ensemble's validation error from its own scoring", () => {
    const ensemble = new CountingForecaster('Ensemble', { mase: 0.42 });
    const { create } = creating({ Ensemble: () => ensemble });

    const result = trainModel(request('Ensemble'), create);

    expect(result).toMatchObject({ model: 'Ensemble', mase: 0.42 });
    expect(ensemble.seen).toEqual([{ call: 'fit', length: history.values.length }]);
    expect(result.driftFallback?.model).toBe('HoltWinters');
  });

  it('the drift fallback is the one after the model that fitted, not after the requested one', () => {
    const { create } = creating({ HoltWinters: failing('HoltWinters', 'boom') });
    const result = trainModel(request('HoltWinters'), create);
    expect(result.model).toBe('SeasonalNaive');
    expect(result.driftFallback?.model).toBe('Linear');
  });

  it('starts from the warm-start state of the same model and ignores one it cannot load', () => {
    const warm = new CountingForecaster('Linear');
    const { create } = creating({ Linear: () => warm });
    trainModel(request('Linear', { warmStart: { model: 'Linear', format: 1, weights: [1, 2] } }), create);
    expect(warm.imported).toEqual({ model: 'Linear', format: 1, weights: [1, 2] });

    const other = new CountingForecaster('Linear');
    const result = trainModel(request('Linear', { warmStart: { model: 'LSTM', format: 1 } }), creating({ Linear: () => other }).create);
    expect(other.imported).toBeUndefined();
    expect(result.model).toBe('Linear');

    const broken = new CountingForecaster('Linear', { importError: 'bad weights' });
    expect(trainModel(request('Linear', { warmStart: { model: 'Linear', format: 1 } }), creating({ Linear: () => broken }).create).model).toBe('Linear');
  });
});

describe('driftFallbackFor', () => {
  it.each<[ModelName, ModelName | undefined]>([
    ['Ensemble', 'HoltWinters'],
    ['LSTM', 'HoltWinters'],
    ['HoltWinters', 'SeasonalNaive'],
    ['SeasonalNaive', 'Linear'],
    ['Linear', undefined],
  ])('%s drifts to %s', (model, fallback) => {
    expect(driftFallbackFor(model)).toBe(fallback);
  });
});

describe('fitWithValidation', () => {
  it('fits once on the history before the held-out horizons, then only updates', () => {
    const f = new CountingForecaster('Fake');
    const n = history.values.length;

    fitWithValidation(f, history, H, 3);

    // Each held-out horizon is forecast from the history up to its origin only.
    expect(f.seen).toEqual([
      { call: 'fit', length: n - 3 * H },
      { call: 'update', length: n - 2 * H },
      { call: 'update', length: n - H },
      { call: 'update', length: n },
    ]);
  });

  it('leaves the forecaster forecasting from the end of the whole series', () => {
    const hw = createForecaster('HoltWinters', { seasonality: 'Auto' });
    fitWithValidation(hw, history, H);
    expect(hw.predict(H, [0.5]).start).toBe(lastTime(history) + FIVE_MINUTES);
  });

  it('scores out of sample: a daily cycle gives HoltWinters a MASE well below 1, and Linear a worse one', () => {
    const hw = fitWithValidation(createForecaster('HoltWinters', { seasonality: [DAY] }), history, H)!;
    const linear = fitWithValidation(createForecaster('Linear'), history, H)!;

    expect(hw).toBeGreaterThan(0);
    expect(hw).toBeLessThan(0.9);
    expect(linear).toBeGreaterThan(hw);
  });

  it('plain fit and no score when the history is too short to hold horizons out', () => {
    const f = new CountingForecaster('Fake', { minPoints: history.values.length - 2 * H });
    expect(fitWithValidation(f, history, H, 3)).toBeUndefined();
    expect(f.seen).toEqual([{ call: 'fit', length: history.values.length }]);
  });
});

describe('training results across a thread boundary', () => {
  it('export and import keep the forecast, the score and the drift fallback', () => {
    const original = new InlineTrainer().train(request('HoltWinters'));
    const exported = JSON.parse(JSON.stringify(exportTrainingResult(original))) as ReturnType<typeof exportTrainingResult>;

    const imported = importTrainingResult(exported, request('HoltWinters').options);
    imported.forecaster.update(history);
    imported.driftFallback!.forecaster.update(history);

    expect(imported).toMatchObject({ model: 'HoltWinters', failures: [], mase: original.mase, seconds: original.seconds });
    expect(imported.forecaster.predict(H, [0.9])).toEqual(original.forecaster.predict(H, [0.9]));
    expect(imported.driftFallback?.model).toBe('SeasonalNaive');
    expect(imported.driftFallback!.forecaster.predict(H, [0.9])).toEqual(original.driftFallback!.forecaster.predict(H, [0.9]));
  });
});
