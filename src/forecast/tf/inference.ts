// The forward pass of tf/forward.ts in plain JavaScript, for the few examples a forecast runs the
// network on (one per horizon block). A one-example pass through TensorFlow.js is about 65 kernel
// launches whose fixed costs are most of its time; here the products are loops over the weights
// read back once per set of weights, and the cell is the forward kernel's own arithmetic.
import { forwardValues, KEPT_PER_UNIT } from './kernels.js';
import { STEP_COLUMNS } from './inputs.js';
import { FEATURES_PER_STEP, type ExampleBatch, type WindowShape } from './windows.js';

export interface PlainWeights {
  /** The stacked LSTM kernel, (U + F + 1) × 4U row-major (tf/forward.ts). */
  kernel: Float32Array;
  /** The stacked dense layer, (U + H + 1) × H row-major. */
  dense: Float32Array;
}

/** left [count, rows] · right [rows, columns], row-major, in float32 as the backend's product. */
function product(left: Float32Array, right: Float32Array, count: number, rows: number, columns: number): Float32Array {
  const out = new Float32Array(count * columns);
  const sums = new Float64Array(columns);
  for (let e = 0; e < count; e++) {
    sums.fill(0);
    for (let r = 0; r < rows; r++) {
      const a = left[e * rows + r];
      if (a === 0) continue;
      const at = r * columns;
      for (let c = 0; c < columns; c++) sums[c] += a * right[at + c];
    }
    out.set(sums, e * columns);
  }
  return out;
}

/** The corrections for a batch, [count, H] row-major. */
export function plainCorrections(weights: PlainWeights, shape: WindowShape, units: number, batch: Pick<ExampleBatch, 'count' | 'sequence' | 'offsets'>): Float32Array {
  const { count } = batch;
  const { windowSteps, horizonSteps } = shape;
  const rows = units + STEP_COLUMNS;
  const stepInputs = (t: number): Float32Array => {
    const values = new Float32Array(count * STEP_COLUMNS);
    for (let e = 0; e < count; e++) {
      const from = (e * windowSteps + t) * FEATURES_PER_STEP;
      values.set(batch.sequence.subarray(from, from + FEATURES_PER_STEP), e * STEP_COLUMNS);
      values[e * STEP_COLUMNS + FEATURES_PER_STEP] = 1;
    }
    return values;
  };
  let joined = new Float32Array(count * rows);
  const first = stepInputs(0);
  for (let e = 0; e < count; e++) joined.set(first.subarray(e * STEP_COLUMNS, (e + 1) * STEP_COLUMNS), e * rows + units);
  let kept: Float32Array | undefined;
  for (let t = 0; t < windowSteps; t++) {
    const last = t === windowSteps - 1;
    const next = last ? withOnes(batch.offsets, count, horizonSteps) : stepInputs(t + 1);
    const width = last ? horizonSteps + 1 : STEP_COLUMNS;
    const z = product(joined, weights.kernel, count, rows, 4 * units);
    const nextKept = new Float32Array(count * KEPT_PER_UNIT * units);
    const nextJoined = new Float32Array(count * (units + width));
    forwardValues(count, units, width, z, kept, next, nextKept, nextJoined, new Float32Array(count * (units + width)));
    kept = nextKept;
    joined = nextJoined;
  }
  return product(joined, weights.dense, count, units + horizonSteps + 1, horizonSteps);
}

function withOnes(offsets: Float32Array, count: number, horizonSteps: number): Float32Array {
  const values = new Float32Array(count * (horizonSteps + 1));
  for (let e = 0; e < count; e++) {
    values.set(offsets.subarray(e * horizonSteps, (e + 1) * horizonSteps), e * (horizonSteps + 1));
    values[e * (horizonSteps + 1) + horizonSteps] = 1;
  }
  return values;
}
