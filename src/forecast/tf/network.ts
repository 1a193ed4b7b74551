// The sequence model: one LSTM layer over the input window, its last state joined with the
// per-step baselines, and a dense layer giving one correction per output step.
//
// It computes what the tf.layers model it replaces computed (an LSTM layer with tf.layers'
// defaults: hard-sigmoid gates, tanh; a dense layer), from the same initial weights for a seed,
// and reads and writes its weights in that model's layout (weightShapes), so the forecaster's
// stored states carry over in both directions. It is written as raw TensorFlow.js ops on two
// explicit variables instead of tf.layers because at these sizes (batch 64, 20 units) every op
// costs far more in dispatch than in arithmetic: tf.layers and autograd spent about 4,600 kernel
// launches per training step on wrappers, tape and gradient replay around the 32 unrolled
// timesteps. Here a timestep is two launches forward (tf/forward.ts) and two backward
// (tf/backward.ts, gradients derived by hand), with the cell's element-wise arithmetic fused into
// kernels of its own (tf/kernels.ts).
import * as tf from '@tensorflow/tfjs';
import { forward, type LstmParameters } from './forward.js';
import { plainCorrections, type PlainWeights } from './inference.js';
import { disposeInputs, inputTensors } from './inputs.js';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from './windows.js';

export interface NetworkOptions {
  units: number;
  seed: number;
}

/** A weight's values, row-major, in the order of weightShapes(). */
export interface WeightValues {
  shape: number[];
  values: Float32Array;
}

/**
 * Shapes of the weights as tf.layers laid them out (and the forecaster's state stores them): the
 * LSTM kernel F × 4U, its recurrent kernel U × 4U and bias 4U (gate blocks input, forget,
 * candidate, output), the dense kernel (U + H) × H (rows: last hidden state, then baselines) and
 * its bias H.
 */
export function weightShapes(shape: WindowShape, units: number): number[][] {
  const gates = 4 * units;
  return [[FEATURES_PER_STEP, gates], [units, gates], [gates], [units + shape.horizonSteps, shape.horizonSteps], [shape.horizonSteps]];
}

/** How many numbers the network for `shape` and `units` holds: LSTM kernels and bias, then the dense layer. */
export function weightCount(shape: WindowShape, units: number): number {
  return weightShapes(shape, units).reduce((sum, dims) => sum + dims.reduce((product, dim) => product * dim, 1), 0);
}

/** Initial LSTM kernels by backend, units and seed: they depend on nothing else, and drawing the orthogonal one takes a QR decomposition in many small ops. */
const initialKernelCache = new Map<string, [Float32Array, Float32Array]>();
const INITIAL_KERNEL_CACHE_LIMIT = 16;

/** tf.layers' initial LSTM kernel (Glorot-uniform, `seed`) and recurrent kernel (orthogonal, `seed` + 1); callers copy them. */
function initialKernels(units: number, seed: number): [Float32Array, Float32Array] {
  const key = `${tf.getBackend()}/${units}/${seed}`;
  let cached = initialKernelCache.get(key);
  if (!cached) {
    const [kernelShape, recurrentShape] = weightShapes({ windowSteps: 1, horizonSteps: 1, seasonSteps: 0 }, units);
    const tensors = tf.tidy(() => [
      tf.initializers.glorotUniform({ seed }).apply(kernelShape, 'float32'),
      tf.initializers.orthogonal({ seed: seed + 1, gain: 1 }).apply(recurrentShape, 'float32'),
    ]);
    cached = [tensors[0].dataSync() as Float32Array, tensors[1].dataSync() as Float32Array];
    tf.dispose(tensors);
    if (initialKernelCache.size >= INITIAL_KERNEL_CACHE_LIMIT) initialKernelCache.clear();
    initialKernelCache.set(key, cached);
  }
  return cached;
}

/**
 * Batches up to this size are run in plain JavaScript (tf/inference.ts): a forecast's one-example
 * calls; the validation batches and training go through TensorFlow.js.
 */
const PLAIN_BATCH = 4;

export class LstmNetwork {
  readonly parameters: LstmParameters;
  /** The trainable variables: the stacked LSTM kernel and the stacked dense layer (forward.ts). */
  readonly variables: readonly tf.Variable[];
  /** The variables' values for plainCorrections, and the tensors they were read from. */
  private plain: { from: object[]; weights: PlainWeights } | undefined;

  private constructor(
    readonly shape: WindowShape,
    readonly units: number,
    kernel: Float32Array,
    dense: Float32Array,
  ) {
    // Run inside tf.tidy (fromWeights): a variable keeps its initial value's data, the tidy frees
    // the temporary tensor around it.
    const horizon = shape.horizonSteps;
    const variables = [
      tf.variable(tf.tensor2d(kernel, [units + FEATURES_PER_STEP + 1, 4 * units]), true),
      tf.variable(tf.tensor2d(dense, [units + horizon + 1, horizon]), true),
    ];
    this.variables = variables;
    this.parameters = { kernel: variables[0] as tf.Variable<tf.Rank.R2>, dense: variables[1] as tf.Variable<tf.Rank.R2> };
  }

