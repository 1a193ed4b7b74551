// Per-scaler fine-tuning: the global network's hidden layer stays; the median head is refitted on
// the scaler's own windows by a ridge-penalised median regression (iteratively reweighted least
// squares) that shrinks toward the global head, so a day of history moves it a little and a week
// more. The other levels move with the median (same shift), keeping the global spread around it.
import { buildFeatures, buildTargets, DAY_SLOTS, FEATURE_COUNT, HORIZON_SLOTS, MIN_CONTEXT_OBSERVED, WEEK_SLOTS } from './features.js';
import { GRID_STEP_MS } from './grid.js';
import { hiddenFeatures, medianLevel, type GlobalNetwork } from './network.js';

/** Fine-tuning needs this much of the scaler's own history (grid slots from the first observed one). */
export const MIN_TUNING_HISTORY_SLOTS = DAY_SLOTS;
/** Windows from at most the last week are used; older behaviour matters less and costs time. */
export const TUNING_SPAN_SLOTS = WEEK_SLOTS;
/** Fewer complete windows than this tune nothing. */
export const MIN_TUNING_WINDOWS = 24;
const MAX_TUNING_WINDOWS = 336;
const MIN_STRIDE_SLOTS = 3;
/**
 * The global head counts as this many windows of evidence: with one day of windows (about 45 at a
 * 30-minute stride) the tuned head is roughly half local, with a week mostly local.
 */
const PRIOR_WINDOWS = 48;
const IRLS_ITERATIONS = 5;
/** Residuals below this (in normalised units, a share of the level) are weighted as this. */
const IRLS_FLOOR = 0.05;

export interface TunedHead {
  /** HORIZON_SLOTS x (hidden + 1) additions to the median head (weights, then the bias). */
  delta: Float64Array;
  windows: number;
  /** Mean absolute error of the median over the tuning windows, normalised, before and after. */
  inSampleMaeGlobal: number;
  inSampleMaeTuned: number;
}

interface Windows {
  count: number;
  /** count x (hidden + 1): hidden activations and a constant 1. */
  phi: Float64Array;
  /** count x HORIZON_SLOTS normalised targets. */
  targets: Float64Array;
}

/**
 * Refits the median head on windows of `grid` (the scaler's history on the 5-minute grid, its last
 * slot at `endTime`). Null when the history is shorter than MIN_TUNING_HISTORY_SLOTS or yields fewer
 * than MIN_TUNING_WINDOWS complete windows.
 */
export function fineTuneHead(network: GlobalNetwork, grid: Float64Array, endTime: number): TunedHead | null {
  const windows = collectWindows(network, grid, endTime);
  if (!windows) return null;
  const width = network.hidden + 1;
  const median = medianLevel(network);
  const delta = new Float64Array(HORIZON_SLOTS * width);
  let globalError = 0;
  let tunedError = 0;
  for (let h = 0; h < HORIZON_SLOTS; h++) {
    const row = (median * network.horizons + h) * network.hidden;
    const prior = new Float64Array(width);
    prior.set(network.w2.subarray(row, row + network.hidden));
    prior[network.hidden] = network.b2[median * network.horizons + h];
    const tuned = medianRegression(windows, h, prior);
    for (let k = 0; k < width; k++) delta[h * width + k] = tuned[k] - prior[k];
    for (let n = 0; n < windows.count; n++) {
      const target = windows.targets[n * HORIZON_SLOTS + h];
      globalError += Math.abs(target - dot(windows.phi, n * width, prior));
      tunedError += Math.abs(target - dot(windows.phi, n * width, tuned));
    }
  }
  const points = windows.count * HORIZON_SLOTS;
  return { delta, windows: windows.count, inSampleMaeGlobal: globalError / points, inSampleMaeTuned: tunedError / points };
}

