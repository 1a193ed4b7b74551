// Ensemble forecaster: its members are scored out of sample on the latest history, members much
// worse than the best are dropped, the rest are weighted by inverse error, and the forecast (mean
// and every quantile) is the weighted average of theirs, or the best member's alone when it scored
// better on validation than that blend, on the mean and on most folds. Weights are recomputed at
// each fit, i.e. at each retrain.
//
// Validation fits each member once, on the history before the first of the consecutive
// horizon-long folds at the end of the series (by default as many as cover one season, a day),
// then walks it from fold to fold with
// update(): the parameters stay those learned before the first origin, so every fold is out of
// sample, and a member costs one fit rather than one per fold (an LSTM fit takes seconds). The
// kept members are then brought up to the full series: cheap members (`refitAtOrigin`, the
// statistical models) are refitted on it, so their parameters see the latest history as a model
// fitted alone would; the others are walked there with update(), without refitting.
//
// A member that is costly to fit (the LSTM, `refitEveryMs`) is not fitted again at every ensemble
// fit: while its last fit is recent, the next validation imports it and walks it to the new folds.
// That fit ended at the previous first fold, and the new folds start no earlier, so they stay out
// of sample. Retrains every few hours and on every drift then cost the statistical members' fits,
// not the network's.
import { mase, seasonalNaiveScale } from './accuracy.js';
import { finiteMean, foldOrigins } from './backtest.js';
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import { IncompatibleStateError, InsufficientHistoryError, type Forecast, type Forecaster, type ForecasterState, type Series } from './types.js';

export interface EnsembleMember {
  /** Unique within the ensemble: member states are stored and restored by name. */
  name: string;
  make: () => Forecaster;
  /** Refit this member on the whole history once chosen, instead of carrying its validation fit forward. */
  refitAtOrigin?: boolean;
  /**
   * Fit this member again only once the history before the first validation fold has grown by this
   * much since its last fit; in between, an ensemble fit walks that fit to the new folds with
   * update(). For members that cost far more to fit than the others.
   */
  refitEveryMs?: number;
}

export interface EnsembleOptions {
  members: EnsembleMember[];
  /**
   * Validation folds: consecutive horizon-long spans at the end of the history. When absent, as
   * many as cover `validationSpanMs`, as far as the history lets every member be fitted before
   * the first of them, and never fewer than MIN_VALIDATION_FOLDS.
   */
  validationFolds?: number;
  /**
   * The stretch of latest history validation should cover when `validationFolds` is not set:
   * a whole season, so that members are chosen on every part of the cycle (the daily ramp as well
   * as the quiet night), not on whatever the last few horizons happened to hold.
   */
  validationSpanMs?: number;
  /** Steps ahead each validation fold scores (the forecast horizon). */
  horizonSteps?: number;
  /** A member whose validation MASE exceeds this multiple of the best member's is dropped. */
  dropRatio?: number;
}

export interface MemberScore {
  name: string;
  /** Out-of-sample MASE on the validation folds; absent when it could not be scored. */
  mase?: number;
  weight: number;
  /** Why a member has no weight. */
  dropped?: string;
}

/** The fewest validation folds, whatever the span and history. */
export const MIN_VALIDATION_FOLDS = 4;
/** The default validation span: one day, the season of most workloads. */
export const DEFAULT_VALIDATION_SPAN_MS = 86_400_000;

/** Layout version of the Ensemble's exported state. */
const STATE_FORMAT = 1;

interface Kept {
  name: string;
  forecaster: Forecaster;
  weight: number;
}

/**
 * Where a member's parameters come from, for members with `refitEveryMs`: its latest fit (its
 * state) and the end of the history that fit saw, in ms since the epoch.
 */
interface Held {
  state: ForecasterState;
  fittedThrough: number;
}

interface Fitted {
  members: Kept[];
  scores: MemberScore[];
  /** The blend's own validation MASE. */
  mase: number | undefined;
  /** The latest fit of every member with `refitEveryMs`, kept or not, by name. */
  held: Map<string, Held>;
  /** How each member with `refitEveryMs` was validated at this fit: fitted, or walked from an older fit. */
  fits: Record<string, string>;
}

