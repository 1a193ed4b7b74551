// The LSTM cell's element-wise arithmetic, forward and backward, as two TensorFlow.js kernels of
// this project's own, one launch per timestep each.
//
// Why: at the forecaster's sizes (batch 64, 20 units) a kernel launch costs several microseconds
// whatever it computes, and the cell is about thirty small element-wise ops a timestep forward and
// back (four gate activations, the cell and hidden updates, their derivatives, the slices and joins
// between them). Written as separate ops they were most of a training step's launches and time;
// fused here they are two launches a timestep, beside the two matrix products (tf/forward.ts,
// tf/backward.ts) that stay on the backend's own matmul.
//
// They run on every backend: on the WebAssembly one in place, on views of its heap (as its own
// JavaScript kernels do); on the others through readSync() and write(), which every backend
// implements (on the native one at the cost of a copy each way). They are registered for a
// backend the first time it runs them.
//
// The cell is tf.layers' LSTMCell with its defaults, which is what the forecaster's stored states
// hold: gates in the order input, forget, candidate, output; i, f, o = hardSigmoid (clip(0.2 z +
// 0.5, 0, 1)), g = tanh; c' = f c + i g; h = o tanh(c'). The state starts at zero.
import * as tf from '@tensorflow/tfjs';

export const LSTM_CELL = 'PrescaleLstmCell';
export const LSTM_CELL_GRAD = 'PrescaleLstmCellGrad';

/** Values a timestep keeps per unit, for the next timestep and the backward pass: i, f, g, o, tanh(c'), c'. */
export const KEPT_PER_UNIT = 6;

const HARD_SLOPE = Math.fround(0.2);

// tanh as a rational function, the one Eigen (and so TensorFlow's CPU kernels) uses for float32:
// within a few float32 ulps of Math.tanh over the whole line, and several times faster than it.
const TANH_CLAMP = 7.90531110763549805;
const A1 = 4.89352455891786e-3;
const A3 = 6.37261928875436e-4;
const A5 = 1.48572235717979e-5;
const A7 = 5.12229709037114e-8;
const A9 = -8.60467152213735e-11;
const A11 = 2.00018790482477e-13;
const A13 = -2.76076847742355e-16;
const B0 = 4.89352518554385e-3;
const B2 = 2.268434632439e-3;
const B4 = 1.18534705686654e-4;
const B6 = 1.19825839466702e-6;

export function tanh(z: number): number {
  const x = z > TANH_CLAMP ? TANH_CLAMP : z < -TANH_CLAMP ? -TANH_CLAMP : z;
  const x2 = x * x;
  const p = x * (A1 + x2 * (A3 + x2 * (A5 + x2 * (A7 + x2 * (A9 + x2 * (A11 + x2 * A13))))));
  return p / (B0 + x2 * (B2 + x2 * (B4 + x2 * B6)));
}

function hardSigmoid(z: number): number {
  const u = HARD_SLOPE * z + 0.5;
  return u <= 0 ? 0 : u >= 1 ? 1 : u;
}

/** d hardSigmoid / dz, from the gate's value: the slope inside the clip, 0 where it saturates. */
function hardSigmoidSlope(a: number): number {
  return a > 0 && a < 1 ? HARD_SLOPE : 0;
}

type Backend = tf.KernelBackend;

/** What the WebAssembly backend offers its own JavaScript kernels: outputs made and read in its heap, without copies. */
interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
}

function isHeapBackend(backend: object): backend is HeapBackend & object {
  const b = backend as Partial<HeapBackend>;
  return typeof b.makeOutput === 'function' && typeof b.typedArrayFromHeap === 'function';
}

/**
 * Views of the inputs and of freshly made outputs. On the WebAssembly backend they are views of
 * its heap, all taken after every output is allocated (an allocation can grow the heap and detach
 * earlier views); elsewhere the inputs are read with readSync() and the outputs are plain arrays
 * that finish() writes to the backend.
 */
