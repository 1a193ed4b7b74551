// Trains models in worker threads. Jobs queue in arrival order and run one per worker; a job that
// runs longer than the timeout has its worker terminated (and replaced) and fails, and so does a
// job whose worker dies. The caller keeps serving its previous model in both cases.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../observability/logger.js';
import type { BackendName } from '../../forecast/tf/backend.js';
import { isStatisticalModel } from '../../forecast/registry.js';
import type { ForecasterOptions } from '../../forecast/types.js';
import { PlanningUnavailable, planReportProblem, type PlanReport, type ReplanInput } from '../../planner/replan.js';
import type { TrainingRequest, TrainingResult } from './train-model.js';
import { importTrainingResult, type PlanRunner, type Trainer } from './trainer.js';
import type { WorkerJob, WorkerReply } from './worker.js';

export interface WorkerPoolOptions {
  /** Worker threads; each trains one model at a time. */
  size: number;
  /** A training still running after this long is abandoned. */
  timeoutMs: number;
  /** The compiled worker entry point; defaults to worker.js beside this module. */
  script?: URL | string;
  preferBackend?: BackendName;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

export class TrainingTimeoutError extends Error {
  constructor(seconds: number) {
    super(`training did not finish within ${seconds} s; the worker was stopped`);
    this.name = 'TrainingTimeoutError';
  }
}

type Job =
  | { id: number; kind: 'train'; request: TrainingRequest; resolve: (result: TrainingResult) => void; reject: (error: Error) => void }
  | { id: number; kind: 'plan'; request: ReplanInput; resolve: (report: PlanReport) => void; reject: (error: Error) => void };

interface Slot {
  worker: Worker;
  /** The worker has set up its TensorFlow.js backend and takes jobs; the timeout counts from here. */
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

export class WorkerPoolTrainer implements Trainer, PlanRunner {
  private readonly queue: Job[] = [];
  private readonly slots = new Set<Slot>();
  private nextId = 1;
  private closed = false;
  private readonly script: URL | string;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new RangeError(`training workers must be a positive integer, got ${options.size}`);
    this.script = options.script ?? new URL('./worker.js', import.meta.url);
  }

  train(request: TrainingRequest): Promise<TrainingResult> {
    if (this.closed) return Promise.reject(new Error('the trainer is closed'));
    return new Promise((resolve, reject) => this.enqueue({ id: this.nextId++, kind: 'train', request, resolve, reject }));
  }

  /** A replan (seconds of simulation) queues like an LSTM training: behind every statistical training. */
  plan(request: ReplanInput): Promise<PlanReport> {
    if (this.closed) return Promise.reject(new Error('the trainer is closed'));
    return new Promise((resolve, reject) => this.enqueue({ id: this.nextId++, kind: 'plan', request, resolve, reject }));
  }

  private enqueue(job: Job): void {
    // Statistical models train in well under a second; they go ahead of queued LSTM and Ensemble
    // jobs and replans (seconds each) so that a burst of those does not hold every other scaler back.
    const heavy = (j: Job) => j.kind === 'plan' || !isStatisticalModel(j.request.model);
    const firstHeavy = this.queue.findIndex(heavy);
    if (heavy(job) || firstHeavy < 0) this.queue.push(job);
    else this.queue.splice(firstHeavy, 0, job);
    this.dispatch();
  }

  queued(): number {
    return this.queue.length;
  }

  running(): number {
    return [...this.slots].filter((s) => s.job).length;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('the trainer was closed'));
    await Promise.all(
      [...this.slots].map(async (slot) => {
        this.finish(slot, new Error('the trainer was closed'));
        await slot.worker.terminate();
      }),
    );
    this.slots.clear();
  }