/** A validation fold: where it starts, what happened over its horizon, and its MASE scale. */
interface Fold {
  origin: number;
  actual: number[];
  scale: number;
}

/** A member that passed validation, with its inverse-error weight before normalising. */
interface Candidate {
  index: number;
  validated: Extract<Validated, { forecaster: Forecaster }>;
  weight: number;
}

/** A member after validation: fitted up to the last fold origin with its fold forecasts, or why not. */
type Validated =
  | { name: string; forecaster: Forecaster; foldMeans: number[][]; foldMases: number[]; mase: number | undefined; held?: Held; fit?: string }
  | { name: string; failure: string };

export class EnsembleForecaster implements Forecaster {
  readonly name = 'Ensemble';
  private readonly fixedFolds: number | undefined;
  private readonly spanMs: number;
  private readonly horizonSteps: number;
  private readonly dropRatio: number;
  private fitted: Fitted | undefined;

  constructor(private readonly options: EnsembleOptions) {
    if (options.members.length === 0) throw new Error('an ensemble needs at least one member');
    const names = options.members.map((m) => m.name);
    if (new Set(names).size !== names.length) throw new Error(`ensemble member names must be unique, got ${names.join(', ')}`);
    this.fixedFolds = options.validationFolds;
    this.spanMs = options.validationSpanMs ?? DEFAULT_VALIDATION_SPAN_MS;
    this.horizonSteps = options.horizonSteps ?? 30;
    this.dropRatio = options.dropRatio ?? 1.5;
  }

  /** The least any member needs, plus the validation span scored on top of it. */
  minHistoryPoints(stepMs: number): number {
    const least = Math.min(...this.options.members.map((m) => m.make().minHistoryPoints(stepMs)));
    return least + (this.fixedFolds ?? MIN_VALIDATION_FOLDS) * this.horizonSteps;
  }

  /**
   * How many folds validate on a history of `n` points: the fixed count, or the folds that cover
   * the span, fewer when the history before them would be too short for some member.
   */
  validationFoldCount(n: number, stepMs: number): number {
    if (this.fixedFolds !== undefined) return this.fixedFolds;
    const wanted = Math.max(MIN_VALIDATION_FOLDS, Math.ceil(this.spanMs / stepMs / this.horizonSteps));
    const most = Math.max(...this.options.members.map((m) => m.make().minHistoryPoints(stepMs)));
    const room = Math.floor((n - most) / this.horizonSteps);
    return Math.max(MIN_VALIDATION_FOLDS, Math.min(wanted, room));
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const folds = this.validationFolds(series);
    const previous = this.memberStates();
    const validated = this.options.members.map((m) => this.validate(m, series, folds, previous.get(m.name), this.fitted?.held.get(m.name)));
    const held = new Map<string, Held>();
    const fits: Record<string, string> = {};
    for (const v of validated) {
      if ('failure' in v) continue;
      if (v.held) held.set(v.name, v.held);
      if (v.fit) fits[v.name] = v.fit;
    }
    const scores: MemberScore[] = validated.map((v) => ({ name: v.name, weight: 0, ...('failure' in v ? { dropped: v.failure } : definedMase(v.mase)) }));
    const scored = scores.filter((s) => s.mase !== undefined);
    const best = Math.min(...scored.map((s) => s.mase!));
    const candidates: Candidate[] = [];
    validated.forEach((v, i) => {
      if ('failure' in v) return;
      const score = scores[i]!;
      const dropReason = this.dropReason(score, scored.length, best);
      if (dropReason !== undefined) {
        score.dropped = dropReason;
        release(v.forecaster);
        return;
      }
      // Inverse-error weights; a perfect member (MASE 0) is capped so it does not take everything.
      candidates.push({ index: i, validated: v, weight: score.mase === undefined ? 1 : 1 / Math.max(score.mase, 1e-3) });
    });
    const chosen = this.bestAloneOrBlend(candidates, folds, scores);
    const rest = candidates.filter((c) => !chosen.includes(c));
    let kept = this.broughtUpToDate(chosen, scores, series);
    if (kept.length === 0 && rest.length > 0) {
      // The best member could not follow the full history: the blend of the others serves.
      for (const c of rest) delete scores[c.index]!.dropped;
      kept = this.broughtUpToDate(rest, scores, series);
    } else {
      rest.forEach((c) => release(c.validated.forecaster));
    }
    if (kept.length === 0) throw new Error(`no ensemble member could be used: ${scores.map((s) => `${s.name}: ${s.dropped}`).join('; ')}`);
    const total = kept.reduce((sum, m) => sum + m.weight, 0);
    for (const m of kept) m.weight /= total;
    for (const s of scores) s.weight = kept.find((m) => m.name === s.name)?.weight ?? 0;
    const old = this.fitted;
    this.fitted = {
      members: kept.map(({ name, forecaster, weight }) => ({ name, forecaster, weight })),
      scores,
      mase: blendMase(folds, normalised(kept)),
      held,
      fits,
    };
    old?.members.forEach((m) => release(m.forecaster));
  }

