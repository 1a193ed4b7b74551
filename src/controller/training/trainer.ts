// Where training runs. The model manager hands every training job to a Trainer: inline in the
// calling thread (deterministic; simulate and the CLI use it) or in a pool of worker threads (the
// operator), so that a reconcile never waits for a model to train.
import type { ModelName } from '../../api/types.js';
import { createForecaster } from '../../forecast/registry.js';
import type { Forecaster, ForecasterOptions, ForecasterState } from '../../forecast/types.js';
import { trainModel, type CreateForecaster, type TrainingRequest, type TrainingResult } from './train-model.js';

export interface Trainer {
  /** An inline trainer returns the result itself; a pooled one a promise that settles later. */
  train(request: TrainingRequest): TrainingResult | Promise<TrainingResult>;
  /** Jobs accepted but not yet started. */
  queued(): number;
  /** Jobs running now. */
  running(): number;
  close(): Promise<void>;
}

export class InlineTrainer implements Trainer {
  constructor(private readonly create: CreateForecaster = createForecaster) {}

  train(request: TrainingRequest): TrainingResult {
    return trainModel(request, this.create);
  }

  queued(): number {
    return 0;
  }

  running(): number {
    return 0;
  }

  async close(): Promise<void> {}
}

/** A training result as it crosses a thread boundary: states instead of live forecasters. */
export interface ExportedTrainingResult {
  model: ModelName;
  failures: string[];
  state: ForecasterState;
  mase?: number;
  driftFallback?: { model: ModelName; state: ForecasterState };
  seconds: number;
}

export function exportTrainingResult(result: TrainingResult): ExportedTrainingResult {
  return {
    model: result.model,
    failures: result.failures,
    state: result.forecaster.exportState(),
    ...(result.mase !== undefined ? { mase: result.mase } : {}),
    ...(result.driftFallback ? { driftFallback: { model: result.driftFallback.model, state: result.driftFallback.forecaster.exportState() } } : {}),
    seconds: result.seconds,
  };
}

export function importTrainingResult(exported: ExportedTrainingResult, options: ForecasterOptions, create: CreateForecaster = createForecaster): TrainingResult {
  const restore = (model: ModelName, state: ForecasterState): Forecaster => {
    const forecaster = create(model, options);
    forecaster.importState(state);
    return forecaster;
  };
  return {
    model: exported.model,
    failures: exported.failures,
    forecaster: restore(exported.model, exported.state),
    ...(exported.mase !== undefined ? { mase: exported.mase } : {}),
    ...(exported.driftFallback
      ? { driftFallback: { model: exported.driftFallback.model, forecaster: restore(exported.driftFallback.model, exported.driftFallback.state) } }
      : {}),
    seconds: exported.seconds,
  };
}

/** Frees what a forecaster holds outside the JS heap (TensorFlow.js weights). */
export function disposeForecaster(forecaster: Forecaster | undefined): void {
  (forecaster as { dispose?: () => void } | undefined)?.dispose?.();
}