function collectWindows(network: GlobalNetwork, grid: Float64Array, endTime: number): Windows | null {
  const lastSlot = grid.length - 1;
  let firstObserved = 0;
  while (firstObserved < grid.length && !Number.isFinite(grid[firstObserved])) firstObserved++;
  if (lastSlot - firstObserved + 1 < MIN_TUNING_HISTORY_SLOTS) return null;
  const newest = lastSlot - HORIZON_SLOTS;
  const oldest = Math.max(firstObserved + MIN_CONTEXT_OBSERVED - 1, lastSlot - TUNING_SPAN_SLOTS);
  if (newest < oldest) return null;
  const stride = Math.max(MIN_STRIDE_SLOTS, Math.ceil((newest - oldest + 1) / MAX_TUNING_WINDOWS));
  const width = network.hidden + 1;
  const phi: number[] = [];
  const targets: number[] = [];
  const x = new Float64Array(FEATURE_COUNT);
  const y = new Float64Array(HORIZON_SLOTS);
  let count = 0;
  for (let last = newest; last >= oldest; last -= stride) {
    const norm = buildFeatures(grid, 0, last, endTime - (lastSlot - last) * GRID_STEP_MS, x);
    if (!norm || !buildTargets(grid, last, norm, y)) continue;
    const h = hiddenFeatures(network, x);
    for (let k = 0; k < network.hidden; k++) phi.push(h[k]);
    phi.push(1);
    for (let k = 0; k < HORIZON_SLOTS; k++) targets.push(y[k]);
    count++;
  }
  if (count < MIN_TUNING_WINDOWS) return null;
  if (phi.length !== count * width) throw new Error('fine-tuning windows out of shape');
  return { count, phi: Float64Array.from(phi), targets: Float64Array.from(targets) };
}

/**
 * argmin_w  sum_n |t_n - w.phi_n| + lambda |w - prior|^2, by reweighted least squares from the prior;
 * lambda is PRIOR_WINDOWS windows' worth of the weighted Gram matrix's mean diagonal.
 */
function medianRegression(windows: Windows, h: number, prior: Float64Array): Float64Array {
  const width = prior.length;
  let w: Float64Array = Float64Array.from(prior);
  const weights = new Float64Array(windows.count);
  for (let iteration = 0; iteration < IRLS_ITERATIONS; iteration++) {
    for (let n = 0; n < windows.count; n++) {
      const residual = windows.targets[n * HORIZON_SLOTS + h] - dot(windows.phi, n * width, w);
      weights[n] = 1 / Math.max(IRLS_FLOOR, Math.abs(residual));
    }
    const gram = new Float64Array(width * width);
    const rhs = new Float64Array(width);
    for (let n = 0; n < windows.count; n++) {
      const base = n * width;
      const weight = weights[n];
      const target = windows.targets[n * HORIZON_SLOTS + h];
      for (let i = 0; i < width; i++) {
        const wi = weight * windows.phi[base + i];
        if (wi === 0) continue;
        rhs[i] += wi * target;
        for (let j = 0; j <= i; j++) gram[i * width + j] += wi * windows.phi[base + j];
      }
    }
    let trace = 0;
    for (let i = 0; i < width; i++) trace += gram[i * width + i];
    // Per window of average weight, so the prior's strength does not depend on the residuals' size.
    const lambda = Math.max(1e-9, (PRIOR_WINDOWS * trace) / width / windows.count);
    for (let i = 0; i < width; i++) {
      gram[i * width + i] += lambda;
      rhs[i] += lambda * prior[i];
    }
    const solved = choleskySolve(gram, rhs, width);
    if (!solved) break;
    w = solved;
  }
  return w;
}

/** Solves A x = b for symmetric positive definite A (lower triangle filled); null if it is not. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j];
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        if (!(sum > 0)) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
    y[i] = sum / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * x[k];
    x[i] = sum / l[i * n + i];
  }
  for (const v of x) if (!Number.isFinite(v)) return null;
  return x;
}

function dot(phi: Float64Array, offset: number, w: Float64Array): number {
  let sum = 0;
  for (let k = 0; k < w.length; k++) sum += phi[offset + k] * w[k];
  return sum;
}
