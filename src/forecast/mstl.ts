// MSTL forecaster backed by Grafana's augurs: the series is split into one seasonal component per
// period (hour, day, week: several at once) and a remainder forecast by AutoETS. fit() asks augurs for
// a long forecast path (a day or a longest period beyond the history, plus the planning horizon);
// update() only re-anchors that path on the newest points, so reconciles never run augurs.
import { attempt, loadAugurs, type AugursForecast } from './augurs.js';
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import { allNonNegative, bandedForecast, normalQuantile, quantileSketch, sortedFinite } from './quantiles.js';
import { DAY_MS, MIN_SEASONAL_AUTOCORRELATION, detectSeason, shortestGivenPeriodSteps, type SeasonScore } from './season.js';
import { countObserved, fillGaps } from './series.js';
import { encodeFloat64, incompatible, StateFields } from './state-codec.js';
import { InsufficientHistoryError, type Forecast, type Forecaster, type ForecasterState, type Seasonality, type Series } from './types.js';

/** How the stored path follows the points that arrive after the fit (see update()). */
export interface MstlTuning {
  /** Weight of each new residual (actual - path) in the level correction: exponential smoothing. */
  levelSmoothing: number;
  /** The correction added h steps ahead is correction * damping^h. */
  correctionDamping: number;
}

export interface MstlOptions {
  seasonality?: Seasonality;
  /** Longest horizon predict() will be asked for: the stored path always reaches this far. */
  horizonSteps?: number;
  /** For measurements only; the defaults are the values chosen on the dev traces. */
  tuning?: Partial<MstlTuning>;
}

/** Chosen on the dev traces (bench/mstl-probe.mjs): follow new residuals fully, without decay. */
export const DEFAULT_MSTL_TUNING: MstlTuning = { levelSmoothing: 1, correctionDamping: 1 };

const STATE_FORMAT = 1;
const MAX_STATE_MAGNITUDE = 1e100;
/** AutoETS needs this many points to tell level, trend and noise apart. */
const MIN_POINTS_WITHOUT_SEASON = 12;
/** Detected periods need this many steps; explicit ones 2 (as in season.ts). */
const MIN_GIVEN_PERIOD_STEPS = 2;
/** At most this many distinct explicit periods are considered: MSTL costs one STL pass per period. */
const MAX_GIVEN_PERIODS = 8;
/**
 * augurs sees at most the last 28 days and at most 40,320 points (28 days of 1-minute steps): the
 * cost of a fit is bounded, and two weeks of 1-minute data, enough for a weekly season, still fit.
 */
const MAX_FIT_SPAN_MS = 28 * DAY_MS;
const MAX_FIT_POINTS = 40_320;
/**
 * The stored path reaches a day past the fit (four times the default retrainEvery of 6h), and at
 * least one longest period, plus the horizon; an update that would need more refits.
 */
const PATH_SPAN_MS = DAY_MS;
const DEFAULT_HORIZON_STEPS = 60;
const MAX_HORIZON_STEPS = 10_080;
const MAX_PATH_POINTS = MAX_FIT_POINTS / 2 + MAX_HORIZON_STEPS;
/** The interval level asked of augurs; only the growth of its width with the horizon is used. */
const BAND_LEVEL = 0.8;
const GAUSSIAN_SKETCH_POINTS = 1001;

type BandSource = 'in-sample residuals' | 'AutoETS interval';

interface Fitted {
  stepMs: number;
  /** Time of path[0]: the step after the last point of the fitted history. */
  pathStart: number;
  /** Time of the last point the model has seen (fit or update). */
  lastTime: number;
  path: Float64Array;
  /** Per horizon step (from lastTime), how much wider than one step ahead the error is. */
  spread: Float64Array;
  sortedResiduals: number[];
  /** Level correction from the residuals of the points seen since the fit. */
  correction: number;
  /** Seasonal periods (steps, ascending) the model was fitted with; empty for AutoETS alone. */
  periods: number[];
  seasonScores: SeasonScore[];
  bandSource: BandSource;
  /** Root mean square of the in-sample one-step residuals (or AutoETS's one-step sd). */
  rmse: number;
  nonNegative: boolean;
  fitPoints: number;
}

