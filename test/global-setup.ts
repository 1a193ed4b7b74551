// Compiles src/ to dist/ once per test run: the training worker threads and the CLI tests run the
// compiled JavaScript, as a user's installation does.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export default async function setup(): Promise<void> {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { timeout: 300_000 });
}
