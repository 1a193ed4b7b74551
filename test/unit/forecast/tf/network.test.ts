// The raw-op network against the tf.layers network it replaced: the same function, the same
// initial weights for a seed, the same weights layout, so states stored by either load in the other.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { LstmForecaster } from '../../../../src/forecast/lstm.js';
import { selectBackend } from '../../../../src/forecast/tf/backend.js';
import { forward } from '../../../../src/forecast/tf/forward.js';
import { disposeInputs, inputTensors } from '../../../../src/forecast/tf/inputs.js';
import { LstmNetwork, weightShapes, type WeightValues } from '../../../../src/forecast/tf/network.js';
import { seededUniform } from '../../../../src/forecast/tf/random.js';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from '../../../../src/forecast/tf/windows.js';
import type { Forecast, ForecasterState } from '../../../../src/forecast/types.js';
import { buildLayersNetwork, layersInputs, layersWeights, setLayersWeights } from './layers-reference.js';
// @ts-expect-error a plain ES module shared with make-layers-state.mjs, which wrote the fixture
import { LAYERS_STATE_OPTIONS, LAYERS_STATE_QUANTILES, LAYERS_STATE_STEPS, layersStateSeries } from './layers-state-series.mjs';

function uniform(seed: number, scale: number): (n: number) => Float32Array {
  const random = seededUniform(seed);
  return (n) => Float32Array.from({ length: n }, () => scale * (2 * random() - 1));
}

function randomBatch(shape: WindowShape, count: number, seed: number): ExampleBatch {
  const values = uniform(seed, 2);
  return { count, sequence: values(count * shape.windowSteps * FEATURES_PER_STEP), offsets: values(count * shape.horizonSteps), targets: values(count * shape.horizonSteps) };
}

function randomWeights(shape: WindowShape, units: number, seed: number): WeightValues[] {
  const values = uniform(seed, 1.5);
  return weightShapes(shape, units).map((dims) => ({ shape: dims, values: values(dims.reduce((a, b) => a * b, 1)) }));
}

function layersOutput(model: tf.LayersModel, batch: ExampleBatch, shape: WindowShape): Float32Array {
  return tf.tidy(() => (model.apply(layersInputs(batch, shape), { training: false }) as tf.Tensor).dataSync() as Float32Array);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

describe('LstmNetwork against the tf.layers network', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  it('computes the same corrections from the same weights, for one example and for many', () => {
    for (const [shape, units, count] of [
      [{ windowSteps: 32, horizonSteps: 30, seasonSteps: 1440 }, 20, 64],
      [{ windowSteps: 8, horizonSteps: 5, seasonSteps: 0 }, 3, 1],
    ] as [WindowShape, number, number][]) {
      const weights = randomWeights(shape, units, 31);
      const model = buildLayersNetwork(shape, { units, seed: 1 });
      setLayersWeights(model, weights);
      const network = LstmNetwork.fromWeights(shape, units, weights);
      const batch = randomBatch(shape, count, 32);
      const reference = layersOutput(model, batch, shape);
      expect(Math.max(...reference.map(Math.abs))).toBeGreaterThan(0.1);
      expect(maxDifference(network.corrections(batch), reference)).toBeLessThan(2e-5);
      network.dispose();
      model.dispose();
    }
  });

  it('gives the same corrections in plain JavaScript (a few examples) as through TensorFlow.js (more)', () => {
    const shape = { windowSteps: 32, horizonSteps: 30, seasonSteps: 1440 };
    const network = LstmNetwork.fromWeights(shape, 20, randomWeights(shape, 20, 41));
    const many = randomBatch(shape, 9, 42);
    const few = { count: 3, sequence: many.sequence.subarray(0, 3 * 32 * FEATURES_PER_STEP), offsets: many.offsets.subarray(0, 3 * 30) };
    expect(maxDifference(network.corrections(few), network.corrections(many).subarray(0, 3 * 30))).toBeLessThan(2e-5);
    network.dispose();
  });

  it('starts from the weights tf.layers drew for the same seed, and reads them back in its layout', () => {
    const shape = { windowSteps: 32, horizonSteps: 30, seasonSteps: 0 };
    const model = buildLayersNetwork(shape, { units: 20, seed: 42 });
    const network = LstmNetwork.create(shape, { units: 20, seed: 42 });
    const expected = layersWeights(model);
    const mine = network.readWeights();
    expect(mine.map((w) => w.shape)).toEqual(expected.map((w) => w.shape));
    expect(mine.map((w) => w.shape)).toEqual(weightShapes(shape, 20));
    mine.forEach((w, i) => expect(maxDifference(w.values, expected[i].values)).toBe(0));
    network.dispose();
    model.dispose();
  });

  it('keeps no tensors from a forward pass outside its tidy', () => {
    const shape = { windowSteps: 6, horizonSteps: 4, seasonSteps: 0 };
    const network = LstmNetwork.create(shape, { units: 3, seed: 1 });
    const batch = randomBatch(shape, 5, 2);
    const before = tf.memory().numTensors;
    network.corrections(batch);
    const inputs = inputTensors(batch, shape, 3);
    tf.tidy(() => {
      forward(network.parameters, inputs);
    });
    disposeInputs(inputs);
    expect(tf.memory().numTensors).toBe(before);
    network.dispose();
  });
});

describe('LstmForecaster states of the tf.layers network', () => {
  const fixture = JSON.parse(readFileSync(new URL('./layers-state.json', import.meta.url), 'utf8')) as { state: ForecasterState; forecast: Forecast };

  beforeAll(async () => {
    await selectBackend();
  });

  it('loads a state the tf.layers version exported and forecasts what it forecast', () => {
    const model = new LstmForecaster(LAYERS_STATE_OPTIONS);
    model.importState(fixture.state);
    model.update(layersStateSeries());
    const forecast = model.predict(LAYERS_STATE_STEPS, LAYERS_STATE_QUANTILES);
    expect(forecast.start).toBe(fixture.forecast.start);
    const scale = Math.max(...fixture.forecast.mean.map(Math.abs));
    expect(maxDifference(forecast.mean, fixture.forecast.mean) / scale).toBeLessThan(1e-5);
    forecast.quantiles.forEach((q, i) => expect(maxDifference(q.values, fixture.forecast.quantiles[i].values) / scale).toBeLessThan(1e-5));
    // And writes it back unchanged, in the same format, for a version that has only tf.layers.
    expect(JSON.parse(JSON.stringify(model.exportState()))).toEqual(fixture.state);
    model.dispose();
  });

  it('trains as the tf.layers version did: same epochs, and weights and forecasts within float rounding', () => {
    const model = new LstmForecaster(LAYERS_STATE_OPTIONS);
    model.fit(layersStateSeries());
    const state = model.exportState() as unknown as { summary: Record<string, unknown> };
    const reference = fixture.state as unknown as typeof state;
    for (const key of ['trainingWindows', 'validationWindows', 'epochs', 'bestEpoch']) expect(state.summary[key], key).toBe(reference.summary[key]);
    expect(state.summary.bestValidationLoss as number).toBeCloseTo(reference.summary.bestValidationLoss as number, 4);
    const forecast = model.predict(LAYERS_STATE_STEPS, LAYERS_STATE_QUANTILES);
    const scale = Math.max(...fixture.forecast.mean.map(Math.abs));
    expect(maxDifference(forecast.mean, fixture.forecast.mean) / scale).toBeLessThan(1e-3);
    model.dispose();
  });
});
