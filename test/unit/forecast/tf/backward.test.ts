// The hand-derived gradients (tf/backward.ts, tf/kernels.ts) against TensorFlow.js's autograd
// through the tf.layers network the raw-op one replaced (layers-reference.ts): same weights, same
// batch, every weight's gradient compared entry by entry.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/forecast/tf/backend.js';
import { gradients } from '../../../../src/forecast/tf/backward.js';
import { forward } from '../../../../src/forecast/tf/forward.js';
import { disposeInputs, inputTensors, targetTensor } from '../../../../src/forecast/tf/inputs.js';
import { lossGradient, lossOf, type LossName } from '../../../../src/forecast/tf/losses.js';
import { LstmNetwork, weightShapes, type WeightValues } from '../../../../src/forecast/tf/network.js';
import { seededUniform } from '../../../../src/forecast/tf/random.js';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from '../../../../src/forecast/tf/windows.js';
import { buildLayersNetwork, layersInputs, setLayersWeights } from './layers-reference.js';

const shape: WindowShape = { windowSteps: 5, horizonSteps: 3, seasonSteps: 0 };
const units = 4;
const count = 6;

function uniform(seed: number, scale: number): (n: number) => Float32Array {
  const random = seededUniform(seed);
  return (n) => Float32Array.from({ length: n }, () => scale * (2 * random() - 1));
}

function randomBatch(seed: number): ExampleBatch {
  const values = uniform(seed, 2);
  return { count, sequence: values(count * shape.windowSteps * FEATURES_PER_STEP), offsets: values(count * shape.horizonSteps), targets: values(count * shape.horizonSteps) };
}

/**
 * Weights large enough that every gate saturates for some entries and not for others (so both
 * branches of the hard sigmoid's derivative are exercised), and a dense layer that is not zero,
 * so every weight receives a gradient.
 */
function randomWeights(seed: number): WeightValues[] {
  const values = uniform(seed, 1.5);
  return weightShapes(shape, units).map((dims) => ({ shape: dims, values: values(dims.reduce((a, b) => a * b, 1)) }));
}

/** The raw-op network's gradients, in tf.layers' layout (the order of model.getWeights()). */
function derivedGradients(network: LstmNetwork, batch: ExampleBatch, loss: LossName): Float32Array[] {
  const inputs = inputTensors(batch, shape, units);
  try {
    const [dKernel, dDense] = tf.tidy(() => {
      const pass = forward(network.parameters, inputs);
      return gradients(network.parameters, pass, lossGradient(loss, targetTensor(batch, shape), pass.output)).map((g) => g.dataSync() as Float32Array);
    });
    // Stacked rows: recurrent kernel, kernel, bias; dense kernel, then bias (tf/forward.ts).
    const recurrent = units * 4 * units;
    const kernel = FEATURES_PER_STEP * 4 * units;
    const dense = (units + shape.horizonSteps) * shape.horizonSteps;
    return [dKernel.slice(recurrent, recurrent + kernel), dKernel.slice(0, recurrent), dKernel.slice(recurrent + kernel), dDense.slice(0, dense), dDense.slice(dense)];
  } finally {
    disposeInputs(inputs);
  }
}