function views(backend: object, inputs: (tf.TensorInfo | undefined)[], outputShapes: number[][]): { inputs: (Float32Array | undefined)[]; outputs: Float32Array[]; finish: () => tf.TensorInfo[] } {
  if (isHeapBackend(backend)) {
    const infos = outputShapes.map((shape) => backend.makeOutput(shape, 'float32'));
    return {
      inputs: inputs.map((info) => info && backend.typedArrayFromHeap(info)),
      outputs: infos.map((info) => backend.typedArrayFromHeap(info)),
      finish: () => infos,
    };
  }
  const b = backend as Backend;
  const outputs = outputShapes.map((shape) => new Float32Array(shape.reduce((x, y) => x * y, 1)));
  return {
    inputs: inputs.map((info) => info && (b.readSync(info.dataId) as Float32Array)),
    outputs,
    finish: () => outputs.map((values, k) => ({ dataId: b.write(values, outputShapes[k], 'float32'), shape: outputShapes[k], dtype: 'float32' })),
  };
}

/**
 * Forward: inputs z [B, 4U] (the gate pre-activations, column blocks i, f, g, o), kept [B, 6U]
 * (the previous timestep's; absent at the first, whose cell before is zero) and next [≥ B, N],
 * whose rows from attribute `row` on are the next inputs (all timesteps' inputs are one tensor).
 * Outputs what the next timestep and the backward pass need, kept [B, 6U] (per unit i, f, g, o,
 * tanh c', c'); [h | next] [B, U + N], the next product's left operand (or the dense layer's, at
 * the last step); and its transpose [U + N, B], the left operand of the weight gradient's product
 * (tf/backward.ts), written here because the backend's transpose costs more than the writes.
 */
