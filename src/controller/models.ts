// Keeps one fitted forecaster per scaler metric: fits on first use, on spec.forecast.retrainEvery and
// when the model or seasonality changes; between fits it only brings the model up to date with the
// new points. A model that fails falls back along a chain of simpler statistical models.
import type { ModelName } from '../api/types.js';
import type { ScalerConfig } from '../api/config.js';
import { createForecaster, resolveModel } from '../forecast/registry.js';
import { InsufficientHistoryError, type Forecast, type Forecaster, type Series } from '../forecast/types.js';

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
  details?: Record<string, unknown>;
}

interface Entry {
  model: ModelName;
  seasonalityKey: string;
  forecaster: Forecaster;
  trainedAt: number;
  fallbackReason?: string;
}

const FALLBACK_CHAIN: ModelName[] = ['HoltWinters', 'SeasonalNaive', 'Linear'];

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
      !FALLBACK_CHAIN.slice(FALLBACK_CHAIN.indexOf(resolved.model)).includes(entry.model) ||
      (entry.model !== resolved.model && !entry.fallbackReason) ||
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

    const chain = FALLBACK_CHAIN.slice(FALLBACK_CHAIN.indexOf(resolved.model));
    const failures: string[] = [];
    let shortest: InsufficientHistoryError | undefined;
    for (const model of chain) {
      const forecaster = this.create(model, { seasonality: cfg.forecast.seasonality });
      const need = forecaster.minHistoryPoints(series.stepMs);
      if (have < need) {
        shortest ??= new InsufficientHistoryError(have, need);
        failures.push(`${model}: needs ${need} points, have ${have}`);
        continue;
      }
      const t0 = this.timer();
      try {
        forecaster.fit(series);
        const forecast = forecaster.predict(steps, quantiles);
        this.opts.onTrained?.(model, (this.timer() - t0) / 1000);
        const fallbackReason =
          model === resolved.model
            ? resolved.fallbackReason
            : `${resolved.model} failed (${failures.join('; ')}); using ${model}`;
        const fresh: Entry = { model, seasonalityKey, forecaster, trainedAt: now, fallbackReason };
        this.entries.set(key, fresh);
        return this.outcome(requested, fresh, forecast, true);
      } catch (err) {
        if (err instanceof InsufficientHistoryError) shortest ??= err;
        failures.push(`${model}: ${(err as Error).message}`);
      }
    }
    this.entries.delete(key);
    if (shortest && failures.every((f) => /needs|need at least/.test(f))) {
      return {
        requestedModel: requested,
        trained: false,
        unavailable: {
          reason: 'InsufficientHistory',
          message: `not enough history to forecast: ${failures[failures.length - 1]} (one point per ${cfg.forecast.stepMs / 1000}s step); scaling reactively until there is`,
        },
      };
    }
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
      details: e.forecaster.describe(),
    };
  }
}
