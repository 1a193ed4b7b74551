// Builds a Forecaster from the model name in a PredictiveScaler spec, fresh or from a saved state.
import type { ModelName } from '../api/types.js';
import { DEFAULT_VALIDATION_SPAN_MS, EnsembleForecaster } from './ensemble.js';
import { HoltWintersForecaster } from './holtWinters.js';
import { LinearForecaster } from './linear.js';
import { LstmForecaster } from './lstm.js';
import { MstlForecaster } from './mstl.js';
import { bundledGlobalModel } from './pretrained/bundled.js';
import { PretrainedForecaster } from './pretrained/forecaster.js';
import { SeasonalNaiveForecaster } from './seasonalNaive.js';
import { IncompatibleStateError, type Forecaster, type ForecasterOptions, type ForecasterState, type Seasonality } from './types.js';

export type StatisticalModelName = 'HoltWinters' | 'SeasonalNaive' | 'Linear' | 'MSTL';
export type EnsembleMemberName = 'LSTM' | StatisticalModelName;

/** The members of the Ensemble in this version: the LSTM and every statistical model. */
export const ENSEMBLE_MEMBERS: EnsembleMemberName[] = ['LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear'];

/** The model used when the requested one is not available. */
export const STATISTICAL_FALLBACK: ModelName = 'HoltWinters';

const MODELS: readonly ModelName[] = ['Ensemble', 'LSTM', 'HoltWinters', 'SeasonalNaive', 'Linear', 'MSTL', 'Pretrained'];

export interface ResolvedModel {
  model: ModelName;
  /** Set when the requested model was replaced; says why, for status and logs. */
  fallbackReason?: string;
}

export function isStatisticalModel(model: ModelName): model is StatisticalModelName {
  return model === 'HoltWinters' || model === 'SeasonalNaive' || model === 'Linear' || model === 'MSTL';
}

export function isModelName(name: unknown): name is ModelName {
  return typeof name === 'string' && (MODELS as readonly string[]).includes(name);
}

/**
 * Maps a requested model to one this version can run. Every ModelName runs as itself; the
 * fallback covers a name from a resource written for another version, which the type cannot rule out.
 */
export function resolveModel(requested: ModelName): ResolvedModel {
  if (isModelName(requested)) return { model: requested };
  return {
    model: STATISTICAL_FALLBACK,
    fallbackReason: `${String(requested)} models are not available in this version; using ${STATISTICAL_FALLBACK}`,
  };
}

/** A fresh forecaster for `model`; throws for models that resolveModel would replace. */
export function createForecaster(model: ModelName, options: ForecasterOptions = {}): Forecaster {
  switch (model) {
    case 'HoltWinters':
      return new HoltWintersForecaster({ seasonality: options.seasonality });
    case 'SeasonalNaive':
      return new SeasonalNaiveForecaster({ seasonality: options.seasonality });
    case 'Linear':
      return new LinearForecaster();
    case 'LSTM':
      return new LstmForecaster({ seasonality: options.seasonality, horizonSteps: options.horizonSteps });
    case 'MSTL':
      return new MstlForecaster({ seasonality: options.seasonality, horizonSteps: options.horizonSteps });
    case 'Pretrained':
      return new PretrainedForecaster({ model: bundledGlobalModel() });
    case 'Ensemble':
      return new EnsembleForecaster({
        members: ENSEMBLE_MEMBERS.map((name) => ({
          name,
          make: () => createForecaster(name, options),
          ...(isStatisticalModel(name) ? { refitAtOrigin: true } : { refitEveryMs: LSTM_REFIT_EVERY_MS }),
        })),
        horizonSteps: options.horizonSteps,
        validationSpanMs: validationSpanOf(options.seasonality),
      });
    default:
      throw new Error(`model ${String(model)} is not available in this version; call resolveModel() first`);
  }
}

/**
 * How old the Ensemble's LSTM fit may grow before an ensemble fit fits it again: a day, the span
 * it validates on. An LSTM fit costs about ten times the statistical members together, and the operator retrains
 * every few hours and on every drift; in between, the network follows the history with update()
 * while the statistical members and the weights are refitted each time.
 */
const LSTM_REFIT_EVERY_MS = 86_400_000;

/**
 * What the Ensemble validates on: the longest declared season up to a day (a weekly season would
 * cost a week of extra history and hundreds of folds), else a day.
 */
function validationSpanOf(seasonality: Seasonality | undefined): number {
  if (!Array.isArray(seasonality) || seasonality.length === 0) return DEFAULT_VALIDATION_SPAN_MS;
  return Math.min(DEFAULT_VALIDATION_SPAN_MS, Math.max(...seasonality));
}

/**
 * A forecaster of the state's model, built with `options` and loaded with the state. Throws
 * IncompatibleStateError when the state names no model of this version or the model rejects it.
 * Call update(series) with the current history before predict().
 */
export function restoreForecaster(state: ForecasterState, options: ForecasterOptions = {}): Forecaster {
  const model: unknown = typeof state === 'object' && state !== null ? state.model : undefined;
  if (!isModelName(model)) throw new IncompatibleStateError(`no model named ${String(model)} in this version`);
  const forecaster = createForecaster(model, options);
  forecaster.importState(state);
  return forecaster;
}
