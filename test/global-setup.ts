// Compiles src/ to dist/ once per test run: the training worker threads and the CLI tests run the
// compiled JavaScript, as a user's installation does.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export default async function setup(): Promise<void> {
  try {
    await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeout: 300_000 });
  } catch (err) {
    // Exit code 2: type errors, but every file was emitted. `npm test` type-checks before the tests
    // and fails on them; a single suite run while editing still gets a dist/ to run.
    const e = err as { code?: unknown; stdout?: string };
    if (e.code !== 2) throw err;
    process.stderr.write(`global setup: dist/ built despite type errors:\n${e.stdout ?? ''}\n`);
  }
}
