// Backpropagation through time for the network of tf/forward.ts, derived by hand. TensorFlow.js's
// autograd would record every op of the unrolled timesteps on its tape and replay one or more
// gradient ops for each; here each timestep is one fused cell-gradient kernel (tf/kernels.ts) and
// one product carrying the gradient back to the previous hidden state, and each weight matrix's
// gradient is one product over all timesteps at once.
// test/unit/forecast/tf/backward.test.ts checks it against autograd through tf.layers' own LSTM.
import * as tf from '@tensorflow/tfjs';
import type { ForwardPass, LstmParameters } from './forward.js';
import { lstmCellGrad } from './kernels.js';

/** Gradients of the loss for [kernel, dense]; `dOutput` is dLoss/dOutput, [B, H]. */
export function gradients(p: LstmParameters, pass: ForwardPass, dOutput: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  const units = p.kernel.shape[1] / 4;
  const horizon = p.dense.shape[1];
  const steps = pass.kept.length;
  // Transposes are explicit (or written by the forward kernel): the WebAssembly backend's products
  // with a transposed operand are several times slower than a transpose followed by a plain product.
  const dDense = tf.matMul(pass.denseJoinedT, dOutput) as tf.Tensor2D;
  let dHidden = tf.matMul(dOutput, tf.transpose<tf.Tensor2D>(tf.slice(p.dense, [0, 0], [units, horizon]))) as tf.Tensor2D;
  const recurrentTransposed = tf.transpose<tf.Tensor2D>(tf.slice(p.kernel, [0, 0], [units, 4 * units]));
  const dZ: tf.Tensor2D[] = new Array(steps);
  let dCell: tf.Tensor2D | undefined;
  for (let t = steps - 1; t >= 0; t--) {
    [dZ[t], dCell] = lstmCellGrad(dHidden, dCell, pass.kept[t], pass.kept[t - 1]);
    if (t > 0) dHidden = tf.matMul(dZ[t], recurrentTransposed) as tf.Tensor2D;
  }
  // Σ_t joined_tᵀ · dZ_t, one small product per timestep: one product of the timesteps stacked
  // would be fewer launches but costs more, as the backend prepares (packs) its right operand
  // anew, and that prepared copy of 32 stacked gradients is larger than the product is slow.
  const dKernel = tf.addN(dZ.map((d, t) => tf.matMul(pass.joinedT[t], d))) as tf.Tensor2D;
  return [dKernel, dDense];
}
