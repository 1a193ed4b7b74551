// Examples (tf/windows.ts) arranged as the tensors the network reads, one row per example.
//
// A timestep's product is [h_{t-1} | x_t | 1] · kernel, so the examples are the rows of the left
// operand and the weights are the right one: the WebAssembly backend's matrix product prepares
// (packs) its right operand for every new tensor it sees there, and the weights stay the same
// tensor for all the timesteps of a pass while the inputs change at each. The fused cell kernel
// (tf/kernels.ts) writes each step's left operand from its hidden state and the next step's
// inputs, so those inputs are handed over as [x_t | 1], every timestep's in one tensor (one tensor
// made instead of W - 1); the first step's operand, with its zero hidden state, is built here whole.
import * as tf from '@tensorflow/tfjs';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from './windows.js';

/** Columns of a timestep's own inputs: the features and the constant 1 that carries the bias. */
export const STEP_COLUMNS = FEATURES_PER_STEP + 1;

export interface NetworkInputTensors {
  /** [0 | x_0 | 1], [count, U + F + 1]: the first product's left operand; and its transpose. */
  first: tf.Tensor2D;
  firstT: tf.Tensor2D;
  /** [x_t | 1] for t = 1 .. W - 1, [(W - 1) · count, F + 1]: timestep t's rows start at (t - 1) · count. */
  steps: tf.Tensor2D;
  /** [baselines | 1], [count, H + 1]: joined to the last hidden state for the dense layer. */
  offsets: tf.Tensor2D;
}

function allExamples(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

/** The inputs of the examples at `indices` (all, in order, when omitted); the caller disposes them. */
export function inputTensors(
  batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>,
  shape: WindowShape,
  units: number,
  indices?: readonly number[],
): NetworkInputTensors {
  const picked = indices ?? allExamples(batch.count);
  const count = picked.length;
  const { windowSteps, horizonSteps } = shape;
  const width = units + STEP_COLUMNS;
  const firstValues = new Float32Array(count * width);
  const stepValues = new Float32Array((windowSteps - 1) * count * STEP_COLUMNS);
  picked.forEach((example, row) => {
    const from = example * windowSteps * FEATURES_PER_STEP;
    firstValues.set(batch.sequence.subarray(from, from + FEATURES_PER_STEP), row * width + units);
    firstValues[row * width + units + FEATURES_PER_STEP] = 1;
    for (let t = 1; t < windowSteps; t++) {
      const at = ((t - 1) * count + row) * STEP_COLUMNS;
      stepValues.set(batch.sequence.subarray(from + t * FEATURES_PER_STEP, from + (t + 1) * FEATURES_PER_STEP), at);
      stepValues[at + FEATURES_PER_STEP] = 1;
    }
  });
  const first = tf.tensor2d(firstValues, [count, width]);
  const firstT = tf.tensor2d(transposed(firstValues, count, width), [width, count]);
  const steps = tf.tensor2d(stepValues, [(windowSteps - 1) * count, STEP_COLUMNS]);
  const offsets = new Float32Array(count * (horizonSteps + 1));
  picked.forEach((example, row) => {
    offsets.set(batch.offsets.subarray(example * horizonSteps, (example + 1) * horizonSteps), row * (horizonSteps + 1));
    offsets[row * (horizonSteps + 1) + horizonSteps] = 1;
  });
  return { first, firstT, steps, offsets: tf.tensor2d(offsets, [count, horizonSteps + 1]) };
}

function transposed(values: Float32Array, rows: number, columns: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

export function disposeInputs(inputs: NetworkInputTensors): void {
  tf.dispose([inputs.first, inputs.firstT, inputs.steps, inputs.offsets]);
}

/** The targets of the examples at `indices` (all when omitted), [count, H]. */
export function targetTensor(batch: Pick<ExampleBatch, 'count' | 'targets'>, shape: WindowShape, indices?: readonly number[]): tf.Tensor2D {
  const { horizonSteps } = shape;
  if (!indices) return tf.tensor2d(batch.targets, [batch.count, horizonSteps]);
  const values = new Float32Array(indices.length * horizonSteps);
  indices.forEach((example, row) => values.set(batch.targets.subarray(example * horizonSteps, (example + 1) * horizonSteps), row * horizonSteps));
  return tf.tensor2d(values, [indices.length, horizonSteps]);
}