  /** The candidates brought to the full series; those that cannot be are marked in `scores` and released. */
  private broughtUpToDate(candidates: Candidate[], scores: MemberScore[], series: Series): (Kept & { foldMeans: number[][] })[] {
    const kept: (Kept & { foldMeans: number[][] })[] = [];
    for (const c of candidates) {
      const upToDate = bringUpToDate(this.options.members[c.index]!, c.validated.forecaster, series);
      if ('failure' in upToDate) {
        scores[c.index]!.dropped = upToDate.failure;
        release(c.validated.forecaster);
        continue;
      }
      kept.push({ name: c.validated.name, forecaster: upToDate.forecaster, foldMeans: c.validated.foldMeans, weight: c.weight });
    }
    return kept;
  }

  /**
   * The members to blend: all candidates, or the best one alone when it scored better than their
   * blend on the validation folds, both on the mean and on most of the folds. A blend helps when the
   * members' errors differ; when one member dominates (the LSTM on some traces, seasonal-naive on
   * near-periodic ones), blending in the others only adds their error. A member that wins the mean
   * through a few folds of large errors (a level shift inside the span) does not dominate, and
   * alone it carries its failure mode into the forecast unhedged. The members set aside are marked
   * in `scores` with both errors.
   */
  private bestAloneOrBlend(candidates: Candidate[], folds: Fold[], scores: MemberScore[]): Candidate[] {
    if (candidates.length < 2) return candidates;
    const withScore = candidates.filter((c) => c.validated.mase !== undefined);
    if (withScore.length === 0) return candidates;
    const best = withScore.reduce((a, b) => (b.validated.mase! < a.validated.mase! ? b : a));
    const together = foldMases(folds, normalised(candidates.map((c) => ({ weight: c.weight, foldMeans: c.validated.foldMeans }))));
    const blended = definedMean(together);
    if (blended === undefined || !(best.validated.mase! < blended)) return candidates;
    const compared = best.validated.foldMases.map((a, k) => [a, together[k]!] as const).filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
    const wins = compared.filter(([a, b]) => a < b).length;
    if (!(wins > compared.length / 2)) return candidates;
    for (const c of candidates) {
      if (c !== best) {
        scores[c.index]!.dropped = `${best.validated.name} alone (validation MASE ${best.validated.mase!.toFixed(3)}) beat the blend (${blended.toFixed(3)}) on ${wins} of ${compared.length} folds`;
      }
    }
    return [best];
  }

  update(series: Series): void {
    if (!this.fitted) {
      this.fit(series);
      return;
    }
    for (const m of this.fitted.members) m.forecaster.update(series);
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const forecasts = fitted.members.map((m) => ({ weight: m.weight, forecast: m.forecaster.predict(steps, quantiles) }));
    const first = forecasts[0]!.forecast;
    const blend = (pick: (f: Forecast) => number[]) =>
      Array.from({ length: steps }, (_, h) => forecasts.reduce((sum, { weight, forecast }) => sum + weight * pick(forecast)[h]!, 0));
    return {
      model: this.name,
      start: first.start,
      stepMs: first.stepMs,
      mean: blend((f) => f.mean),
      // A weighted average of monotone quantile curves is monotone: the bands stay ordered.
      quantiles: quantiles.map((q, i) => ({ q, values: blend((f) => f.quantiles[i]!.values) })),
    };
  }

