// The global network: one hidden ReLU layer and a linear head with one output per (level, horizon).
// Plain Float64Array matrix-vector products: cheap enough for the reconcile path, no TensorFlow.

export interface GlobalNetwork {
  inputs: number;
  hidden: number;
  /** Ascending quantile levels in (0, 1); includes 0.5. */
  levels: number[];
  horizons: number;
  /** hidden x inputs, row-major. */
  w1: Float64Array;
  b1: Float64Array;
  /** outputs x hidden, row-major; output row l * horizons + h is level l at horizon h. */
  w2: Float64Array;
  b2: Float64Array;
}

export function outputCount(network: Pick<GlobalNetwork, 'levels' | 'horizons'>): number {
  return network.levels.length * network.horizons;
}

/** The hidden layer's activations for input x: what the head reads and fine-tuning refits on. */
export function hiddenFeatures(network: GlobalNetwork, x: Float64Array): Float64Array {
  const { inputs, hidden, w1, b1 } = network;
  const h = new Float64Array(hidden);
  for (let j = 0; j < hidden; j++) {
    let sum = b1[j];
    const row = j * inputs;
    for (let i = 0; i < inputs; i++) sum += w1[row + i] * x[i];
    h[j] = sum > 0 ? sum : 0;
  }
  return h;
}

/** The global head's outputs for hidden activations h. */
export function headOutputs(network: GlobalNetwork, h: Float64Array): Float64Array {
  const { hidden, w2, b2 } = network;
  const out = new Float64Array(b2.length);
  for (let o = 0; o < out.length; o++) {
    let sum = b2[o];
    const row = o * hidden;
    for (let j = 0; j < hidden; j++) sum += w2[row + j] * h[j];
    out[o] = sum;
  }
  return out;
}

/** The index of level 0.5 (validated to exist when the weights are loaded). */
export function medianLevel(network: Pick<GlobalNetwork, 'levels'>): number {
  return network.levels.indexOf(0.5);
}