export class MstlForecaster implements Forecaster {
  readonly name = 'MSTL';
  private readonly seasonality: Seasonality;
  private readonly horizonSteps: number;
  private readonly tuning: MstlTuning;
  private fitted: Fitted | undefined;

  constructor(options: MstlOptions = {}) {
    this.seasonality = options.seasonality ?? 'Auto';
    const horizon = options.horizonSteps ?? DEFAULT_HORIZON_STEPS;
    this.horizonSteps = Number.isInteger(horizon) && horizon >= 1 ? Math.min(horizon, MAX_HORIZON_STEPS) : DEFAULT_HORIZON_STEPS;
    this.tuning = { ...DEFAULT_MSTL_TUNING, ...options.tuning };
    const { levelSmoothing, correctionDamping } = this.tuning;
    if (!(levelSmoothing >= 0 && levelSmoothing <= 1)) throw new RangeError(`levelSmoothing must lie in [0, 1], got ${levelSmoothing}`);
    if (!(correctionDamping >= 0 && correctionDamping <= 1)) throw new RangeError(`correctionDamping must lie in [0, 1], got ${correctionDamping}`);
  }

  minHistoryPoints(stepMs: number): number {
    if (Array.isArray(this.seasonality)) {
      const shortest = shortestGivenPeriodSteps(this.seasonality, stepMs);
      if (shortest > 0) return Math.max(MIN_POINTS_WITHOUT_SEASON, 2 * shortest);
    }
    return MIN_POINTS_WITHOUT_SEASON;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const { stepMs } = series;
    const window = recentValues(series.values, stepMs);
    const observed = countObserved(window);
    if (observed < MIN_POINTS_WITHOUT_SEASON) {
      throw new InsufficientHistoryError(observed, MIN_POINTS_WITHOUT_SEASON, `${this.name} needs ${MIN_POINTS_WITHOUT_SEASON} observed points among the last ${window.length}`);
    }
    const { periods, scores } = choosePeriods(window, stepMs, this.seasonality);
    const filled = Float64Array.from(fillGaps(window));
    const longest = periods.length > 0 ? periods[periods.length - 1] : 0;
    const pathLength = Math.min(MAX_PATH_POINTS, Math.max(Math.ceil(PATH_SPAN_MS / stepMs), longest) + this.horizonSteps);
    const { forecast, inSample } = runAugurs(filled, periods, pathLength);
    const path = Float64Array.from(forecast.point);
    if (path.length !== pathLength || !path.every(withinState)) {
      throw new Error(`augurs returned ${path.length} forecast values for ${pathLength} steps, or values that are not finite or beyond ±${MAX_STATE_MAGNITUDE}`);
    }
    const halfWidths = intervalHalfWidths(forecast, Math.min(pathLength, this.horizonSteps));
    const bands = inSample ? residualBands(window, filled, inSample) : gaussianBands(halfWidths[0]);
    // What importState() accepts, so that every fitted model can be saved and restored.
    if (!(withinState(bands.rmse) && bands.rmse >= 0 && bands.sortedResiduals.every(withinState))) {
      throw new Error(`the in-sample errors of the MSTL fit are not finite or lie beyond ±${MAX_STATE_MAGNITUDE}`);
    }
    const last = series.start + (series.values.length - 1) * stepMs;
    this.fitted = {
      stepMs,
      pathStart: last + stepMs,
      lastTime: last,
      path,
      spread: spreadOf(halfWidths),
      sortedResiduals: bands.sortedResiduals,
      correction: 0,
      periods,
      seasonScores: scores,
      bandSource: bands.source,
      rmse: bands.rmse,
      nonNegative: allNonNegative(window.filter(Number.isFinite)),
      fitPoints: window.length,
    };
  }

