// Where training runs. The model manager hands every training job to a Trainer: inline in the
// calling thread (deterministic; simulate and the CLI use it) or in a pool of worker threads (the
// operator), so that a reconcile never waits for a model to train.
import type { ModelName } from '../../api/types.js';
import { createForecaster, isModelName } from '../../forecast/registry.js';
import type { Forecaster, ForecasterOptions, ForecasterState } from '../../forecast/types.js';
import { replan, type PlanReport, type ReplanInput } from '../../planner/replan.js';
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

/** Where replans run: like trainings, off the reconcile path when pooled. */
export interface PlanRunner {
  plan(request: ReplanInput): PlanReport | Promise<PlanReport>;
}

export class InlineTrainer implements Trainer, PlanRunner {
  constructor(private readonly create: CreateForecaster = createForecaster) {}

  train(request: TrainingRequest): TrainingResult {
    return trainModel(request, this.create);
  }

  plan(request: ReplanInput): PlanReport {
    return replan(request);
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

/**
 * The live result of a result exported in a worker. Throws when `exported` does not have the
 * layout exportTrainingResult() gives it: a worker is another thread and its message is checked.
 */
export function importTrainingResult(exported: ExportedTrainingResult, options: ForecasterOptions, create: CreateForecaster = createForecaster): TrainingResult {
  const problem = exportedResultProblem(exported);
  if (problem) throw new TypeError(`malformed training result: ${problem}`);
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

function exportedResultProblem(exported: ExportedTrainingResult): string | undefined {
  const { model, failures, mase, driftFallback, seconds } = exported as Partial<Record<keyof ExportedTrainingResult, unknown>>;
  if (!isModelName(model)) return 'model is not a model of this version';
  if (!Array.isArray(failures) || !failures.every((f) => typeof f === 'string')) return 'failures is not a list of messages';
  if (mase !== undefined && !(typeof mase === 'number' && Number.isFinite(mase) && mase >= 0)) return 'mase is not a finite number at least 0';
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return 'seconds is not a finite number at least 0';
  if (driftFallback !== undefined && !(typeof driftFallback === 'object' && driftFallback !== null && isModelName((driftFallback as { model?: unknown }).model))) {
    return 'driftFallback names no model of this version';
  }
  return undefined;
}

/** Frees what a forecaster holds outside the JS heap (TensorFlow.js weights). */
export function disposeForecaster(forecaster: Forecaster | undefined): void {
  (forecaster as { dispose?: () => void } | undefined)?.dispose?.();
}
