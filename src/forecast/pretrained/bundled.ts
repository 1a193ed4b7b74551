// The committed global weights (weights/global-v1.json, see weights/PROVENANCE.md). The JSON is
// imported so that tsc copies it into dist/ beside this module.
import bundled from './weights/global-v1.json' with { type: 'json' };
import { validateWeights, type GlobalModel } from './weights.js';

// The weights are a constant of this module, so validating them once is a pure function of that
// constant, not shared state: nothing writes to a GlobalModel (forecasters and fine-tuning copy
// what they change). Validation decodes and checks every weight, about a millisecond, and the
// operator's cold start, like the planner's replays, builds a Pretrained forecaster per scaler.
let validated: GlobalModel | undefined;

/** The committed weights, validated on the first call. */
export function bundledGlobalModel(): GlobalModel {
  validated ??= validateWeights(bundled);
  return validated;
}