  /**
   * Follows the points after the last one seen without running augurs: each new point's residual
   * against the stored path moves the level correction (exponential smoothing, DEFAULT_MSTL_TUNING),
   * the seasonal shape and trend of the path stay those of the last fit. O(new points). Refits when
   * the series does not continue the one seen so far, or the path would not reach a full horizon past
   * its last point.
   */
  update(series: Series): void {
    const previous = this.fitted;
    if (!previous || previous.stepMs !== series.stepMs) {
      this.fit(series);
      return;
    }
    requireHistory(this, series);
    const { stepMs } = series;
    const last = series.start + (series.values.length - 1) * stepMs;
    const offset = (previous.lastTime - series.start) / stepMs;
    const lastIndex = (last - previous.pathStart) / stepMs;
    const continues = Number.isInteger(offset) && offset >= 0 && last >= previous.lastTime;
    if (!continues || lastIndex + this.horizonSteps >= previous.path.length) {
      this.fit(series);
      return;
    }
    if (last === previous.lastTime) return;
    const fresh = series.values.slice(offset + 1);
    const firstIndex = (previous.lastTime - previous.pathStart) / stepMs + 1;
    let correction = previous.correction;
    fresh.forEach((value, j) => {
      const residual = value - previous.path[firstIndex + j];
      // A point too far from the path to keep the correction within the state's bounds (a hostile or
      // broken sample, say 1e300) is skipped like a gap.
      const next = correction + this.tuning.levelSmoothing * (residual - correction);
      if (withinState(next)) correction = next;
    });
    this.fitted = {
      ...previous,
      lastTime: last,
      correction,
      nonNegative: previous.nonNegative && allNonNegative(fresh.filter(Number.isFinite)),
    };
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const anchor = (fitted.lastTime - fitted.pathStart) / fitted.stepMs;
    const longest = fitted.periods.length > 0 ? fitted.periods[fitted.periods.length - 1] : 0;
    const mean = new Array<number>(steps);
    const spread = new Array<number>(steps);
    let decay = 1;
    for (let h = 1; h <= steps; h++) {
      decay *= this.tuning.correctionDamping;
      mean[h - 1] = pathAt(fitted.path, anchor + h, longest) + fitted.correction * decay;
      spread[h - 1] = fitted.spread[Math.min(h, fitted.spread.length) - 1];
    }
    return bandedForecast({
      model: this.name,
      start: fitted.lastTime + fitted.stepMs,
      stepMs: fitted.stepMs,
      mean,
      sortedResiduals: fitted.sortedResiduals,
      spread,
      levels: quantiles,
      nonNegative: fitted.nonNegative,
    });
  }

  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      seasonality: this.seasonality,
      stepMs: fitted.stepMs,
      pathStart: fitted.pathStart,
      lastTime: fitted.lastTime,
      path: encodeFloat64(fitted.path),
      spread: encodeFloat64(fitted.spread),
      sortedResiduals: encodeFloat64(fitted.sortedResiduals),
      correction: fitted.correction,
      periods: [...fitted.periods],
      seasonScores: fitted.seasonScores.map((score) => ({ ...score })),
      bandSource: fitted.bandSource,
      rmse: fitted.rmse,
      nonNegative: fitted.nonNegative,
      fitPoints: fitted.fitPoints,
    };
  }

  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    fields.sameOption('seasonality', this.seasonality);
    const bounded = { min: -MAX_STATE_MAGNITUDE, max: MAX_STATE_MAGNITUDE };
    const stepMs = fields.number('stepMs', { integer: true, min: 1 });
    const pathStart = fields.number('pathStart', bounded);
    const lastTime = fields.number('lastTime', { min: pathStart - stepMs, max: MAX_STATE_MAGNITUDE });
    const anchor = (lastTime - pathStart) / stepMs;
    if (!Number.isInteger(anchor)) throw incompatible(fields.at('lastTime'), 'is not a whole number of steps from pathStart');
    const path = boundedValues(fields, 'path');
    if (path.length < 1 || path.length > MAX_PATH_POINTS) throw incompatible(fields.at('path'), `must hold 1 to ${MAX_PATH_POINTS} values, holds ${path.length}`);
    if (anchor >= path.length) throw incompatible(fields.at('lastTime'), 'lies beyond the end of the path');
    const spread = boundedValues(fields, 'spread');
    if (spread.length < 1 || spread.length > MAX_PATH_POINTS || spread.some((v) => v < 0)) {
      throw incompatible(fields.at('spread'), `must hold 1 to ${MAX_PATH_POINTS} non-negative values`);
    }
    const residuals = fields.float64s('sortedResiduals', { ascending: true });
    if (residuals.some((v) => Math.abs(v) > MAX_STATE_MAGNITUDE)) throw incompatible(fields.at('sortedResiduals'), `values must lie within ±${MAX_STATE_MAGNITUDE}`);
    const periods = fields.list('periods').map((p, i) => {
      if (!Number.isInteger(p) || (p as number) < MIN_GIVEN_PERIOD_STEPS || (p as number) > path.length) {
        throw incompatible(fields.at(`periods[${i}]`), `must be an integer from ${MIN_GIVEN_PERIOD_STEPS} to the path length ${path.length}`);
      }
      return p as number;
    });
    if (periods.length > MAX_GIVEN_PERIODS || periods.some((p, i) => i > 0 && p <= periods[i - 1])) {
      throw incompatible(fields.at('periods'), `must hold at most ${MAX_GIVEN_PERIODS} strictly ascending periods`);
    }
    const scoreList = fields.list('seasonScores');
    if (scoreList.length > MAX_GIVEN_PERIODS) throw incompatible(fields.at('seasonScores'), `holds more than ${MAX_GIVEN_PERIODS} scores`);
    const seasonScores = scoreList.map((item, i): SeasonScore => {
      const score = StateFields.inside(item, fields.at(`seasonScores[${i}]`));
      return {
        periodMs: score.number('periodMs', { min: 0, max: MAX_STATE_MAGNITUDE }),
        periodSteps: score.number('periodSteps', { integer: true, min: 0, max: MAX_FIT_POINTS }),
        autocorrelation: score.number('autocorrelation', { min: -1, max: 1 }),
        halfPeriodAutocorrelation: score.number('halfPeriodAutocorrelation', { min: -1, max: 1 }),
      };
    });
    const bandSource = state.bandSource;
    if (bandSource !== 'in-sample residuals' && bandSource !== 'AutoETS interval') throw incompatible(fields.at('bandSource'), 'must be "in-sample residuals" or "AutoETS interval"');
    this.fitted = {
      stepMs,
      pathStart,
      lastTime,
      path,
      spread,
      sortedResiduals: Array.from(residuals),
      correction: fields.number('correction', bounded),
      periods,
      seasonScores,
      bandSource,
      rmse: fields.number('rmse', { min: 0, max: MAX_STATE_MAGNITUDE }),
      nonNegative: fields.boolean('nonNegative'),
      fitPoints: fields.number('fitPoints', { integer: true, min: 0, max: MAX_FIT_POINTS }),
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      seasonality: this.seasonality,
      periodsSteps: fitted.periods,
      periodsMs: fitted.periods.map((p) => p * fitted.stepMs),
      periodsChosenBy: periodRule(this.seasonality),
      seasonScores: fitted.seasonScores,
      // augurs' JavaScript API does not say which ETS model its search picked.
      trendModel: fitted.periods.length > 0 ? 'AutoETS (non-seasonal) on the deseasonalised series' : 'AutoETS (non-seasonal)',
      bandsFrom: fitted.bandSource,
      inSampleRmse: fitted.rmse,
      fitPoints: fitted.fitPoints,
      pathSteps: fitted.path.length,
      stepsSinceFit: (fitted.lastTime - fitted.pathStart) / fitted.stepMs + 1,
      levelCorrection: fitted.correction,
    };
  }
}