/** Autograd through the tf.layers model, in the order of model.getWeights(). */
function autogradGradients(model: tf.LayersModel, batch: ExampleBatch, loss: LossName): Float32Array[] {
  return tf.tidy(() => {
    const [sequence, offsets] = layersInputs(batch, shape);
    const targets = tf.tensor2d(batch.targets, [batch.count, shape.horizonSteps]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const { grads } = tf.variableGrads(() => lossOf(loss, targets, model.apply([sequence, offsets], { training: true }) as tf.Tensor), variables);
    return variables.map((v) => grads[v.name].dataSync() as Float32Array);
  });
}

function expectClose(mine: Float32Array[], reference: Float32Array[], tolerance: number): void {
  expect(mine.map((g) => g.length)).toEqual(reference.map((g) => g.length));
  mine.forEach((values, i) => {
    const scale = Math.max(...reference[i].map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    const worst = Math.max(...values.map((v, k) => Math.abs(v - reference[i][k])));
    expect(worst / scale, `weight ${i}`).toBeLessThan(tolerance);
  });
}

describe('hand-derived LSTM gradients', () => {
  beforeAll(async () => {
    await selectBackend();
  });

  for (const loss of ['mse', 'huber', 'mae'] as LossName[]) {
    it(`match autograd through the tf.layers network for the ${loss} loss`, () => {
      const weights = randomWeights(11);
      const model = buildLayersNetwork(shape, { units, seed: 1 });
      setLayersWeights(model, weights);
      const network = LstmNetwork.fromWeights(shape, units, weights);
      const batch = randomBatch(12);
      const before = tf.memory().numTensors;
      const mine = derivedGradients(network, batch, loss);
      expect(tf.memory().numTensors).toBe(before);
      expectClose(mine, autogradGradients(model, batch, loss), 1e-4);
      network.dispose();
      model.dispose();
    });
  }

  it('match autograd where the absolute error is exactly zero (an untrained network on a flat history)', () => {
    // A fresh network corrects nothing, so on zero targets every error is exactly zero: autograd's
    // |x|' there is -1, and a zero gradient instead would leave the network untrained.
    const model = buildLayersNetwork(shape, { units, seed: 5 });
    const network = LstmNetwork.create(shape, { units, seed: 5 });
    const batch = { ...randomBatch(13), targets: new Float32Array(count * shape.horizonSteps) };
    const mine = derivedGradients(network, batch, 'mae');
    const reference = autogradGradients(model, batch, 'mae');
    // The LSTM's weights get no gradient through a zero dense layer; the dense layer's do.
    expectClose(mine.slice(3), reference.slice(3), 1e-4);
    network.dispose();
    model.dispose();
  });

  it('fail the comparison when a gradient is wrong', () => {
    // The check above must be able to fail: the same comparison against a perturbed gradient does.
    const weights = randomWeights(17);
    const model = buildLayersNetwork(shape, { units, seed: 1 });
    setLayersWeights(model, weights);
    const network = LstmNetwork.fromWeights(shape, units, weights);
    const batch = randomBatch(18);
    const mine = derivedGradients(network, batch, 'mse');
    const reference = autogradGradients(model, batch, 'mse');
    for (let i = 0; i < mine.length; i++) {
      const wrong = mine.map((g) => g.slice());
      const k = wrong[i].reduce((best, v, j) => (Math.abs(v) > Math.abs(wrong[i][best]) ? j : best), 0);
      wrong[i][k] *= 1.01;
      expect(() => expectClose(wrong, reference, 1e-4)).toThrow();
    }
    network.dispose();
    model.dispose();
  });

  it('give the gradient of the loss: a small step against it lowers the loss', () => {
    const network = LstmNetwork.fromWeights(shape, units, randomWeights(21));
    const batch = randomBatch(22);
    const lossNow = () => {
      const inputs = inputTensors(batch, shape, units);
      const value = tf.tidy(() => lossOf('mse', targetTensor(batch, shape), forward(network.parameters, inputs).output).dataSync()[0]);
      disposeInputs(inputs);
      return value;
    };
    const start = lossNow();
    const inputs = inputTensors(batch, shape, units);
    tf.tidy(() => {
      const pass = forward(network.parameters, inputs);
      const grads = gradients(network.parameters, pass, lossGradient('mse', targetTensor(batch, shape), pass.output));
      network.variables.forEach((v, i) => v.assign(tf.sub(v, tf.mul(grads[i], 1e-2))));
    });
    disposeInputs(inputs);
    expect(lossNow()).toBeLessThan(start);
    network.dispose();
  });
});
