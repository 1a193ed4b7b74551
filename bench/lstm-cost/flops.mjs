// Floating-point work of one LstmForecaster.fit(), from the network's shape and the training that
// was actually done (epochs, examples). Counts follow tfjs-layers' LSTMCell: per timestep
// z = x·K + h·R + b, split into i, f, g, o; i, f, o = hardSigmoid, g = tanh; c = f·c + i·g;
// h = o·tanh(c). A multiply-add is 2 flops; every other element operation, a hardSigmoid or a
// tanh included, counts as 1 flop (they are ~7 % of the forward work, so the choice hardly moves
// the total).

/** Adam per parameter per update: g², both moment updates, bias corrections, sqrt, divide, step. */
export const ADAM_FLOPS_PER_PARAMETER = 12;
/** Backward ≈ 2 × forward (gradients for both the inputs and the weights of every product). */
export const BACKWARD_PER_FORWARD = 2;

export const FORMULA = [
  'W = window steps, F = features per step, U = units, H = horizon steps, B = batch size',
  'LSTM step (forward, one example) = 2·4U·(F+U) [x·K and h·R] + 17U [z add 4U, bias 4U, 3U hardSigmoid, 2U tanh, c = f·c + i·g 3U, h = o·tanh(c) U]',
  'dense (forward, one example) = 2·H·(U+H) + H [bias]; loss = 3H',
  'forward(example) = W·LSTM step + dense + loss',
  'parameters P = 4U·(F+U) + 4U + (U+H)·H + H',
  `training FLOPs = epochs·N_train·(1 + ${BACKWARD_PER_FORWARD})·forward(example) + epochs·ceil(N_train/B)·${ADAM_FLOPS_PER_PARAMETER}·P + (epochs + 2)·N_val·forward(example)`,
  'the (epochs + 2) validation passes: the one before training, one per epoch, and the final pass that collects the validation errors for the quantiles',
  `a forecast of S steps = ceil(S/H) forward passes of one example`,
].join('\n');

/** Work of one fit; all counts in flops. */
export function trainingFlops({ windowSteps: W, features: F, units: U, horizonSteps: H, batchSize: B, trainingExamples, validationExamples, epochs }) {
  const lstmStep = 2 * 4 * U * (F + U) + 17 * U;
  const dense = 2 * H * (U + H) + H;
  const loss = 3 * H;
  const forward = W * lstmStep + dense + loss;
  const parameters = 4 * U * (F + U) + 4 * U + (U + H) * H + H;
  const train = epochs * trainingExamples * (1 + BACKWARD_PER_FORWARD) * forward;
  const adam = epochs * Math.ceil(trainingExamples / B) * ADAM_FLOPS_PER_PARAMETER * parameters;
  const validation = (epochs + 2) * validationExamples * forward;
  return { forwardPerExample: forward, parameters, train, adam, validation, total: train + adam + validation };
}
