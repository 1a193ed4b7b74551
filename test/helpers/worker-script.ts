// The compiled training worker (test/global-setup.ts builds dist/ before the tests run).
export const TRAINING_WORKER_SCRIPT = new URL('../../dist/controller/training/worker.js', import.meta.url);
