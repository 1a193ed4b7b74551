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
