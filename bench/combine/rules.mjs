// Combination rules for bench/combination.mjs: each maps the members' validation forecasts to weights
// (and, for the offset rules, a shift of the blend).
// Kept apart from the Ensemble so rules can be compared on the same member forecasts in seconds,
// without refitting anything. MASE and the mean are the product's own (compiled in dist/).
import { mase } from '../../dist/forecast/accuracy.js';
import { finiteMean } from '../../dist/forecast/backtest.js';
import { median } from '../lib.mjs';

export function blend(forecasts, weights) {
  return forecasts[0].map((_, h) => forecasts.reduce((s, f, i) => s + weights[i] * f[h], 0));
}

/** Validation MASE of a blend with `weights` over the folds. */
export function blendMase(folds, forecastsPerFold, weights) {
  return finiteMean(folds.map((fold, k) => mase(fold.actual, blend(forecastsPerFold[k], weights), fold.scale)));
}

const normalise = (w) => {
  const total = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / total);
};

function dropped(scores, ratio) {
  const best = Math.min(...scores);
  return scores.map((s) => !(best > 0 && s > ratio * best));
}

function inversePower(scores, power, keep = scores.map(() => true)) {
  return normalise(scores.map((s, i) => (keep[i] ? 1 / Math.max(s, 1e-3) ** power : 0)));
}

/** Every weight vector on the simplex with the given step. */
function simplex(n, step) {
  const units = Math.round(1 / step);
  const out = [];
  const rec = (prefix, left) => {
    if (prefix.length === n - 1) {
      out.push([...prefix, left].map((u) => u / units));
      return;
    }
    for (let u = 0; u <= left; u++) rec([...prefix, u], left - u);
  };
  rec([], units);
  return out;
}

function stacked(folds, perFold, n, step) {
  let best = null;
  for (const w of simplex(n, step)) {
    const score = blendMase(folds, perFold, w);
    if (best === null || score < best.score) best = { w, score };
  }
  return best;
}

const medianOf = (values) => median(values) ?? 0;

/** Validation residuals (actual - blend) per fold and step. */
const residualsOf = (folds, perFold, weights) =>
  folds.map((fold, k) => {
    const b = blend(perFold[k], weights);
    return fold.actual.map((actual, h) => actual - b[h]);
  });

/** Per step, the median validation residual: moves the blend onto the median the folds saw. */
function stepOffsets(folds, perFold, weights) {
  const residuals = residualsOf(folds, perFold, weights);
  return folds[0].actual.map((_, h) => medianOf(residuals.map((r) => r[h])));
}

/** One offset for every step: `shrink` times the median of all validation residuals. */
function levelOffsets(folds, perFold, weights, shrink) {
  const level = shrink * medianOf(residualsOf(folds, perFold, weights).flat());
  return folds[0].actual.map(() => level);
}

/** Which members are the best two by validation MASE. */
function bestTwo(scores) {
  const order = scores.map((s, i) => [s, i]).sort((a, b) => a[0] - b[0]);
  const keep = new Set(order.slice(0, 2).map(([, i]) => i));
  return scores.map((_, i) => keep.has(i));
}

const v1 = (scores) => inversePower(scores, 1, dropped(scores, 1.5));

/**
 * The weights, or the best member alone when it scored better than the blend on the validation
 * folds; with `mostFolds`, only when it also beat the blend on more than half of them (one member
 * winning the mean by a few folds' large errors, such as a level shift, is not taken as dominating).
 */
function orBest(weigh, { mostFolds = false } = {}) {
  return (scores, folds, perFold) => {
    const weights = weigh(scores);
    const best = scores.indexOf(Math.min(...scores));
    if (!(scores[best] < blendMase(folds, perFold, weights))) return weights;
    const alone = scores.map((_, i) => (i === best ? 1 : 0));
    if (!mostFolds) return alone;
    const compared = folds
      .map((fold, k) => [mase(fold.actual, perFold[k][best], fold.scale), mase(fold.actual, blend(perFold[k], weights), fold.scale)])
      .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    const wins = compared.filter(([a, b]) => a < b).length;
    return wins > compared.length / 2 ? alone : weights;
  };
}

/**
 * Each rule: (scores, folds, perFold) -> weights, or { weights, offsets } to also shift the blend by
 * a per-step offset; scores[i] is member i's validation MASE, folds the validation folds
 * ({actual, scale}) and perFold[k][i] member i's forecast for fold k.
 */
export const RULES = {
  'inv-mase, drop >1.5x (v1)': v1,
  'v1 + per-step median offset': (scores, folds, perFold) => {
    const weights = v1(scores);
    return { weights, offsets: stepOffsets(folds, perFold, weights) };
  },
  'v1 + half level median offset': (scores, folds, perFold) => {
    const weights = v1(scores);
    return { weights, offsets: levelOffsets(folds, perFold, weights, 0.5) };
  },
  'inv-mase^2, drop >1.5x': (scores) => inversePower(scores, 2, dropped(scores, 1.5)),
  'v1, or the best member when it beat the blend': orBest(v1),
  'inv-mase^2, or the best member when it beat the blend': orBest((scores) => inversePower(scores, 2)),
  'v1, or the best member when it beat the blend on most folds': orBest(v1, { mostFolds: true }),
  'inv-mase^2': (scores) => inversePower(scores, 2),
  'inv-mase^4': (scores) => inversePower(scores, 4),
  'select best': (scores) => {
    const best = scores.indexOf(Math.min(...scores));
    return scores.map((_, i) => (i === best ? 1 : 0));
  },
  equal: (scores) => scores.map(() => 1 / scores.length),
  'stack 0.1': (scores, folds, perFold) => stacked(folds, perFold, scores.length, 0.1).w,
  'stack 0.05': (scores, folds, perFold) => stacked(folds, perFold, scores.length, 0.05).w,
  'stack 0.05, half inv-mase^2': (scores, folds, perFold) => {
    const w = stacked(folds, perFold, scores.length, 0.05).w;
    const v = inversePower(scores, 2);
    return w.map((x, i) => (x + v[i]) / 2);
  },
  'top-2 equal': (scores) => inversePower(scores, 0, bestTwo(scores)),
  'top-2 inv-mase': (scores) => inversePower(scores, 1, bestTwo(scores)),
};