/** The last points of the history that augurs is given (MAX_FIT_SPAN_MS, MAX_FIT_POINTS). */
function recentValues(values: readonly number[], stepMs: number): number[] {
  const keep = Math.min(values.length, MAX_FIT_POINTS, Math.max(1, Math.floor(MAX_FIT_SPAN_MS / stepMs)));
  return values.slice(values.length - keep);
}

export interface PeriodChoice {
  /** Periods in steps, ascending, distinct, each covered twice by the values. */
  periods: number[];
  scores: SeasonScore[];
}

/**
 * 'None': no period. An explicit list: each distinct period (at most MAX_GIVEN_PERIODS) of at least
 * 2 steps that the values cover twice. 'Auto': every candidate of season.ts (hour, day, week) that
 * the values cover twice and that is seasonal by season.ts's rule: several seasons at once, where
 * Holt-Winters keeps only the strongest.
 */
export function choosePeriods(values: readonly number[], stepMs: number, seasonality: Seasonality): PeriodChoice {
  if (seasonality === 'None') return { periods: [], scores: [] };
  const explicit = Array.isArray(seasonality);
  const given = explicit ? [...new Set(seasonality.filter((p) => Number.isFinite(p) && p > 0))].slice(0, MAX_GIVEN_PERIODS) : [];
  // detectSeason scores every covered candidate (hour, day, week for 'Auto'); only its scores are used.
  const scores = detectSeason(values, stepMs, explicit ? given : 'Auto').scores;
  const chosen = scores.filter((score) => score.periodSteps >= MIN_GIVEN_PERIOD_STEPS && (explicit || isSeasonal(score)));
  const periods = [...new Set(chosen.map((score) => score.periodSteps))].sort((a, b) => a - b);
  return { periods, scores };
}

