// Keeps one fitted forecaster per scaler metric: fits on first use, on spec.forecast.retrainEvery and
// when the model or seasonality changes; between fits it only brings the model up to date with the
// new points. A model that fails falls back along a chain of simpler statistical models.
import type { ModelName } from '../api/types.js';
import type { ScalerConfig } from '../api/config.js';
import { backtest } from '../forecast/backtest.js';
import { createForecaster, resolveModel } from '../forecast/registry.js';
import { formatDuration } from '../api/units.js';
import type { Forecast, Forecaster, Series } from '../forecast/types.js';

export interface ModelOutcome {
  requestedModel: ModelName;
  /** The model whose forecast this is (differs from requestedModel after a fallback). */
  model?: string;
  forecast?: Forecast;
  trainedAt?: number;
  /** Why another model than the requested one is serving. */
  fallbackReason?: string;
  /** Why no forecast is available at all (reactive scaling only). */
  unavailable?: { reason: 'InsufficientHistory' | 'ModelFailed'; message: string };
  /** True when this call (re)fitted the model. */
  trained: boolean;
  /**
   * Out-of-sample MASE measured when the model was trained: refitted on the history before each of a
   * few recent origins and scored on the horizon after it (undefined when the history is too short).
   */
  mase?: number;
  details?: Record<string, unknown>;
}

interface Entry {
  /** The spec's model when this entry was fitted: a different request must refit, not reuse it. */
  requested: ModelName;
  model: ModelName;
  seasonalityKey: string;
  forecaster: Forecaster;
  trainedAt: number;
  fallbackReason?: string;
  mase?: number;
}

/** Where a model that fails falls back to: the next simpler statistical model. */
const FALLBACK_CHAIN: ModelName[] = ['Ensemble', 'HoltWinters', 'SeasonalNaive', 'Linear'];

export interface ModelManagerOptions {
  now: () => number;
  /** Reports each fit's duration. */
  onTrained?: (model: string, seconds: number) => void;
  create?: typeof createForecaster;
  /** High-resolution timer for durations; defaults to performance.now. */
  timer?: () => number;
}

export class ModelManager {
  private readonly entries = new Map<string, Entry>();
  private readonly create: typeof createForecaster;
  private readonly timer: () => number;

  constructor(private readonly opts: ModelManagerOptions) {
    this.create = opts.create ?? createForecaster;
    this.timer = opts.timer ?? (() => performance.now());
  }

  forecast(key: string, series: Series, cfg: ScalerConfig, steps: number, quantiles: number[]): ModelOutcome {
    const requested = cfg.forecast.model;
    const resolved = resolveModel(requested);
    const seasonalityKey = JSON.stringify(cfg.forecast.seasonality);
    const now = this.opts.now();
    const have = series.values.filter(Number.isFinite).length;
    const entry = this.entries.get(key);
    const due =
      !entry ||
      entry.seasonalityKey !== seasonalityKey ||
      entry.requested !== requested ||
      now - entry.trainedAt >= cfg.forecast.retrainEveryMs;

    if (!due) {
      try {
        if (entry.forecaster.update) entry.forecaster.update(series);
        else entry.forecaster.fit(series);
        return this.outcome(requested, entry, entry.forecaster.predict(steps, quantiles), false);
      } catch {
        this.entries.delete(key); // fall through to a fresh fit
      }
    }

    // Too little history is not a model failure: scale reactively until there is enough, rather
    // than planning on a weaker model fitted to a few minutes of data.
    const need = Math.max(
      this.create(resolved.model, modelOptions(cfg)).minHistoryPoints(series.stepMs),
      2 * Math.ceil(cfg.forecast.horizonMs / series.stepMs),
    );
    if (have < need) {
      this.entries.delete(key);
      return {
        requestedModel: requested,
        trained: false,
        unavailable: {
          reason: 'InsufficientHistory',
          message: `${resolved.model} needs ${need} points of history (${formatDuration(need * series.stepMs)} at step ${formatDuration(series.stepMs)}), have ${have}`,
        },
      };
    }

    const chain = FALLBACK_CHAIN.slice(FALLBACK_CHAIN.indexOf(resolved.model));
    const failures: string[] = [];
    for (const model of chain) {
      const forecaster = this.create(model, modelOptions(cfg));
      if (have < forecaster.minHistoryPoints(series.stepMs)) {
        failures.push(`${model}: needs ${forecaster.minHistoryPoints(series.stepMs)} points, have ${have}`);
        continue;
      }
      const t0 = this.timer();
      try {
        forecaster.fit(series);
        const forecast = forecaster.predict(steps, quantiles);
        this.opts.onTrained?.(model, (this.timer() - t0) / 1000);
        const fallbackReason =
          model === resolved.model ? resolved.fallbackReason : `${resolved.model} failed (${failures.join('; ')}); using ${model}`;
        const own = forecaster.describe().mase;
        const mase = typeof own === 'number' ? own : validationMase(series, () => this.create(model, modelOptions(cfg)), cfg);
        const fresh: Entry = { requested, model, seasonalityKey, forecaster, trainedAt: now, fallbackReason, mase };
        this.entries.set(key, fresh);
        return this.outcome(requested, fresh, forecast, true);
      } catch (err) {
        failures.push(`${model}: ${(err as Error).message}`);
      }
    }
    this.entries.delete(key);
    return {
      requestedModel: requested,
      trained: false,
      unavailable: { reason: 'ModelFailed', message: `every model failed: ${failures.join('; ')}` },
    };
  }

  forget(keyPrefix: string): void {
    for (const k of this.entries.keys()) if (k.startsWith(keyPrefix)) this.entries.delete(k);
  }

  private outcome(requested: ModelName, e: Entry, forecast: Forecast, trained: boolean): ModelOutcome {
    return {
      requestedModel: requested,
      model: e.model,
      forecast,
      trainedAt: e.trainedAt,
      fallbackReason: e.fallbackReason,
      trained,
      mase: e.mase,
      details: e.forecaster.describe(),
    };
  }
}

function modelOptions(cfg: ScalerConfig) {
  return { seasonality: cfg.forecast.seasonality, horizonSteps: Math.max(1, Math.ceil(cfg.forecast.horizonMs / cfg.forecast.stepMs)) };
}

/** Origins of the validation backtest run at each training. */
const VALIDATION_FOLDS = 3;

/**
 * MASE over the last few horizons of the history, each forecast from a model fitted only on what came
 * before it: what the model is worth out of sample, for status.models and prescale_model_mase.
 */
function validationMase(series: Series, make: () => Forecaster, cfg: ScalerConfig): number | undefined {
  const horizonSteps = Math.max(1, Math.ceil(cfg.forecast.horizonMs / series.stepMs));
  const n = series.values.length;
  const probe = make();
  const warmupSteps = Math.max(probe.minHistoryPoints(series.stepMs), n - VALIDATION_FOLDS * horizonSteps);
  if (warmupSteps + horizonSteps > n) return undefined;
  try {
    const score = backtest(series, { model: make }, { horizonSteps, warmupSteps, folds: VALIDATION_FOLDS, quantile: cfg.forecast.quantile }).models[0];
    return score && score.folds > 0 && Number.isFinite(score.mase) ? score.mase : undefined;
  } catch {
    return undefined;
  }
}
