// Test doubles for the model lifecycle: a forecaster that counts its calls, a trainer whose jobs the
// test settles by hand, and an in-memory model store.
import type { ModelName } from '../../../src/api/types.js';
import type { ModelPersistence, ModelRecord } from '../../../src/controller/models.js';
import { trainModel, type CreateForecaster, type TrainingRequest, type TrainingResult } from '../../../src/controller/training/train-model.js';
import type { Trainer } from '../../../src/controller/training/trainer.js';
import { createForecaster } from '../../../src/forecast/registry.js';
import { IncompatibleStateError, type Forecast, type Forecaster, type ForecasterOptions, type ForecasterState, type Series } from '../../../src/forecast/types.js';

export interface FakeBehaviour {
  minPoints?: number;
  fitError?: string;
  updateError?: string;
  importError?: string;
  /** Reported by describe() as the model's own validation error (as the Ensemble does). */
  mase?: number;
}

/** Counts its calls; forecasts the last value flat, right after the series it last saw. */
export class CountingForecaster implements Forecaster {
  fits = 0;
  updates = 0;
  imported: ForecasterState | undefined;
  disposed = false;
  /** Length of the series passed to each fit() and update(), in call order. */
  readonly seen: { call: 'fit' | 'update'; length: number }[] = [];
  private series: Series | undefined;

  constructor(
    readonly name: string,
    private readonly behaviour: FakeBehaviour = {},
  ) {}

  minHistoryPoints(): number {
    return this.behaviour.minPoints ?? 3;
  }

  fit(series: Series): void {
    this.fits++;
    this.seen.push({ call: 'fit', length: series.values.length });
    if (this.behaviour.fitError) throw new Error(this.behaviour.fitError);
    this.series = series;
  }

  update(series: Series): void {
    this.updates++;
    this.seen.push({ call: 'update', length: series.values.length });
    if (this.behaviour.updateError) throw new Error(this.behaviour.updateError);
    this.series = series;
  }

  predict(steps: number, quantiles: number[]): Forecast {
    const s = this.series;
    if (!s) throw new Error(`${this.name} is not fitted`);
    const mean = new Array<number>(steps).fill(s.values.at(-1)!);
    return { model: this.name, start: s.start + s.values.length * s.stepMs, stepMs: s.stepMs, mean, quantiles: quantiles.map((q) => ({ q, values: mean })) };
  }

  describe(): Record<string, unknown> {
    return { model: this.name, fits: this.fits, updates: this.updates, ...(this.behaviour.mase !== undefined ? { mase: this.behaviour.mase } : {}) };
  }

  exportState(): ForecasterState {
    if (!this.series) throw new Error(`${this.name} is not fitted`);
    return { model: this.name, format: 1, fits: this.fits };
  }

  importState(state: ForecasterState): void {
    if (this.behaviour.importError) throw new IncompatibleStateError(this.behaviour.importError);
    if (state.model !== this.name) throw new IncompatibleStateError(`state of ${state.model}, not ${this.name}`);
    this.imported = state;
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** A `create` that hands out fakes for some models and the real forecasters for the rest; keeps every one. */
export function creating(fakes: Partial<Record<ModelName, () => Forecaster>> = {}) {
  const created: Forecaster[] = [];
  const create: CreateForecaster = (model: ModelName, options: ForecasterOptions) => {
    const f = fakes[model]?.() ?? createForecaster(model, options);
    created.push(f);
    return f;
  };
  /** Total fit() and update() calls over every counting fake of `name` created so far. */
  const calls = (name: string) => {
    const fakesOf = created.filter((f): f is CountingForecaster => f instanceof CountingForecaster && f.name === name);
    return { fits: fakesOf.reduce((n, f) => n + f.fits, 0), updates: fakesOf.reduce((n, f) => n + f.updates, 0) };
  };
  return { create, created, calls };
}

interface Job {
  request: TrainingRequest;
  resolve: (result: TrainingResult) => void;
  reject: (error: Error) => void;
}

/** A background trainer the test drives: every job waits until the test settles it. */
export class ManualTrainer implements Trainer {
  readonly jobs: Job[] = [];
  readonly requests: TrainingRequest[] = [];

  constructor(private readonly create: CreateForecaster = createForecaster) {}

  train(request: TrainingRequest): Promise<TrainingResult> {
    this.requests.push(request);
    return new Promise((resolve, reject) => this.jobs.push({ request, resolve, reject }));
  }

  queued(): number {
    return 0;
  }

  running(): number {
    return this.jobs.length;
  }

  async close(): Promise<void> {}

  /** Trains the oldest job for real (or hands over `result`) and lets the promise callbacks run. */
  async finish(result?: TrainingResult): Promise<TrainingResult> {
    const job = this.take();
    const r = result ?? trainModel(job.request, this.create);
    job.resolve(r);
    await settled();
    return r;
  }

  async fail(message: string): Promise<void> {
    this.take().reject(new Error(message));
    await settled();
  }

  private take(): Job {
    const job = this.jobs.shift();
    if (!job) throw new Error('no training job is waiting');
    return job;
  }
}

/** Lets every pending promise callback run. */
export function settled(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A model store in memory; records go through JSON as they would through a real store. */
export class MemoryPersistence implements ModelPersistence {
  record: ModelRecord | undefined;
  saves = 0;
  readonly discarded: string[] = [];
  loadError: Error | undefined;

  async load(): Promise<ModelRecord | undefined> {
    if (this.loadError) throw this.loadError;
    return this.record && (JSON.parse(JSON.stringify(this.record)) as ModelRecord);
  }

  async save(record: ModelRecord): Promise<void> {
    this.saves++;
    this.record = JSON.parse(JSON.stringify(record)) as ModelRecord;
  }

  async discard(reason: string): Promise<void> {
    this.discarded.push(reason);
    this.record = undefined;
  }
}
