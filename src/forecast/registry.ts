// Builds a Forecaster from the model name in a PredictiveScaler spec.
import type { ModelName } from '../api/types.js';
import { EnsembleForecaster } from './ensemble.js';
import { HoltWintersForecaster } from './holtWinters.js';
import { LinearForecaster } from './linear.js';
import { SeasonalNaiveForecaster } from './seasonalNaive.js';
import type { Forecaster, ForecasterOptions } from './types.js';

export type StatisticalModelName = 'HoltWinters' | 'SeasonalNaive' | 'Linear';

/** The members of the Ensemble in this version: every statistical model. */
export const ENSEMBLE_MEMBERS: StatisticalModelName[] = ['HoltWinters', 'SeasonalNaive', 'Linear'];

/** The model used when the requested one is not available. */
export const STATISTICAL_FALLBACK: ModelName = 'HoltWinters';

export interface ResolvedModel {
  model: ModelName;
  /** Set when the requested model was replaced; says why, for status and logs. */
  fallbackReason?: string;
}

export function isStatisticalModel(model: ModelName): model is StatisticalModelName {
  return model === 'HoltWinters' || model === 'SeasonalNaive' || model === 'Linear';
}

/** Maps a requested model to one this version can run. */
export function resolveModel(requested: ModelName): ResolvedModel {
  if (isStatisticalModel(requested) || requested === 'Ensemble') return { model: requested };
  const what = requested === 'LSTM' ? 'LSTM models are' : `${requested} models are`;
  return {
    model: STATISTICAL_FALLBACK,
    fallbackReason: `${what} not available in this version; using ${STATISTICAL_FALLBACK}`,
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
    case 'Ensemble':
      return new EnsembleForecaster({
        members: ENSEMBLE_MEMBERS.map((name) => ({ name, make: () => createForecaster(name, options) })),
        horizonSteps: options.horizonSteps,
      });
    default:
      throw new Error(`model ${model} is not available in this version; call resolveModel() first`);
  }
}
