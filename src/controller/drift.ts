// Live forecast error: every forecast the operator acted on is scored once what it predicted has
// happened, on the same scale as the model's validation MASE, so the two can be compared. A rolling
// live error far above the validation error means the model no longer fits the data (drift).
import { mae, seasonalNaiveScale } from '../forecast/accuracy.js';
import type { Forecast, Series } from '../forecast/types.js';

export interface DriftOptions {
  /** Steps of each forecast that are scored (the forecast horizon). */
  horizonSteps: number;
  /** Drift when the live MASE exceeds this multiple of the validation MASE... */
  ratio?: number;
  /** ...and exceeds it by at least this much (a tiny validation error is not a useful yardstick). */
  margin?: number;
  /** Scored forecasts the rolling error averages over; default one horizon's worth of origins. */
  window?: number;
  /** Scored forecasts needed before drift can be declared; default half the window. */
  minSamples?: number;
}

export interface DriftVerdict {
  drifting: boolean;
  liveMase?: number;
  samples: number;
  message?: string;
}

export class LiveError {
  private readonly ratio: number;
  private readonly margin: number;
  private readonly window: number;
  private readonly minSamples: number;
  private pending: Forecast[] = [];
  private scores: number[] = [];

  /**
   * @param history the series the model was trained on, for the MASE scale
   * @param validationMase the model's out-of-sample MASE at training; undefined disables drift detection
   */
  constructor(
    history: Series,
    private readonly validationMase: number | undefined,
    private readonly options: DriftOptions,
  ) {
    this.scale = seasonalNaiveScale(history.values, history.stepMs);
    this.ratio = options.ratio ?? 2;
    this.margin = options.margin ?? 0.25;
    this.window = options.window ?? options.horizonSteps;
    this.minSamples = options.minSamples ?? Math.ceil(this.window / 2);
  }

  private readonly scale: number;

  /** Keeps a forecast for scoring; at most one per step (forecasts made within a step overlap). */
  record(forecast: Forecast): void {
    const last = this.pending.at(-1);
    if (last && forecast.start < last.start + forecast.stepMs) return;
    if (forecast.mean.length < this.options.horizonSteps) return;
    this.pending.push(forecast);
  }

  /** Scores every recorded forecast whose whole horizon `series` now covers. */
  observe(series: Series): void {
    const lastTime = series.start + (series.values.length - 1) * series.stepMs;
    const h = this.options.horizonSteps;
    while (this.pending.length > 0) {
      const f = this.pending[0]!;
      if (f.start + (h - 1) * f.stepMs > lastTime) break;
      this.pending.shift();
      const from = Math.round((f.start - series.start) / series.stepMs);
      if (from < 0 || f.stepMs !== series.stepMs) continue;
      const score = mae(series.values.slice(from, from + h), f.mean.slice(0, h)) / this.scale;
      if (!Number.isFinite(score)) continue;
      this.scores.push(score);
      if (this.scores.length > this.window) this.scores.shift();
    }
  }

  verdict(): DriftVerdict {
    const samples = this.scores.length;
    if (samples === 0) return { drifting: false, samples };
    const liveMase = this.scores.reduce((a, b) => a + b, 0) / samples;
    const reference = this.validationMase;
    if (reference === undefined || samples < this.minSamples) return { drifting: false, liveMase, samples };
    const drifting = liveMase > this.ratio * reference && liveMase - reference >= this.margin;
    return {
      drifting,
      liveMase,
      samples,
      ...(drifting
        ? { message: `live MASE ${liveMase.toFixed(2)} over the last ${samples} forecasts is more than ${this.ratio}x the validation MASE ${reference.toFixed(2)}` }
        : {}),
    };
  }
}
