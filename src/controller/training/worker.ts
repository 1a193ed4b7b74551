// Entry point of a training worker thread: selects its own TensorFlow.js backend, then trains one
// job per message and posts back the fitted states.
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend, type BackendName } from '../../forecast/tf/backend.js';
import { replan, type PlanReport, type ReplanInput } from '../../planner/replan.js';
import { trainModel, type TrainingRequest } from './train-model.js';
import { disposeForecaster, exportTrainingResult } from './trainer.js';

export type WorkerJob = { id: number; kind: 'train'; request: TrainingRequest } | { id: number; kind: 'plan'; request: ReplanInput };

export type WorkerReply =
  | { kind: 'ready'; backend: BackendName }
  | { kind: 'failed-to-start'; error: string }
  | { kind: 'done'; id: number; result: ReturnType<typeof exportTrainingResult> }
  | { kind: 'planned'; id: number; report: PlanReport }
  /** errorName: the error's class name, so that the pool can rebuild the kinds callers tell apart. */
  | { kind: 'error'; id: number; error: string; errorName?: string };

const port = parentPort;
if (!port) throw new Error('the training worker must run in a worker thread');
const post = (reply: WorkerReply) => port.postMessage(reply);

try {
  const { name } = await selectBackend({ prefer: (workerData as { preferBackend?: BackendName } | undefined)?.preferBackend });
  post({ kind: 'ready', backend: name });
} catch (err) {
  post({ kind: 'failed-to-start', error: (err as Error).message });
}

port.on('message', (job: WorkerJob | null | undefined) => {
  try {
    if (typeof job !== 'object' || job === null) throw new TypeError('the message is not a training job');
    if (job.kind === 'plan') {
      post({ kind: 'planned', id: job.id, report: replan(job.request) });
      return;
    }
    const result = trainModel(job.request);
    try {
      post({ kind: 'done', id: job.id, result: exportTrainingResult(result) });
    } finally {
      disposeForecaster(result.forecaster);
      disposeForecaster(result.driftFallback?.forecaster);
    }
  } catch (err) {
    // Also reached for a message that is not a job: the reply then matches no job and is ignored.
    post({
      kind: 'error',
      id: typeof job?.id === 'number' ? job.id : -1,
      error: err instanceof Error ? err.message : String(err),
      ...(err instanceof Error ? { errorName: err.name } : {}),
    });
  }
});
