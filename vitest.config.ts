import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

// The end-to-end suites wait minutes of wall-clock time (for the trace's ramp to come) while using
// little CPU: they start first, in a worker of their own, and the rest runs beside them.
const E2E_FIRST = 'test/e2e/';

class EndToEndFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isE2e = (f: TestSpecification) => f.moduleId.includes(`/${E2E_FIRST}`);
    return [...sorted.filter(isE2e), ...sorted.filter((f) => !isE2e(f))];
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    // Integration suites start real etcd, kube-apiserver and Prometheus processes; on a 2-core
    // machine running more than two of them at once slows every one down. The other three workers
    // are the long end-to-end suites' (the demo, the HPA and KEDA ones), which mostly wait for a ramp.
    maxWorkers: 5,
    fileParallelism: true,
    sequence: { sequencer: EndToEndFirst },
  },
});
