// The committed global weights (weights/global-v1.json, see weights/PROVENANCE.md). The JSON is
// imported so that tsc copies it into dist/ beside this module.
import bundled from './weights/global-v1.json' with { type: 'json' };
import { validateWeights, type GlobalModel } from './weights.js';

/**
 * The committed weights, validated afresh on every call (about a millisecond): a caller that
 * builds many forecasters keeps the result and passes it to each.
 */
export function bundledGlobalModel(): GlobalModel {
  return validateWeights(bundled);
}
