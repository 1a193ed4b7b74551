// A synchronous training loop (Adam over shuffled mini-batches, early stopping on a time-ordered
// validation set), with the hand-derived gradients of tf/backward.ts.
import * as tf from '@tensorflow/tfjs';
import { gradients } from './backward.js';
import { forward } from './forward.js';
import { disposeInputs, inputTensors, targetTensor, type NetworkInputTensors } from './inputs.js';
import { lossGradient, lossOf, type LossName } from './losses.js';
import type { LstmNetwork } from './network.js';
import { seededUniform, shuffled } from './random.js';
import type { ExampleBatch } from './windows.js';

export type { LossName } from './losses.js';

export interface TrainingOptions {
  maxEpochs: number;
  /** Epochs without a lower validation loss before training stops. */
  patience: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** Used for the gradient steps and for early stopping alike. */
  loss: LossName;
}

export interface TrainingResult {
  epochs: number;
  bestEpoch: number;
  bestValidationLoss: number;
}

interface ExampleTensors {
  inputs: NetworkInputTensors;
  targets: tf.Tensor2D;
}

function exampleTensors(batch: ExampleBatch, network: LstmNetwork): ExampleTensors {
  return { inputs: inputTensors(batch, network.shape, network.units), targets: targetTensor(batch, network.shape) };
}

function disposeExamples(examples: ExampleTensors): void {
  disposeInputs(examples.inputs);
  examples.targets.dispose();
}

function lossOn(network: LstmNetwork, examples: ExampleTensors, loss: LossName): number {
  return tf.tidy(() => lossOf(loss, examples.targets, forward(network.parameters, examples.inputs).output).dataSync()[0]);
}

/** One Adam step on the examples of `training` at `indices`. */
export function trainingStep(network: LstmNetwork, optimizer: tf.Optimizer, training: ExampleBatch, indices: readonly number[], loss: LossName): void {
  tf.tidy(() => {
    const pass = forward(network.parameters, inputTensors(training, network.shape, network.units, indices));
    const grads = gradients(network.parameters, pass, lossGradient(loss, targetTensor(training, network.shape, indices), pass.output));
    optimizer.applyGradients(network.variables.map((variable, i) => ({ name: variable.name, tensor: grads[i] })));
  });
}

/** Trains `network` in place and leaves it holding the weights of its best validation epoch. */
export function train(network: LstmNetwork, training: ExampleBatch, validation: ExampleBatch, options: TrainingOptions): TrainingResult {
  const random = seededUniform(options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  const validationTensors = exampleTensors(validation, network);
  let best = { epoch: 0, loss: lossOn(network, validationTensors, options.loss) };
  let bestWeights = network.snapshot();
  let epochs = 0;
  try {
    const order = Array.from({ length: training.count }, (_, i) => i);
    for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
      epochs = epoch;
      const shuffledOrder = shuffled(order, random);
      for (let from = 0; from < shuffledOrder.length; from += options.batchSize) {
        trainingStep(network, optimizer, training, shuffledOrder.slice(from, from + options.batchSize), options.loss);
      }
      const loss = lossOn(network, validationTensors, options.loss);
      if (loss < best.loss) {
        best = { epoch, loss };
        tf.dispose(bestWeights);
        bestWeights = network.snapshot();
      } else if (epoch - best.epoch >= options.patience) {
        break;
      }
    }
    network.restore(bestWeights);
  } finally {
    tf.dispose(bestWeights);
    disposeExamples(validationTensors);
    optimizer.dispose();
  }
  return { epochs, bestEpoch: best.epoch, bestValidationLoss: best.loss };
}

/** The network's loss on a batch of examples (scaled units). */
export function batchLoss(network: LstmNetwork, batch: ExampleBatch, loss: LossName): number {
  const examples = exampleTensors(batch, network);
  try {
    return lossOn(network, examples, loss);
  } finally {
    disposeExamples(examples);
  }
}
