// A synchronous training loop (Adam over shuffled mini-batches, early stopping on a time-ordered
// validation set). model.fit() is asynchronous; the Forecaster interface fits synchronously.
import * as tf from '@tensorflow/tfjs';
import { inputTensors } from './network.js';
import { seededUniform, shuffled } from './random.js';
import type { ExampleBatch, WindowShape } from './windows.js';

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

/** Squared error; Huber (quadratic within one scale unit, linear beyond); absolute error. */
export type LossName = 'mse' | 'huber' | 'mae';

/** The loss between targets and the network's output (scaled units). */
export function lossOf(name: LossName, targets: tf.Tensor, output: tf.Tensor): tf.Scalar {
  if (name === 'huber') return tf.losses.huberLoss(targets, output, undefined, 1) as tf.Scalar;
  if (name === 'mae') return tf.losses.absoluteDifference(targets, output) as tf.Scalar;
  return tf.losses.meanSquaredError(targets, output) as tf.Scalar;
}

export interface TrainingResult {
  epochs: number;
  bestEpoch: number;
  bestValidationLoss: number;
}

/** Trains `model` in place and leaves it holding the weights of its best validation epoch. */
export function train(
  model: tf.LayersModel,
  training: ExampleBatch,
  validation: ExampleBatch,
  shape: WindowShape,
  options: TrainingOptions,
): TrainingResult {
  const random = seededUniform(options.seed);
  const optimizer = tf.train.adam(options.learningRate);
  const variables = model.trainableWeights.map((weight) => weight.read() as tf.Variable);
  const [trainSequence, trainOffsets] = inputTensors(training, shape);
  const trainTargets = tf.tensor2d(training.targets, [training.count, shape.horizonSteps]);
  const [validationSequence, validationOffsets] = inputTensors(validation, shape);
  const validationTargets = tf.tensor2d(validation.targets, [validation.count, shape.horizonSteps]);
  const validationLoss = (): number =>
    tf.tidy(() => {
      const output = model.apply([validationSequence, validationOffsets], { training: false }) as tf.Tensor;
      return lossOf(options.loss, validationTargets, output).dataSync()[0];
    });

  let best = { epoch: 0, loss: validationLoss() };
  let bestWeights = snapshot(model);
  let epochs = 0;
  try {
    const order = Array.from({ length: training.count }, (_, i) => i);
    for (let epoch = 1; epoch <= options.maxEpochs; epoch++) {
      epochs = epoch;
      const shuffledOrder = shuffled(order, random);
      for (let from = 0; from < shuffledOrder.length; from += options.batchSize) {
        tf.tidy(() => {
          const indices = tf.tensor1d(shuffledOrder.slice(from, from + options.batchSize), 'int32');
          const sequence = tf.gather(trainSequence, indices);
          const offsets = tf.gather(trainOffsets, indices);
          const targets = tf.gather(trainTargets, indices);
          optimizer.minimize(
            () => lossOf(options.loss, targets, model.apply([sequence, offsets], { training: true }) as tf.Tensor),
            false,
            variables,
          );
        });
      }
      const loss = validationLoss();
      if (loss < best.loss) {
        best = { epoch, loss };
        tf.dispose(bestWeights);
        bestWeights = snapshot(model);
      } else if (epoch - best.epoch >= options.patience) {
        break;
      }
    }
    model.setWeights(bestWeights);
  } finally {
    tf.dispose(bestWeights);
    tf.dispose([trainSequence, trainOffsets, trainTargets, validationSequence, validationOffsets, validationTargets]);
    optimizer.dispose();
  }
  return { epochs, bestEpoch: best.epoch, bestValidationLoss: best.loss };
}

/** The model's loss on a batch of examples (scaled units). */
export function batchLoss(model: tf.LayersModel, batch: ExampleBatch, shape: WindowShape, loss: LossName): number {
  return tf.tidy(() => {
    const [sequence, offsets] = inputTensors(batch, shape);
    const output = model.apply([sequence, offsets], { training: false }) as tf.Tensor;
    return lossOf(loss, tf.tensor2d(batch.targets, [batch.count, shape.horizonSteps]), output).dataSync()[0];
  });
}

function snapshot(model: tf.LayersModel): tf.Tensor[] {
  return model.getWeights().map((weight) => weight.clone());
}
