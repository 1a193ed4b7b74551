// The sequence model: one LSTM layer over the input window, its last state joined with the
// per-step baselines, and a dense layer giving one correction per output step.
import * as tf from '@tensorflow/tfjs';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from './windows.js';

export interface NetworkOptions {
  units: number;
  seed: number;
}

export function buildNetwork(shape: WindowShape, options: NetworkOptions): tf.LayersModel {
  const sequence = tf.input({ shape: [shape.windowSteps, FEATURES_PER_STEP] });
  const offsets = tf.input({ shape: [shape.horizonSteps] });
  const state = tf.layers
    .lstm({
      units: options.units,
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: options.seed + 1, gain: 1 }),
    })
    .apply(sequence) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([state, offsets]) as tf.SymbolicTensor;
  // A zero start means the untrained model forecasts the baseline itself; training only moves it
  // away from the baseline where that lowers the error.
  const corrections = tf.layers.dense({ units: shape.horizonSteps, kernelInitializer: 'zeros' }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [sequence, offsets], outputs: corrections });
}

/** Input tensors for a batch of examples; the caller disposes them. */
export function inputTensors(batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>, shape: WindowShape): [tf.Tensor3D, tf.Tensor2D] {
  return [
    tf.tensor3d(batch.sequence, [batch.count, shape.windowSteps, FEATURES_PER_STEP]),
    tf.tensor2d(batch.offsets, [batch.count, shape.horizonSteps]),
  ];
}

/** The model's corrections for a batch, read back synchronously. */
export function corrections(model: tf.LayersModel, batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>, shape: WindowShape): Float32Array {
  return tf.tidy(() => {
    const output = model.apply(inputTensors(batch, shape), { training: false }) as tf.Tensor;
    return output.dataSync() as Float32Array;
  });
}

/** A weight's values in the order of model.getWeights(), row-major. */
export interface WeightValues {
  shape: number[];
  values: Float32Array;
}

export function readWeights(model: tf.LayersModel): WeightValues[] {
  // getWeights() returns the variables' own tensors: nothing to dispose.
  return model.getWeights().map((weight) => ({ shape: weight.shape.slice(), values: weight.dataSync() as Float32Array }));
}

export function weightShapes(model: tf.LayersModel): number[][] {
  return model.getWeights().map((weight) => weight.shape.slice());
}

/** Sets `model`'s weights; the shapes must be those of weightShapes(model). */
export function writeWeights(model: tf.LayersModel, weights: readonly WeightValues[]): void {
  const tensors = weights.map((weight) => tf.tensor(weight.values, weight.shape, 'float32'));
  try {
    model.setWeights(tensors);
  } finally {
    tf.dispose(tensors);
  }
}

/** Starts `to` from the weights of `from`, a network of the same shape. */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel): void {
  const copies = from.getWeights().map((weight) => weight.clone());
  try {
    to.setWeights(copies);
  } finally {
    tf.dispose(copies);
  }
}

/** How many numbers the network for `shape` and `units` holds: LSTM kernels and bias, then the dense layer. */
export function weightCount(shape: WindowShape, units: number): number {
  const gates = 4 * units;
  return gates * (FEATURES_PER_STEP + units + 1) + shape.horizonSteps * (units + shape.horizonSteps + 1);
}
