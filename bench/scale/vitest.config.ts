import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// Only for bench/scale.mjs: the bench body is TypeScript so that it can use the test helpers that
// start etcd, kube-apiserver and Prometheus. Its one "test" runs for as long as the bench does.
export default defineConfig({
  root: resolve(import.meta.dirname, '..', '..'),
  test: {
    include: ['bench/scale/*.run.ts', 'bench/scale/*.test.ts'],
    testTimeout: 24 * 3600_000,
    hookTimeout: 600_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