  describe(): Record<string, unknown> {
    if (!this.fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      members: this.fitted.scores.map((s) => ({ ...s })),
      // The ensemble's own expected error: its blended forecast scored on the validation folds.
      mase: this.fitted.mase,
      ...(Object.keys(this.fitted.fits).length > 0 ? { fits: { ...this.fitted.fits } } : {}),
    };
  }

  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      horizonSteps: this.horizonSteps,
      members: fitted.members.map((m) => ({ name: m.name, weight: m.weight, state: m.forecaster.exportState() })),
      scores: fitted.scores.map((s) => ({ ...s })),
      ...definedMase(fitted.mase),
      ...(fitted.held.size > 0 ? { held: [...fitted.held].map(([name, h]) => ({ name, fittedThrough: h.fittedThrough, state: h.state })) } : {}),
    };
  }

  importState(state: ForecasterState): void {
    const parsed = this.parseState(state);
    const members: Kept[] = [];
    try {
      for (const m of parsed.members) {
        const forecaster = this.memberFactory(m.name)();
        members.push({ name: m.name, forecaster, weight: m.weight });
        try {
          forecaster.importState(m.state);
        } catch (err) {
          throw new IncompatibleStateError(`Ensemble member ${m.name}: ${messageOf(err)}`);
        }
      }
    } catch (err) {
      members.forEach((m) => release(m.forecaster));
      throw err;
    }
    const old = this.fitted;
    this.fitted = { members, scores: parsed.scores, mase: parsed.mase, held: parsed.held, fits: {} };
    old?.members.forEach((m) => release(m.forecaster));
  }

  /** `folds` consecutive horizon-long folds ending at the last point, as backtest() lays them out. */
  private validationFolds(series: Series): Fold[] {
    const n = series.values.length;
    const folds = this.validationFoldCount(n, series.stepMs);
    const origins = foldOrigins(n, { horizonSteps: this.horizonSteps, warmupSteps: n - folds * this.horizonSteps, folds });
    return origins.map((origin) => ({
      origin,
      actual: series.values.slice(origin, origin + this.horizonSteps),
      scale: seasonalNaiveScale(series.values.slice(0, origin), series.stepMs),
    }));
  }

  /**
   * One fit before the first fold (or, for a member with a recent held fit, that fit walked there),
   * then update() and forecast at each fold origin.
   */
  private validate(member: EnsembleMember, series: Series, folds: Fold[], previous: ForecasterState | undefined, heldFit: Held | undefined): Validated {
    const firstOrigin = folds[0]!.origin;
    const firstOriginTime = series.start + firstOrigin * series.stepMs;
    const walkable = heldFit !== undefined && member.refitEveryMs !== undefined && firstOriginTime >= heldFit.fittedThrough && firstOriginTime - heldFit.fittedThrough < member.refitEveryMs;
    const forecaster = warmStarted(member, heldFit?.state ?? previous);
    try {
      let held: Held | undefined;
      let fit: string | undefined;
      if (walkable && this.walked(forecaster, head(series, firstOrigin))) {
        held = heldFit;
        fit = `walked from its fit through ${new Date(heldFit.fittedThrough).toISOString()}`;
      } else {
        forecaster.fit(head(series, firstOrigin));
        if (member.refitEveryMs !== undefined) {
          held = { state: forecaster.exportState(), fittedThrough: firstOriginTime };
          fit = 'fitted';
        }
      }
      const foldMeans = folds.map((fold, k) => {
        if (k > 0) forecaster.update(head(series, fold.origin));
        return forecaster.predict(this.horizonSteps, [0.5]).mean;
      });
      const perFold = foldMases(folds, [{ weight: 1, foldMeans }]);
      return { name: member.name, forecaster, foldMeans, foldMases: perFold, mase: definedMean(perFold), ...(held ? { held } : {}), ...(fit ? { fit } : {}) };
    } catch (err) {
      release(forecaster);
      const why = err instanceof InsufficientHistoryError ? 'too little history before the validation folds' : 'validation failed';
      return { name: member.name, failure: `${why}: ${messageOf(err)}` };
    }
  }

  private dropReason(score: MemberScore, scoredCount: number, best: number): string | undefined {
    if (score.mase === undefined) return scoredCount > 0 ? 'could not be scored on the validation folds' : undefined;
    if (best > 0 && score.mase > this.dropRatio * best) {
      return `validation MASE ${score.mase.toFixed(3)} is over ${this.dropRatio}x the best member's ${best.toFixed(3)}`;
    }
    return undefined;
  }

  /** Whether an imported fit followed `series` with update(); false when it cannot (it is then fitted). */
  private walked(forecaster: Forecaster, series: Series): boolean {
    try {
      forecaster.update(series);
      return true;
    } catch {
      return false;
    }
  }

  /** The current members' states by name, so a refit can warm-start from them (held members start from their held fit). */
  private memberStates(): Map<string, ForecasterState> {
    const states = new Map<string, ForecasterState>();
    for (const m of this.fitted?.members ?? []) {
      if (this.fitted?.held.has(m.name)) continue;
      try {
        states.set(m.name, m.forecaster.exportState());
      } catch {
        // A member that cannot export its state simply fits cold.
      }
    }
    return states;
  }

  private memberFactory(name: string): () => Forecaster {
    return this.options.members.find((m) => m.name === name)!.make;
  }

  /** Checks an exported Ensemble state against this ensemble; throws IncompatibleStateError. */
  private parseState(state: unknown): { members: { name: string; weight: number; state: ForecasterState }[]; scores: MemberScore[]; mase: number | undefined; held: Map<string, Held> } {
    const reject = (why: string): never => {
      throw new IncompatibleStateError(`not an Ensemble state for this ensemble: ${why}`);
    };
    if (!isRecord(state)) return reject('not an object');
    if (state.model !== this.name) return reject(`model is ${String(state.model)}`);
    if (state.format !== STATE_FORMAT) return reject(`format ${String(state.format)}, this version reads ${STATE_FORMAT}`);
    if (state.horizonSteps !== this.horizonSteps) return reject(`horizon of ${String(state.horizonSteps)} steps, this ensemble forecasts ${this.horizonSteps}`);
    const known = new Set(this.options.members.map((m) => m.name));
    if (!Array.isArray(state.members) || state.members.length === 0) return reject('no members');
    const members = state.members.map((m: unknown) => {
      if (!isRecord(m) || typeof m.name !== 'string' || !known.has(m.name)) return reject(`unknown member ${isRecord(m) ? String(m.name) : String(m)}`);
      if (!isFiniteNumber(m.weight) || !(m.weight > 0 && m.weight <= 1)) return reject(`member ${m.name} has weight ${String(m.weight)}`);
      if (!isRecord(m.state) || typeof m.state.model !== 'string' || !isFiniteNumber(m.state.format)) return reject(`member ${m.name} has no state`);
      return { name: m.name, weight: m.weight, state: m.state as ForecasterState };
    });
    if (new Set(members.map((m) => m.name)).size !== members.length) return reject('a member appears twice');
    const total = members.reduce((sum, m) => sum + m.weight, 0);
    if (Math.abs(total - 1) > 1e-9) return reject(`member weights sum to ${total}`);
    if (!Array.isArray(state.scores)) return reject('no scores');
    const scores = state.scores.map((s: unknown): MemberScore => {
      if (!isRecord(s) || typeof s.name !== 'string' || !known.has(s.name) || !isFiniteNumber(s.weight)) return reject('a malformed member score');
      if (s.mase !== undefined && !(isFiniteNumber(s.mase) && s.mase >= 0)) return reject(`member ${s.name} has MASE ${String(s.mase)}`);
      if (s.dropped !== undefined && typeof s.dropped !== 'string') return reject(`member ${s.name} has a malformed drop reason`);
      return { name: s.name, weight: s.weight, ...definedMase(s.mase as number | undefined), ...(s.dropped === undefined ? {} : { dropped: s.dropped }) };
    });
    for (const m of members) if (!scores.some((s) => s.name === m.name && s.weight === m.weight)) return reject(`member ${m.name} has no matching score`);
    if (state.mase !== undefined && !(isFiniteNumber(state.mase) && state.mase >= 0)) return reject(`MASE ${String(state.mase)}`);
    const held = new Map<string, Held>();
    if (state.held !== undefined) {
      if (!Array.isArray(state.held) || state.held.length > known.size) return reject('held fits are not a list of at most one per member');
      for (const h of state.held as unknown[]) {
        if (!isRecord(h) || typeof h.name !== 'string' || !known.has(h.name) || held.has(h.name)) return reject('a held fit of an unknown or repeated member');
        if (!isFiniteNumber(h.fittedThrough)) return reject(`the held fit of ${h.name} has fittedThrough ${String(h.fittedThrough)}`);
        if (!isRecord(h.state) || typeof h.state.model !== 'string' || !isFiniteNumber(h.state.format)) return reject(`the held fit of ${h.name} has no state`);
        held.set(h.name, { state: h.state as ForecasterState, fittedThrough: h.fittedThrough });
      }
    }
    return { members, scores, mase: state.mase as number | undefined, held };
  }
}