  /**
   * A fresh network, initialised as tf.layers initialised it for the same seed: a Glorot-uniform
   * kernel, an orthogonal recurrent kernel, zero biases, and a zero dense layer, so the untrained
   * network forecasts the baseline itself; training only moves it away from the baseline where
   * that lowers the error.
   */
  static create(shape: WindowShape, options: NetworkOptions): LstmNetwork {
    const [kernelShape, recurrentShape, biasShape, denseShape, denseBiasShape] = weightShapes(shape, options.units);
    const [kernel, recurrent] = initialKernels(options.units, options.seed);
    const zeros = (dims: number[]) => new Float32Array(dims.reduce((a, b) => a * b, 1));
    return LstmNetwork.fromWeights(shape, options.units, [
      { shape: kernelShape, values: kernel },
      { shape: recurrentShape, values: recurrent },
      { shape: biasShape, values: zeros(biasShape) },
      { shape: denseShape, values: zeros(denseShape) },
      { shape: denseBiasShape, values: zeros(denseBiasShape) },
    ]);
  }

  /** A network holding `weights` (tf.layers' layout), whose shapes the caller has checked against weightShapes(). */
  static fromWeights(shape: WindowShape, units: number, weights: readonly WeightValues[]): LstmNetwork {
    const [kernel, recurrent, bias, dense, denseBias] = weights.map((w) => w.values);
    const stackedKernel = new Float32Array((units + FEATURES_PER_STEP + 1) * 4 * units);
    stackedKernel.set(recurrent, 0);
    stackedKernel.set(kernel, recurrent.length);
    stackedKernel.set(bias, recurrent.length + kernel.length);
    const stackedDense = new Float32Array(dense.length + denseBias.length);
    stackedDense.set(dense, 0);
    stackedDense.set(denseBias, dense.length);
    let network: LstmNetwork | undefined;
    tf.tidy(() => {
      network = new LstmNetwork(shape, units, stackedKernel, stackedDense);
    });
    return network as LstmNetwork;
  }

  /** The corrections for a batch, [count, H] row-major, read back synchronously. */
  corrections(batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>): Float32Array {
    if (batch.count <= PLAIN_BATCH) return plainCorrections(this.plainWeights(), this.shape, this.units, batch);
    const inputs = inputTensors(batch, this.shape, this.units);
    try {
      return tf.tidy(() => forward(this.parameters, inputs).output.dataSync() as Float32Array);
    } finally {
      disposeInputs(inputs);
    }
  }

  /** The weights as plain arrays, read again whenever a variable holds a new tensor (assign() gives it one). */
  private plainWeights(): PlainWeights {
    const from = this.variables.map((v) => v.dataId);
    if (!this.plain || this.plain.from.some((id, i) => id !== from[i])) {
      const [kernel, dense] = this.variables.map((v) => v.dataSync() as Float32Array);
      this.plain = { from, weights: { kernel, dense } };
    }
    return this.plain.weights;
  }

  /** The weights in tf.layers' layout (weightShapes()). */
  readWeights(): WeightValues[] {
    const [kernelShape, recurrentShape, biasShape, denseShape, denseBiasShape] = weightShapes(this.shape, this.units);
    const stackedKernel = this.variables[0].dataSync() as Float32Array;
    const stackedDense = this.variables[1].dataSync() as Float32Array;
    const recurrentSize = recurrentShape[0] * recurrentShape[1];
    const kernelSize = kernelShape[0] * kernelShape[1];
    const denseSize = denseShape[0] * denseShape[1];
    return [
      { shape: kernelShape, values: stackedKernel.slice(recurrentSize, recurrentSize + kernelSize) },
      { shape: recurrentShape, values: stackedKernel.slice(0, recurrentSize) },
      { shape: biasShape, values: stackedKernel.slice(recurrentSize + kernelSize) },
      { shape: denseShape, values: stackedDense.slice(0, denseSize) },
      { shape: denseBiasShape, values: stackedDense.slice(denseSize) },
    ];
  }

  /** Copies of the current weights; the caller disposes them. */
  snapshot(): tf.Tensor[] {
    return this.variables.map((variable) => variable.clone());
  }

  /** Sets the weights to tensors from snapshot() of a network of this shape. */
  restore(tensors: readonly tf.Tensor[]): void {
    this.variables.forEach((variable, i) => variable.assign(tensors[i]));
  }

  /** Starts this network from the weights of `from`, a network of the same shape. */
  copyFrom(from: LstmNetwork): void {
    this.variables.forEach((variable, i) => variable.assign(from.variables[i]));
  }

  dispose(): void {
    this.plain = undefined;
    tf.dispose(this.variables as tf.Variable[]);
  }
}
