// Seasonal naive: the forecast repeats the last observed season.
import { requireHistory, requireSteps, NotFittedError } from './history.js';
import { allNonNegative, bandedForecast, quantileSketch, sortedFinite } from './quantiles.js';
import { CANDIDATE_PERIODS_MS, DAY_MS, detectSeason, periodToSteps } from './season.js';
import { fillGaps } from './series.js';
import { encodeFloat64, StateFields } from './state-codec.js';
import type { Forecast, Forecaster, ForecasterState, Seasonality, Series } from './types.js';

interface Fitted {
  stepMs: number;
  /** Time of the last point of the fitted series. */
  lastTime: number;
  lag: number;
  /** The last `lag` values of the gap-filled series: what the forecast repeats. */
  lastSeason: number[];
  sortedResiduals: number[];
  inSampleMae: number;
  nonNegative: boolean;
  seasonDetected: boolean;
}

/** Layout version of exportState(); bump it whenever the layout changes. */
const STATE_FORMAT = 1;

export interface SeasonalNaiveOptions {
  seasonality?: Seasonality;
}

export class SeasonalNaiveForecaster implements Forecaster {
  readonly name = 'SeasonalNaive';
  private readonly seasonality: Seasonality;
  private fitted: Fitted | undefined;

  constructor(options: SeasonalNaiveOptions = {}) {
    this.seasonality = options.seasonality ?? 'Auto';
  }

  minHistoryPoints(stepMs: number): number {
    if (Array.isArray(this.seasonality) && this.seasonality.length > 0) {
      return Math.min(...this.seasonality.map((p) => Math.max(1, periodToSteps(p, stepMs)))) + 1;
    }
    return 2;
  }

  fit(series: Series): void {
    requireHistory(this, series);
    const { lag, seasonDetected } = this.chooseLag(series);
    const filled = fillGaps(series.values, lag);
    const residuals: number[] = [];
    for (let t = lag; t < series.values.length; t++) {
      const error = series.values[t] - series.values[t - lag];
      if (Number.isFinite(error)) residuals.push(error);
    }
    this.fitted = {
      stepMs: series.stepMs,
      lastTime: series.start + (series.values.length - 1) * series.stepMs,
      lag,
      lastSeason: filled.slice(filled.length - lag),
      sortedResiduals: quantileSketch(sortedFinite(residuals)),
      inSampleMae: residuals.reduce((sum, e) => sum + Math.abs(e), 0) / Math.max(1, residuals.length),
      nonNegative: allNonNegative(filled),
      seasonDetected,
    };
  }

  /**
   * Keeps the lag and the residual distribution of the last fit (choosing the lag is the costly part)
   * and takes the newest season from `series`.
   */
  update(series: Series): void {
    const fitted = this.fitted;
    if (!fitted || fitted.stepMs !== series.stepMs || series.values.length <= fitted.lag) {
      this.fit(series);
      return;
    }
    requireHistory(this, series);
    const filled = fillGaps(series.values, fitted.lag);
    this.fitted = {
      ...fitted,
      lastTime: series.start + (series.values.length - 1) * series.stepMs,
      lastSeason: filled.slice(filled.length - fitted.lag),
      nonNegative: allNonNegative(filled),
    };
  }

  predict(steps: number, quantiles: number[]): Forecast {
    requireSteps(steps);
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name);
    const { lastSeason, lag } = fitted;
    const mean: number[] = [];
    const spread: number[] = [];
    for (let h = 1; h <= steps; h++) {
      const seasonsBack = Math.ceil(h / lag);
      mean.push(lastSeason[lag - 1 + h - seasonsBack * lag]);
      // A forecast k seasons out stacks k one-season errors.
      spread.push(Math.sqrt(seasonsBack));
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

  /** The chosen lag, the last season and the residual distribution: everything predict() and update() use. */
  exportState(): ForecasterState {
    const fitted = this.fitted;
    if (!fitted) throw new NotFittedError(this.name, 'fit() must be called before exportState()');
    return {
      model: this.name,
      format: STATE_FORMAT,
      seasonality: this.seasonality,
      stepMs: fitted.stepMs,
      lastTime: fitted.lastTime,
      lag: fitted.lag,
      lastSeason: encodeFloat64(fitted.lastSeason),
      sortedResiduals: encodeFloat64(fitted.sortedResiduals),
      inSampleMae: fitted.inSampleMae,
      nonNegative: fitted.nonNegative,
      seasonDetected: fitted.seasonDetected,
    };
  }

  importState(state: ForecasterState): void {
    const fields = StateFields.of(state, this.name, STATE_FORMAT);
    fields.sameOption('seasonality', this.seasonality);
    const lag = fields.number('lag', { integer: true, min: 1 });
    this.fitted = {
      stepMs: fields.number('stepMs', { integer: true, min: 1 }),
      lastTime: fields.number('lastTime'),
      lag,
      lastSeason: Array.from(fields.float64s('lastSeason', { length: lag })),
      sortedResiduals: Array.from(fields.float64s('sortedResiduals', { ascending: true })),
      inSampleMae: fields.number('inSampleMae', { min: 0 }),
      nonNegative: fields.boolean('nonNegative'),
      seasonDetected: fields.boolean('seasonDetected'),
    };
  }

  describe(): Record<string, unknown> {
    const fitted = this.fitted;
    if (!fitted) return { model: this.name, fitted: false };
    return {
      model: this.name,
      fitted: true,
      lagSteps: fitted.lag,
      lagMs: fitted.lag * fitted.stepMs,
      seasonDetected: fitted.seasonDetected,
      inSampleMae: fitted.inSampleMae,
    };
  }

  /**
   * The detected (or given) season; without one, a day when the history holds one, else the
   * shortest candidate period it holds, else lag 1.
   */
  private chooseLag(series: Series): { lag: number; seasonDetected: boolean } {
    const n = series.values.length;
    const fits = (periodMs: number): boolean => {
      const steps = periodToSteps(periodMs, series.stepMs);
      return steps >= 1 && steps < n;
    };
    if (Array.isArray(this.seasonality)) {
      const given = this.seasonality.find(fits) ?? [...this.seasonality].sort((a, b) => a - b).find(fits);
      return { lag: given ? periodToSteps(given, series.stepMs) : 1, seasonDetected: false };
    }
    if (this.seasonality === 'None') return { lag: 1, seasonDetected: false };
    const season = detectSeason(series.values, series.stepMs, 'Auto');
    if (season.periodSteps > 0) return { lag: season.periodSteps, seasonDetected: true };
    const fallback = fits(DAY_MS) ? DAY_MS : CANDIDATE_PERIODS_MS.find(fits);
    return { lag: fallback ? periodToSteps(fallback, series.stepMs) : 1, seasonDetected: false };
  }
}
