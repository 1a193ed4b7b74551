import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites start real etcd, kube-apiserver and Prometheus processes; on a 2-core
    // machine running them all at once slows every one of them down.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