/** season.ts's rule for a detected season: strong enough, and a peak rather than a slow wave. */
function isSeasonal(score: SeasonScore): boolean {
  return score.autocorrelation >= MIN_SEASONAL_AUTOCORRELATION && score.autocorrelation > score.halfPeriodAutocorrelation;
}

function periodRule(seasonality: Seasonality): string {
  if (seasonality === 'None') return 'none requested: AutoETS alone';
  if (Array.isArray(seasonality)) return 'the given periods that the history covers twice';
  return `every candidate the history covers twice with autocorrelation >= ${MIN_SEASONAL_AUTOCORRELATION} above its half-period autocorrelation`;
}

const withinState = (v: number): boolean => Number.isFinite(v) && Math.abs(v) <= MAX_STATE_MAGNITUDE;

/**
 * Fits augurs on `filled` and forecasts `steps`; frees the wasm model whatever happens.
 *
 * augurs sees the series divided by a power of two near its largest magnitude (exact in binary
 * floating point), and its answers are multiplied back: its AutoETS search finds no model for
 * values beyond about 1e20 (it throws "no model found" after trying every one, some 0.4 s), and
 * MSTL's output does not follow inputs near 1e-300.
 */
function runAugurs(filled: Float64Array, periods: number[], steps: number): { forecast: AugursForecast; inSample?: number[] } {
  const augurs = loadAugurs();
  const scale = powerOfTwoScale(filled);
  const y = scale === 1 ? filled : filled.map((v) => v / scale);
  if (periods.length === 0) {
    const model = augurs.autoEts();
    try {
      attempt('AutoETS fit', () => model.fit(y));
      return { forecast: rescaled(attempt('AutoETS predict', () => model.predict(steps, BAND_LEVEL)), scale) };
    } finally {
      release(model);
    }
  }
  const model = augurs.mstl(periods);
  try {
    attempt('MSTL fit', () => model.fit(y));
    const forecast = rescaled(attempt('MSTL predict', () => model.predict(steps, BAND_LEVEL)), scale);
    return { forecast, inSample: attempt('MSTL in-sample predict', () => model.predictInSample().point).map((v) => v * scale) };
  } finally {
    release(model);
  }
}

/**
 * Frees a wasm model without letting free() replace the error being thrown: after a Rust panic
 * inside a call (a trap, RuntimeError "unreachable") the model stays borrowed and free() itself
 * throws ("attempted to take ownership of Rust value while it was borrowed"); its memory is then
 * lost, which nothing on this side can prevent.
 */
function release(model: { free(): void }): void {
  try {
    model.free();
  } catch {
    // Nothing to free that can be freed.
  }
}

