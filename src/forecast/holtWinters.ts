// Holt-Winters forecaster: additive season (detected or given), damped additive trend, parameters
// fitted to the history, quantiles from its own one-step residuals widened per horizon step.
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import {
  fitParameters,
  forecastMean,
  horizonSpread,
  initialState,
  runFilter,
  type HwParams,
  type HwState,
} from './holtWintersModel.js';
import { allNonNegative, clampMean, quantileBands } from './quantiles.js';
import { detectSeason, shortestGivenPeriodSteps, type SeasonScore } from './season.js';
import type { Forecast, Forecaster, Seasonality, Series } from './types.js';

export interface HoltWintersOptions {
  seasonality?: Seasonality;
}

/** Without a season the model still needs this many points to tell level, trend and noise apart. */
const MIN_POINTS_WITHOUT_SEASON = 12;

interface Fitted {
  series: Series;
  period: number;
  params: HwParams;
  state: HwState;
  residuals: number[];
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

  /** Re-runs the smoothing over `series` with the season and parameters of the last fit. */
  update(series: Series): void {
    const previous = this.fitted;
    if (!previous || previous.series.stepMs !== series.stepMs || series.values.length < 2 * previous.period) {
      this.fit(series);
      return;
    }
    requireHistory(this, series);
    this.fitted = this.smooth(series, previous.period, previous.params, previous.seasonScores, 0);
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const { series, period, params, state } = fitted;
    const n = series.values.length;
    const mean = clampMean(forecastMean(state, period, n - 1, params.phi, steps), fitted.nonNegative);
    return {
      model: this.name,
      start: series.start + n * series.stepMs,
      stepMs: series.stepMs,
      mean,
      quantiles: quantileBands({
        mean,
        residuals: fitted.residuals,
        spread: horizonSpread(params, period, steps),
        levels: quantiles,
        nonNegative: fitted.nonNegative,
      }),
    };
  }

  private smooth(series: Series, period: number, params: HwParams, seasonScores: SeasonScore[], evaluations: number): Fitted {
    const run = runFilter(toSamples(series), period, params, initialState(series.values, period), true);
    return {
      series,
      period,
      params,
      state: run.state,
      residuals: run.residuals,
      rmse: run.scored > 0 ? Math.sqrt(run.sse / run.scored) : 0,
      nonNegative: allNonNegative(series.values.filter(Number.isFinite)),
      seasonScores,
      evaluations,
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      seasonSteps: fitted.period,
      seasonMs: fitted.period * fitted.series.stepMs,
      seasonScores: fitted.seasonScores,
      ...fitted.params,
      inSampleRmse: fitted.rmse,
      fitEvaluations: fitted.evaluations,
    };
  }
}

function toSamples(series: Series): Float64Array {
  return Float64Array.from(series.values, (v) => (Number.isFinite(v) ? v : NaN));
}
