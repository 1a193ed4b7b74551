// The network's forward pass: per timestep one product [h_{t-1} | x_t | 1] · kernel and one fused
// cell kernel (tf/kernels.ts); then the dense layer on [h_W | baselines | 1]. It keeps what
// backpropagation needs (tf/backward.ts). Examples are rows (tf/inputs.ts says why). All of it
// runs inside the caller's tf.tidy.
import * as tf from '@tensorflow/tfjs';
import type { NetworkInputTensors } from './inputs.js';
import { ensureKernels, lstmCell } from './kernels.js';

export interface LstmParameters {
  /**
   * (U + F + 1) × 4U: rows for the recurrent state, the features and the bias, in that order (the
   * rows of tf.layers' recurrent kernel, kernel and bias); column blocks for the input, forget,
   * candidate and output gates.
   */
  kernel: tf.Tensor2D;
  /** (U + H + 1) × H, applied to [h_W | baselines | 1] (tf.layers' dense kernel, then its bias). */
  dense: tf.Tensor2D;
}

export interface ForwardPass {
  /** The corrections, [B, H]. */
  output: tf.Tensor2D;
  /** Each timestep's left operand [h_{t-1} | x_t | 1], [B, U + F + 1]. */
  joined: tf.Tensor2D[];
  /** Their transposes, [U + F + 1, B]. */
  joinedT: tf.Tensor2D[];
  /** Each timestep's activations and cell, [B, 6U] (tf/kernels.ts). */
  kept: tf.Tensor2D[];
  /** [h_W | baselines | 1], [B, U + H + 1], and its transpose. */
  denseJoined: tf.Tensor2D;
  denseJoinedT: tf.Tensor2D;
}

/** Runs the network on W ≥ 1 timesteps; the state starts at zero. */
export function forward(p: LstmParameters, inputs: NetworkInputTensors): ForwardPass {
  ensureKernels();
  const joined: tf.Tensor2D[] = [inputs.first];
  const joinedT: tf.Tensor2D[] = [inputs.firstT];
  const kept: tf.Tensor2D[] = [];
  const count = inputs.first.shape[0];
  const windowSteps = inputs.steps.shape[0] / count + 1;
  for (let t = 0; t < windowSteps; t++) {
    const z = tf.matMul(joined[t], p.kernel) as tf.Tensor2D;
    const last = t === windowSteps - 1;
    const [activations, nextJoined, nextJoinedT] = lstmCell(z, kept[t - 1], last ? inputs.offsets : inputs.steps, last ? 0 : t * count);
    kept.push(activations);
    joined.push(nextJoined);
    joinedT.push(nextJoinedT);
  }
  const denseJoined = joined.pop() as tf.Tensor2D;
  const denseJoinedT = joinedT.pop() as tf.Tensor2D;
  return { output: tf.matMul(denseJoined, p.dense) as tf.Tensor2D, joined, joinedT, kept, denseJoined, denseJoinedT };
}