  private dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const slot = [...this.slots].find((s) => s.ready && !s.job);
      if (!slot) {
        if (this.slots.size < this.options.size) this.spawn();
        return;
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.timer = setTimeout(() => this.abandon(slot, new TrainingTimeoutError(this.options.timeoutMs / 1000)), this.options.timeoutMs);
      const message: WorkerJob = job.kind === 'plan' ? { id: job.id, kind: 'plan', request: job.request } : { id: job.id, kind: 'train', request: job.request };
      slot.worker.postMessage(message);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.script, { workerData: { preferBackend: this.options.preferBackend } });
    const slot: Slot = { worker, ready: false };
    worker.on('message', (reply: unknown) => {
      // A listener that throws would be an uncaught exception in the operator's own thread.
      try {
        if (isWorkerReply(reply)) this.onReply(slot, reply);
        else this.abandon(slot, new Error('training worker sent a malformed message; the worker was stopped'));
      } catch (err) {
        this.options.logger?.warn({ err: (err as Error).message }, 'handling a training worker message failed');
        this.abandon(slot, new Error(`training worker message could not be handled: ${(err as Error).message}`));
      }
    });
    worker.on('error', (err) => this.abandon(slot, new Error(`training worker failed: ${err.message}`)));
    worker.on('exit', (code) => {
      if (this.slots.delete(slot) && slot.job) this.finish(slot, new Error(`training worker exited with code ${code}`));
      this.dispatch();
    });
    this.slots.add(slot);
    return slot;
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    if (reply.kind === 'ready' || reply.kind === 'failed-to-start') {
      if (reply.kind === 'ready') {
        this.options.logger?.info({ backend: reply.backend, threadId: slot.worker.threadId }, `training worker ready (TensorFlow.js backend: ${reply.backend})`);
      } else {
        this.options.logger?.warn({ err: reply.error }, 'training worker has no TensorFlow.js backend; only statistical models can train');
      }
      slot.ready = true;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== reply.id) return;
    if (reply.kind === 'error') {
      this.finish(slot, reply.errorName === 'PlanningUnavailable' ? new PlanningUnavailable(reply.error) : new Error(reply.error));
    } else if (reply.kind === 'planned') {
      const problem = job.kind === 'plan' ? planReportProblem(reply.report) : 'a plan came back for a training job';
      this.finish(slot, problem ? new Error(`the plan could not be loaded: ${problem}`) : undefined, reply.report);
    } else if (job.kind !== 'train') {
      this.finish(slot, new Error('a trained model came back for a planning job'));
    } else {
      try {
        const options: ForecasterOptions = job.request.options;
        this.finish(slot, undefined, importTrainingResult(reply.result, options));
      } catch (err) {
        this.finish(slot, new Error(`the trained model could not be loaded: ${err instanceof Error ? err.message : String(err)}`));
      }
    }
    this.dispatch();
  }

  /** Fails the slot's job and replaces its worker (it may be stuck in a long synchronous loop). */
  private abandon(slot: Slot, error: Error): void {
    this.finish(slot, error);
    this.slots.delete(slot);
    slot.worker.terminate().catch((err: unknown) => this.options.logger?.warn({ err: (err as Error).message }, 'stopping a training worker failed'));
    this.dispatch();
  }

  private finish(slot: Slot, error: Error | undefined, result?: TrainingResult | PlanReport): void {
    const job = slot.job;
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.timer = undefined;
    if (!job) return;
    if (error) job.reject(error);
    else if (job.kind === 'plan') job.resolve(result as PlanReport);
    else job.resolve(result as TrainingResult);
  }
}

/** The shape of every reply worker.ts posts; anything else means the worker misbehaves. */
function isWorkerReply(value: unknown): value is WorkerReply {
  if (typeof value !== 'object' || value === null) return false;
  const reply = value as Record<string, unknown>;
  switch (reply.kind) {
    case 'ready':
      return typeof reply.backend === 'string';
    case 'failed-to-start':
      return typeof reply.error === 'string';
    case 'error':
      return typeof reply.id === 'number' && typeof reply.error === 'string';
    case 'done':
      return typeof reply.id === 'number' && typeof reply.result === 'object' && reply.result !== null;
    case 'planned':
      return typeof reply.id === 'number' && typeof reply.report === 'object' && reply.report !== null;
    default:
      return false;
  }
}
