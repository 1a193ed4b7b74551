import { configDefaults, defineConfig } from 'vitest/config';

// Suites that wait minutes of wall-clock time (for a demand ramp to come): only `npm run test:e2e`
// (PRESCALE_E2E=1) runs them.
const SLOW_E2E = ['test/e2e/ready-before-spike.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: process.env.PRESCALE_E2E === '1' ? configDefaults.exclude : [...configDefaults.exclude, ...SLOW_E2E],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites start real etcd, kube-apiserver and Prometheus processes; on a 2-core
    // machine running them all at once slows every one of them down.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
