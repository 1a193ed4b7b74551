// Holt-Winters forecaster: additive season (detected or given), damped additive trend, parameters
// fitted to the history, quantiles from its own one-step residuals widened per horizon step.
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import {
  PARAM_BOUNDS,
  fitParameters,
  forecastMean,
  horizonSpread,
  initialState,
  runFilter,
  type HwParams,
  type HwState,
} from './holtWintersModel.js';
import { allNonNegative, bandedForecast, quantileSketch, sortedFinite } from './quantiles.js';
import { detectSeason, shortestGivenPeriodSteps, type SeasonScore } from './season.js';
import { encodeFloat64, incompatible, StateFields } from './state-codec.js';
import type { Forecast, Forecaster, ForecasterState, Seasonality, Series } from './types.js';

export interface HoltWintersOptions {
  seasonality?: Seasonality;
}

/** Layout version of exportState(); bump it whenever the layout changes. */
const MAX_STATE_MAGNITUDE = 1e100;
const STATE_FORMAT = 1;

/** Without a season the model still needs this many points to tell level, trend and noise apart. */
const MIN_POINTS_WITHOUT_SEASON = 12;

interface Fitted {
  stepMs: number;
  /** Time of the first point of the series the model was smoothed over: season slot 0. */
  phaseOrigin: number;
  /** Time of the last point the state has seen. */
  lastTime: number;
  period: number;
  params: HwParams;
  state: HwState;
  sortedResiduals: number[];
  rmse: number;
  nonNegative: boolean;
  seasonScores: SeasonScore[];
  evaluations: number;
}

export class HoltWintersForecaster implements Forecaster {
  readonly name = 'HoltWinters';
  private readonly seasonality: Seasonality;
  private fitted: Fitted | undefined;

  constructor(options: HoltWintersOptions = {}) {
    this.seasonality = options.seasonality ?? 'Auto';
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
    const season = detectSeason(series.values, series.stepMs, this.seasonality);
    const period = season.periodSteps;
    const init = initialState(series.values, period);
    const { params, evaluations } = fitParameters(toSamples(series), period, init);
    this.fitted = this.smooth(series, period, params, season.scores, evaluations);
  }

  /**
   * Brings the state up to date with the season and parameters of the last fit. When `series`
   * continues the one seen so far (the usual case: the same history plus new points), only the new
   * points are filtered, so an update costs O(new points); the residual distribution behind the
   * quantiles stays the one of the last fit until the next fit. Otherwise the whole series is smoothed.
   */
  update(series: Series): void {
    const previous = this.fitted;
    if (!previous || previous.stepMs !== series.stepMs || series.values.length < 2 * previous.period) {
      this.fit(series);
      return;
    }
    requireHistory(this, series);
    const last = series.start + (series.values.length - 1) * series.stepMs;
    const offset = (previous.lastTime - series.start) / series.stepMs;
    const continues = Number.isInteger(offset) && offset >= 0 && last >= previous.lastTime;
    if (!continues) {
      this.fitted = this.smooth(series, previous.period, previous.params, previous.seasonScores, 0);
      return;
    }
    if (last === previous.lastTime) return;
    const fresh = series.values.slice(offset + 1);
    const phase = previous.period > 0 ? (series.start - previous.phaseOrigin) / series.stepMs + offset + 1 : 0;
    const run = runFilter(Float64Array.from(fresh, finiteOrNaN), previous.period, previous.params, previous.state, false, mod(phase, previous.period));
    this.fitted = {
      ...previous,
      state: run.state,
      lastTime: last,
      nonNegative: previous.nonNegative && allNonNegative(fresh.filter(Number.isFinite)),
    };
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const { period, params, state, stepMs } = fitted;
    const lastPhase = period > 0 ? mod((fitted.lastTime - fitted.phaseOrigin) / stepMs, period) : 0;
    return bandedForecast({
      model: this.name,
      start: fitted.lastTime + stepMs,
      stepMs,
      mean: forecastMean(state, period, lastPhase, params.phi, steps),
      sortedResiduals: fitted.sortedResiduals,
      spread: horizonSpread(params, period, steps),
      levels: quantiles,
      nonNegative: fitted.nonNegative,
    });
  }