/** The same members with weights summing to one. */
function normalised<T extends { weight: number }>(members: readonly T[]): T[] {
  const total = members.reduce((sum, m) => sum + m.weight, 0);
  return members.map((m) => ({ ...m, weight: m.weight / total }));
}

/** The weighted blend of the kept members' fold forecasts, scored like each member. */
function blendMase(folds: Fold[], kept: readonly { weight: number; foldMeans: number[][] }[]): number | undefined {
  return definedMean(foldMases(folds, kept));
}

/** The mean of the finite values, or undefined when there are none. */
function definedMean(values: number[]): number | undefined {
  const score = finiteMean(values);
  return Number.isFinite(score) ? score : undefined;
}

/** The MASE of the weighted blend on each fold (NaN where a fold cannot be scored). */
function foldMases(folds: Fold[], kept: readonly { weight: number; foldMeans: number[][] }[]): number[] {
  return folds.map((fold, k) => {
    const blended = fold.actual.map((_, h) => kept.reduce((sum, m) => sum + m.weight * m.foldMeans[k]![h]!, 0));
    return mase(fold.actual, blended, fold.scale);
  });
}

/** A fresh member that starts from its previous state when it accepts it, else a cold one. */
function warmStarted(member: EnsembleMember, previous: ForecasterState | undefined): Forecaster {
  const forecaster = member.make();
  if (previous === undefined) return forecaster;
  try {
    forecaster.importState(previous);
    return forecaster;
  } catch {
    release(forecaster);
    return member.make();
  }
}

/**
 * A validated member brought to the full series: refitted on it (releasing the validation fit) when
 * the member asks for that, else updated; or why it cannot be used.
 */
function bringUpToDate(member: EnsembleMember, validated: Forecaster, series: Series): { forecaster: Forecaster } | { failure: string } {
  if (member.refitAtOrigin) {
    const refitted = member.make();
    try {
      refitted.fit(series);
      release(validated);
      return { forecaster: refitted };
    } catch (err) {
      release(refitted);
      return { failure: `refit on the full history failed: ${messageOf(err)}` };
    }
  }
  try {
    validated.update(series);
    return { forecaster: validated };
  } catch (err) {
    return { failure: `update to the full history failed: ${messageOf(err)}` };
  }
}

function head(series: Series, length: number): Series {
  return { start: series.start, stepMs: series.stepMs, values: series.values.slice(0, length) };
}

/** Frees what a member holds outside the JavaScript heap (the LSTM's tensors), when it has a dispose(). */
function release(forecaster: Forecaster): void {
  (forecaster as { dispose?: () => void }).dispose?.();
}

function definedMase(value: number | undefined): { mase?: number } {
  return value === undefined ? {} : { mase: value };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
