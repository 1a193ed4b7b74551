// One training job: fit the requested model (falling back along simpler statistical models when it
// fails), measure its out-of-sample error, and fit the statistical model that stands in for it if
// its live error drifts. The same function runs inline (simulate, CLI) and in a training worker.
import type { ModelName } from '../../api/types.js';
import { mase, seasonalNaiveScale } from '../../forecast/accuracy.js';
import { createForecaster } from '../../forecast/registry.js';
import { countObserved } from '../../forecast/series.js';
import type { Forecaster, ForecasterOptions, ForecasterState, Series } from '../../forecast/types.js';

export interface TrainingRequest {
  /** The model to train (already resolved: one this version can run). */
  model: ModelName;
  options: ForecasterOptions & { horizonSteps: number };
  series: Series;
  /** Planning quantile, for the validation backtest's interval scoring. */
  quantile: number;
  /** The previous model of the same kind, to start from where it supports that (LSTM weights). */
  warmStart?: ForecasterState;
}

export interface TrainingResult {
  /** The model that was fitted: the requested one, or the first fallback that fitted. */
  model: ModelName;
  /** Why models before `model` in the chain failed; empty when the requested model fitted. */
  failures: string[];
  forecaster: Forecaster;
  /** Out-of-sample MASE over the last horizons of the history; undefined when too short. */
  mase?: number;
  /** The statistical model served while this one's live error has drifted. */
  driftFallback?: { model: ModelName; forecaster: Forecaster };
  seconds: number;
}

/** Where a model that fails falls back to: the next simpler statistical model. */
const FALLBACK_CHAIN: Record<ModelName, ModelName[]> = {
  Ensemble: ['Ensemble', 'HoltWinters', 'SeasonalNaive', 'Linear'],
  LSTM: ['LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear'],
  HoltWinters: ['HoltWinters', 'SeasonalNaive', 'Linear'],
  SeasonalNaive: ['SeasonalNaive', 'Linear'],
  Linear: ['Linear'],
  MSTL: ['MSTL', 'HoltWinters', 'SeasonalNaive', 'Linear'],
  Pretrained: ['Pretrained', 'HoltWinters', 'SeasonalNaive', 'Linear'],
};

/** `model` and the models it falls back to, in order. */
export function fallbackChain(model: ModelName): readonly ModelName[] {
  return FALLBACK_CHAIN[model];
}

/** The statistical model that serves while `model` drifts (none for the simplest one). */
export function driftFallbackFor(model: ModelName): ModelName | undefined {
  return FALLBACK_CHAIN[model][1];
}

export type CreateForecaster = (model: ModelName, options: ForecasterOptions) => Forecaster;

export function trainModel(request: TrainingRequest, create: CreateForecaster = createForecaster, timer: () => number = () => performance.now()): TrainingResult {
  const t0 = timer();
  const { series, options } = request;
  const have = countObserved(series.values);
  const failures: string[] = [];
  for (const model of FALLBACK_CHAIN[request.model]) {
    const forecaster = create(model, options);
    const need = forecaster.minHistoryPoints(series.stepMs);
    if (have < need) {
      failures.push(`${model}: needs ${need} points, have ${have}`);
      continue;
    }
    try {
      if (request.warmStart && request.warmStart.model === forecaster.name) tryImport(forecaster, request.warmStart);
      // An ensemble scores its members and its blend on its own; every other model is scored here.
      const validated = model === 'Ensemble' ? (forecaster.fit(series), undefined) : fitWithValidation(forecaster, series, options.horizonSteps);
      const own = forecaster.describe().mase;
      const validationMase = validated ?? (typeof own === 'number' && Number.isFinite(own) ? own : undefined);
      const driftFallback = fitDriftFallback(model, request, create, have);
      return { model, failures, forecaster, mase: validationMase, driftFallback, seconds: (timer() - t0) / 1000 };
    } catch (err) {
      failures.push(`${model}: ${(err as Error).message}`);
    }
  }
  throw new Error(`every model failed: ${failures.join('; ')}`);
}

function tryImport(forecaster: Forecaster, state: ForecasterState): void {
  try {
    forecaster.importState(state);
  } catch {
    // An incompatible previous model only means this fit starts cold.
  }
}

function fitDriftFallback(model: ModelName, request: TrainingRequest, create: CreateForecaster, have: number): TrainingResult['driftFallback'] {
  for (const fallback of FALLBACK_CHAIN[model].slice(1)) {
    const forecaster = create(fallback, request.options);
    if (have < forecaster.minHistoryPoints(request.series.stepMs)) continue;
    try {
      forecaster.fit(request.series);
      return { model: fallback, forecaster };
    } catch {
      // try the next simpler one
    }
  }
  return undefined;
}

/** Horizons at the end of the history the served model is scored on. */
const VALIDATION_FOLDS = 3;

/**
 * Fits `forecaster` so that its out-of-sample error comes for free: fit on the history before the
 * last few horizons, forecast each of them after an update() with the history up to its origin (the
 * parameters stay those learned before the first origin), score MASE as the backtest does, then
 * update() with the whole series. One fit, not one per fold; the model served has seen every point
 * through update() and keeps the parameters learned a few horizons ago until the next retrain.
 * Falls back to a plain fit (MASE undefined) when the history is too short to hold folds out.
 */
export function fitWithValidation(forecaster: Forecaster, series: Series, horizonSteps: number, folds = VALIDATION_FOLDS): number | undefined {
  const n = series.values.length;
  const prefix = n - folds * horizonSteps;
  const observedBefore = (end: number) => series.values.slice(0, end).filter(Number.isFinite).length;
  if (prefix < 1 || observedBefore(prefix) < forecaster.minHistoryPoints(series.stepMs)) {
    forecaster.fit(series);
    return undefined;
  }
  const upTo = (end: number): Series => ({ start: series.start, stepMs: series.stepMs, values: series.values.slice(0, end) });
  const scores: number[] = [];
  for (let k = 0; k < folds; k++) {
    const origin = prefix + k * horizonSteps;
    if (k === 0) forecaster.fit(upTo(origin));
    else forecaster.update(upTo(origin));
    const forecast = forecaster.predict(horizonSteps, [0.5]);
    const score = mase(series.values.slice(origin, origin + horizonSteps), forecast.mean, seasonalNaiveScale(series.values.slice(0, origin), series.stepMs));
    if (Number.isFinite(score)) scores.push(score);
  }
  forecaster.update(series);
  return scores.length > 0 ? scores.reduce((a, b) => a + b, 0) / scores.length : undefined;
}