  private smooth(series: Series, period: number, params: HwParams, seasonScores: SeasonScore[], evaluations: number): Fitted {
    const run = runFilter(toSamples(series), period, params, initialState(series.values, period), true);
    return {
      stepMs: series.stepMs,
      phaseOrigin: series.start,
      lastTime: series.start + (series.values.length - 1) * series.stepMs,
      period,
      params,
      state: run.state,
      sortedResiduals: quantileSketch(sortedFinite(run.residuals)),
      rmse: run.scored > 0 ? Math.sqrt(run.sse / run.scored) : 0,
      nonNegative: allNonNegative(series.values.filter(Number.isFinite)),
      seasonScores,
      evaluations,
    };
  }

  /**
   * Everything predict() and update() use, exactly (Float64), so an imported model forecasts as the
   * exported one did: the state ends at `lastTime`, the season is anchored at `phaseOrigin`.
   */
  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      seasonality: this.seasonality,
      stepMs: fitted.stepMs,
      phaseOrigin: fitted.phaseOrigin,
      lastTime: fitted.lastTime,
      period: fitted.period,
      params: { ...fitted.params },
      level: fitted.state.level,
      trend: fitted.state.trend,
      season: encodeFloat64(fitted.state.season),
      sortedResiduals: encodeFloat64(fitted.sortedResiduals),
      rmse: fitted.rmse,
      nonNegative: fitted.nonNegative,
      seasonScores: fitted.seasonScores.map((score) => ({ ...score })),
      evaluations: fitted.evaluations,
    };
  }

  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    fields.sameOption('seasonality', this.seasonality);
    const stepMs = fields.number('stepMs', { integer: true, min: 1 });
    const phaseOrigin = fields.number('phaseOrigin');
    const lastTime = fields.number('lastTime', { min: phaseOrigin });
    if (!Number.isInteger((lastTime - phaseOrigin) / stepMs)) throw incompatible(fields.at('lastTime'), 'is not a whole number of steps after phaseOrigin');
    const period = fields.number('period', { integer: true, min: 0 });
    const paramFields = fields.nested('params');
    const param = (name: keyof HwParams): number => paramFields.number(name, { min: PARAM_BOUNDS[name][0], max: PARAM_BOUNDS[name][1] });
    const params: HwParams = { alpha: param('alpha'), beta: param('beta'), gamma: param('gamma'), phi: param('phi') };
    // Far beyond any metric, far enough below the float range that level + h * trend + season stays finite.
    const bounded = { min: -MAX_STATE_MAGNITUDE, max: MAX_STATE_MAGNITUDE };
    const level = fields.number('level', bounded);
    const trend = fields.number('trend', bounded);
    const season = fields.float64s('season', { length: Math.max(1, period) });
    if (season.some((v) => Math.abs(v) > MAX_STATE_MAGNITUDE)) throw incompatible(fields.at('season'), `values must lie within ±${MAX_STATE_MAGNITUDE}`);
    const sortedResiduals = Array.from(fields.float64s('sortedResiduals', { ascending: true }));
    if (sortedResiduals.some((v) => Math.abs(v) > MAX_STATE_MAGNITUDE)) {
      throw incompatible(fields.at('sortedResiduals'), `values must lie within ±${MAX_STATE_MAGNITUDE}`);
    }
    const seasonScores = fields.list('seasonScores').map((item, i): SeasonScore => {
      const score = StateFields.inside(item, fields.at(`seasonScores[${i}]`));
      return {
        periodMs: score.number('periodMs', { min: 0 }),
        periodSteps: score.number('periodSteps', { integer: true, min: 0 }),
        autocorrelation: score.number('autocorrelation'),
        halfPeriodAutocorrelation: score.number('halfPeriodAutocorrelation'),
      };
    });
    this.fitted = {
      stepMs,
      phaseOrigin,
      lastTime,
      period,
      params,
      state: { level, trend, season },
      sortedResiduals,
      rmse: fields.number('rmse', { min: 0, max: MAX_STATE_MAGNITUDE }),
      nonNegative: fields.boolean('nonNegative'),
      seasonScores,
      evaluations: fields.number('evaluations', { integer: true, min: 0 }),
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      seasonSteps: fitted.period,
      seasonMs: fitted.period * fitted.stepMs,
      seasonScores: fitted.seasonScores,
      ...fitted.params,
      inSampleRmse: fitted.rmse,
      fitEvaluations: fitted.evaluations,
    };
  }
}

function toSamples(series: Series): Float64Array {
  return Float64Array.from(series.values, finiteOrNaN);
}

function finiteOrNaN(v: number): number {
  return Number.isFinite(v) ? v : NaN;
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}
