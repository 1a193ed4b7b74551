// The network as it was written with tf.layers (src/forecast/tf/network.ts at git 4b5ed63), kept
// here as the reference the raw-op network must agree with: same outputs, same gradients through
// TensorFlow.js's autograd, same weights layout.
import * as tf from '@tensorflow/tfjs';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from '../../../../src/forecast/tf/windows.js';
import type { WeightValues } from '../../../../src/forecast/tf/network.js';

export function buildLayersNetwork(shape: WindowShape, options: { units: number; seed: number }): tf.LayersModel {
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
  const corrections = tf.layers.dense({ units: shape.horizonSteps, kernelInitializer: 'zeros' }).apply(joined) as tf.SymbolicTensor;
  return tf.model({ inputs: [sequence, offsets], outputs: corrections });
}

/** The tf.layers model's inputs for a batch; the caller disposes them. */
export function layersInputs(batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>, shape: WindowShape): [tf.Tensor3D, tf.Tensor2D] {
  return [tf.tensor3d(batch.sequence, [batch.count, shape.windowSteps, FEATURES_PER_STEP]), tf.tensor2d(batch.offsets, [batch.count, shape.horizonSteps])];
}

export function layersWeights(model: tf.LayersModel): WeightValues[] {
  return model.getWeights().map((w) => ({ shape: w.shape.slice(), values: w.dataSync() as Float32Array }));
}

export function setLayersWeights(model: tf.LayersModel, weights: readonly WeightValues[]): void {
  const tensors = weights.map((w) => tf.tensor(w.values, w.shape, 'float32'));
  model.setWeights(tensors);
  tf.dispose(tensors);
}
