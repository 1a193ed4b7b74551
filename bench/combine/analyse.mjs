// Scores every combination rule (bench/combine/rules.mjs) on the member forecasts dumped by
// bench/combine/dump.mjs, for several validation lengths, against the best statistical model fitted
// at each origin (what `prescale backtest` compares with).
import { mase } from '../../dist/forecast/accuracy.js';
import { finiteMean } from '../../dist/forecast/backtest.js';
import { median } from '../lib.mjs';
import { blend } from './rules.mjs';

/** The members a dump holds (dumps from before the member list was recorded hold these four). */
export function membersOf(dump) {
  return dump.members ?? ['LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear'];
}

/** The statistical members: the ones also fitted at each origin as comparators. */
export function statisticalOf(dump) {
  return membersOf(dump).filter((m) => m in (dump.origins[0]?.comparators ?? {}));
}

/** Per-trace test MASE of every statistical comparator, and the best of them. */
export function comparatorScores(dump) {
  const byModel = Object.fromEntries(
    statisticalOf(dump).map((m) => [m, finiteMean(dump.origins.map((o) => (o.comparators[m] ? mase(o.actual, o.comparators[m], o.scale) : NaN)))]),
  );
  return { byModel, best: Math.min(...Object.values(byModel).filter(Number.isFinite)) };
}

/**
 * Test MASE of a rule on one trace with the last `v` validation folds. A rule returns weights, or
 * { weights, offsets } to also shift the blend by a per-step offset.
 */
export function ruleScore(dump, rule, v) {
  return finiteMean(
    dump.origins.map((o) => {
      const names = Object.keys(o.members).filter((m) => o.members[m].test && o.members[m].validation.length >= v);
      if (names.length === 0) return NaN;
      const folds = o.validation.slice(-v);
      const perFold = folds.map((_, k) => names.map((m) => o.members[m].validation[o.validation.length - v + k]));
      const scores = names.map((_, i) => finiteMean(folds.map((f, k) => mase(f.actual, perFold[k][i], f.scale))));
      const usable = scores.map(Number.isFinite);
      if (!usable.some(Boolean)) return NaN;
      const idx = names.map((_, i) => i).filter((i) => usable[i]);
      const chosen = rule(
        idx.map((i) => scores[i]),
        folds,
        perFold.map((f) => idx.map((i) => f[i])),
      );
      const { weights, offsets } = Array.isArray(chosen) ? { weights: chosen, offsets: null } : chosen;
      const point = blend(idx.map((i) => o.members[names[i]].test), weights);
      return mase(o.actual, offsets ? point.map((p, h) => p + offsets[h]) : point, o.scale);
    }),
  );
}

/**
 * The dump with every statistical member's test forecast replaced by that model refitted at the
 * origin: what the Ensemble would gain by refitting its (cheap) statistical members before it
 * forecasts, instead of carrying the fit from before the validation folds forward with update().
 */
export function refittedAtOrigin(dump) {
  const origins = dump.origins.map((o) => ({
    ...o,
    members: Object.fromEntries(Object.entries(o.members).map(([name, member]) => [name, o.comparators[name] ? { ...member, test: o.comparators[name] } : member])),
  }));
  return { ...dump, origins };
}

/** Test MASE of one member as the Ensemble would hold it (fitted before validation, updated). */
export function memberScore(dump, name) {
  return finiteMean(dump.origins.map((o) => (o.members[name]?.test ? mase(o.actual, o.members[name].test, o.scale) : NaN)));
}

/** Test MASE when the best member of each fold is known in advance: a bound on any combination that picks one member. */
export function foldOracle(dump) {
  return finiteMean(dump.origins.map((o) => Math.min(...Object.values(o.members).filter((m) => m.test).map((m) => mase(o.actual, m.test, o.scale)))));
}

/** Test MASE of the best member of the trace, with hindsight (statistical members refitted at the origin). */
export function bestMemberScore(dump) {
  const refitted = refittedAtOrigin(dump);
  return Math.min(...membersOf(dump).map((m) => memberScore(refitted, m)).filter(Number.isFinite));
}

export function summarise(ratios) {
  const r = ratios.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    traces: r.length,
    median: median(r),
    better: r.filter((x) => x < 1).length,
    over1_2: r.filter((x) => x > 1.2).length,
    worst: r.at(-1),
  };
}

/** 32-bit FNV-1a of a string's UTF-8 bytes. */
export function fnv1a(text) {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The fixed half a trace belongs to: 'A' when the FNV-1a hash of its file name is even, else 'B'. */
export const halfOf = (trace) => (fnv1a(trace) % 2 === 0 ? 'A' : 'B');