/** 2^k with 2^(k-1) < max |v| <= 2^k, or 1 for an all-zero series. */
function powerOfTwoScale(values: Float64Array): number {
  let largest = 0;
  for (const v of values) largest = Math.max(largest, Math.abs(v));
  if (!(largest > 0 && Number.isFinite(largest))) return 1;
  const scale = 2 ** Math.ceil(Math.log2(largest));
  return Number.isFinite(scale) && scale > 0 ? scale : 1;
}

function rescaled(forecast: AugursForecast, scale: number): AugursForecast {
  if (scale === 1) return forecast;
  const times = (xs: number[]): number[] => xs.map((v) => v * scale);
  const { intervals } = forecast;
  return { point: times(forecast.point), intervals: intervals ? { ...intervals, lower: times(intervals.lower), upper: times(intervals.upper) } : undefined };
}

/** Half the width of augurs' interval per step, for the first `steps` steps (NaN where it gave none). */
function intervalHalfWidths(forecast: AugursForecast, steps: number): number[] {
  const intervals = forecast.intervals;
  return Array.from({ length: steps }, (_, h) => (intervals ? (intervals.upper[h] - intervals.lower[h]) / 2 : NaN));
}

/**
 * The interval's growth with the horizon, relative to one step ahead, never shrinking. Without a
 * usable interval the error is taken to grow like a random walk's (sqrt h).
 */
function spreadOf(halfWidths: readonly number[]): Float64Array {
  const first = halfWidths[0];
  const usable = first > 0 && halfWidths.every((w) => Number.isFinite(w) && w >= 0);
  const spread = new Float64Array(halfWidths.length);
  let widest = 1;
  halfWidths.forEach((w, h) => {
    widest = Math.max(widest, usable ? Math.min(w / first, MAX_STATE_MAGNITUDE) : Math.sqrt(h + 1));
    spread[h] = widest;
  });
  return spread;
}

interface Bands {
  sortedResiduals: number[];
  source: BandSource;
  rmse: number;
}

/** One-step in-sample residuals at the observed points (the interpolated ones say nothing). */
function residualBands(window: readonly number[], filled: Float64Array, inSample: readonly number[]): Bands {
  const residuals: number[] = [];
  for (let i = 0; i < window.length; i++) if (Number.isFinite(window[i])) residuals.push(filled[i] - inSample[i]);
  const sorted = sortedFinite(residuals);
  const rmse = sorted.length > 0 ? Math.sqrt(sorted.reduce((sum, r) => sum + r * r, 0) / sorted.length) : 0;
  return { sortedResiduals: quantileSketch(sorted), source: 'in-sample residuals', rmse };
}

/**
 * augurs' AutoETS gives no in-sample forecasts: its own Gaussian one-step error, read off its
 * interval, stands in for the residual distribution.
 */
function gaussianBands(halfWidth: number): Bands {
  const sd = Number.isFinite(halfWidth) && halfWidth > 0 ? Math.min(halfWidth / normalQuantile(0.5 + BAND_LEVEL / 2), MAX_STATE_MAGNITUDE) : 0;
  const sortedResiduals = Array.from({ length: GAUSSIAN_SKETCH_POINTS }, (_, k) => sd * normalQuantile((k + 0.5) / GAUSSIAN_SKETCH_POINTS));
  return { sortedResiduals, source: 'AutoETS interval', rmse: sd };
}

/**
 * The stored path at index i; past its end the path repeats its last `period` steps (the seasonal
 * part of an MSTL forecast is exactly such a repetition), or holds its last value without a period.
 */
function pathAt(path: Float64Array, i: number, period: number): number {
  const end = path.length - 1;
  if (i <= end) return path[i];
  if (period < 1 || period > path.length) return path[end];
  return path[end - period + 1 + ((i - end - 1) % period)];
}

function boundedValues(fields: StateFields, name: string): Float64Array {
  const values = fields.float64s(name);
  if (values.some((v) => Math.abs(v) > MAX_STATE_MAGNITUDE)) throw incompatible(fields.at(name), `values must lie within ±${MAX_STATE_MAGNITUDE}`);
  return values;
}