function cellForward({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const { z, kept: previous, next } = inputs as { z: tf.TensorInfo; kept?: tf.TensorInfo; next: tf.TensorInfo };
  const [count, gates] = z.shape;
  const units = gates / 4;
  const width = next.shape[1];
  const row = Number(attrs?.row ?? 0);
  const v = views(backend, [z, previous, next], [[count, KEPT_PER_UNIT * units], [count, units + width], [units + width, count]]);
  const [zValues, previousValues, nextValues] = v.inputs;
  forwardValues(count, units, width, zValues!, previousValues, nextValues!.subarray(row * width, (row + count) * width), v.outputs[0], v.outputs[1], v.outputs[2]);
  return v.finish();
}

/** One timestep's cell for `count` examples, on plain arrays (the forward kernel's arithmetic; tf/inference.ts runs it directly). */
export function forwardValues(count: number, units: number, width: number, z: Float32Array, previous: Float32Array | undefined, next: Float32Array, kept: Float32Array, joined: Float32Array, joinedT: Float32Array): void {
  const gates = 4 * units;
  const keptWidth = KEPT_PER_UNIT * units;
  const joinedWidth = units + width;
  for (let e = 0; e < count; e++) {
    const zAt = e * gates;
    const keptAt = e * keptWidth;
    const joinedAt = e * joinedWidth;
    for (let u = 0; u < units; u++) {
      const i = hardSigmoid(z[zAt + u]);
      const f = hardSigmoid(z[zAt + units + u]);
      const g = tanh(z[zAt + 2 * units + u]);
      const o = hardSigmoid(z[zAt + 3 * units + u]);
      const c = Math.fround(previous === undefined ? i * g : f * previous[keptAt + 5 * units + u] + i * g);
      const squashed = tanh(c);
      kept[keptAt + u] = i;
      kept[keptAt + units + u] = f;
      kept[keptAt + 2 * units + u] = g;
      kept[keptAt + 3 * units + u] = o;
      kept[keptAt + 4 * units + u] = squashed;
      kept[keptAt + 5 * units + u] = c;
      const h = o * squashed;
      joined[joinedAt + u] = h;
      joinedT[u * count + e] = h;
    }
    const nextAt = e * width;
    for (let k = 0; k < width; k++) {
      joined[joinedAt + units + k] = next[nextAt + k];
      joinedT[(units + k) * count + e] = next[nextAt + k];
    }
  }
}

/**
 * Backward: inputs dH [B, U] (the loss's gradient for this step's h), dC [B, U] (for its cell,
 * from the step after; absent at the last step), kept [B, 6U] of this step and previous [B, 6U]
 * of the step before (absent at the first). Outputs the pre-activations' gradient dZ [B, 4U] and
 * the previous cell's share of the gradient, dC ⊙ f [B, U].
 */
function cellBackward({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: object }): tf.TensorInfo[] {
  const { dH, dC, kept, previous } = inputs as { dH: tf.TensorInfo; dC?: tf.TensorInfo; kept: tf.TensorInfo; previous?: tf.TensorInfo };
  const [count, units] = dH.shape;
  const v = views(backend, [dH, dC, kept, previous], [[count, 4 * units], [count, units]]);
  const [dHValues, dCValues, keptValues, previousValues] = v.inputs;
  backwardValues(count, units, dHValues!, dCValues, keptValues!, previousValues, v.outputs[0], v.outputs[1]);
  return v.finish();
}

function backwardValues(count: number, units: number, dH: Float32Array, carried: Float32Array | undefined, kept: Float32Array, previous: Float32Array | undefined, dZ: Float32Array, dPrevious: Float32Array): void {
  const keptWidth = KEPT_PER_UNIT * units;
  for (let e = 0; e < count; e++) {
    const at = e * units;
    const keptAt = e * keptWidth;
    const zAt = e * 4 * units;
    for (let u = 0; u < units; u++) {
      const i = kept[keptAt + u];
      const f = kept[keptAt + units + u];
      const g = kept[keptAt + 2 * units + u];
      const o = kept[keptAt + 3 * units + u];
      const squashed = kept[keptAt + 4 * units + u];
      const dh = dH[at + u];
      const dc = (carried === undefined ? 0 : carried[at + u]) + dh * o * (1 - squashed * squashed);
      dZ[zAt + u] = dc * g * hardSigmoidSlope(i);
      // The cell before the first step is zero, so the first forget gate has no effect.
      dZ[zAt + units + u] = previous === undefined ? 0 : dc * previous[keptAt + 5 * units + u] * hardSigmoidSlope(f);
      dZ[zAt + 2 * units + u] = dc * i * (1 - g * g);
      dZ[zAt + 3 * units + u] = dh * squashed * hardSigmoidSlope(o);
      dPrevious[at + u] = dc * f;
    }
  }
}

const KERNELS: readonly { name: string; kernelFunc: tf.KernelFunc }[] = [
  { name: LSTM_CELL, kernelFunc: cellForward as tf.KernelFunc },
  { name: LSTM_CELL_GRAD, kernelFunc: cellBackward as tf.KernelFunc },
];

/** Registers the kernels for the active backend unless it has them already. */
export function ensureKernels(): void {
  const backendName = tf.getBackend();
  for (const { name, kernelFunc } of KERNELS) {
    if (!tf.getKernel(name, backendName)) tf.registerKernel({ kernelName: name, backendName, kernelFunc });
  }
}

type Inputs = Record<string, tf.Tensor | undefined>;

function run(name: string, inputs: Inputs, attrs: tf.NamedAttrMap = {}): tf.Tensor2D[] {
  const present = Object.fromEntries(Object.entries(inputs).filter(([, t]) => t !== undefined)) as tf.NamedTensorMap;
  return tf.engine().runKernel(name, present, attrs) as tf.Tensor2D[];
}

/**
 * One forward timestep: [kept, [h | next], its transpose], where next is rows row .. row + B - 1
 * of `next`. `previous` (the last step's kept) is undefined at the first step.
 */
export function lstmCell(z: tf.Tensor2D, previous: tf.Tensor2D | undefined, next: tf.Tensor2D, row = 0): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const [kept, joined, joinedT] = run(LSTM_CELL, { z, kept: previous, next }, { row });
  return [kept, joined, joinedT];
}

/** One backward timestep: [dZ, dC for the previous cell]. `dC` is undefined at the last step, `previous` at the first. */
export function lstmCellGrad(dH: tf.Tensor2D, dC: tf.Tensor2D | undefined, kept: tf.Tensor2D, previous: tf.Tensor2D | undefined): [tf.Tensor2D, tf.Tensor2D] {
  const [dZ, dPrevious] = run(LSTM_CELL_GRAD, { dH, dC, kept, previous });
  return [dZ, dPrevious];
}
