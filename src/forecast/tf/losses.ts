// Training losses and their gradients with respect to the network's output.
import * as tf from '@tensorflow/tfjs';

/** Squared error; Huber (quadratic within one scale unit, linear beyond); absolute error. */
export type LossName = 'mse' | 'huber' | 'mae';

const HUBER_DELTA = 1;

/** The mean loss between targets and the network's output (scaled units). */
export function lossOf(name: LossName, targets: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (name === 'huber') return tf.losses.huberLoss(targets, output, undefined, HUBER_DELTA) as tf.Scalar;
  if (name === 'mae') return tf.losses.absoluteDifference(targets, output) as tf.Scalar;
  return tf.losses.meanSquaredError(targets, output) as tf.Scalar;
}

/**
 * d lossOf(name, targets, output) / d output, as TensorFlow.js's autograd gives it, so training
 * follows the same path it did through tf.layers: for the absolute error that includes where the
 * error is exactly zero (a flat stretch of history against the untrained network's zero
 * correction), where autograd's |x|' is -1 (tf.step(x, -1)) rather than 0.
 */
export function lossGradient(name: LossName, targets: tf.Tensor2D, output: tf.Tensor2D): tf.Tensor2D {
  const perElement = 1 / output.size;
  if (name === 'mae') return tf.mul(tf.step(tf.sub(targets, output), -1), -perElement);
  const error = tf.sub(output, targets);
  if (name === 'huber') return tf.mul(tf.clipByValue(error, -HUBER_DELTA, HUBER_DELTA), perElement);
  return tf.mul(error, 2 * perElement);
}
