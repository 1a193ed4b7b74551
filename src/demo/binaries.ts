// The cluster's binaries, built from Go modules by hack/build-k8s-bins.sh on the first run (cached
// after), with the script's progress passed through.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CLUSTER_BINARIES } from './env/cluster.js';

export async function ensureClusterBinaries(repoRoot: string, progress: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const script = join(repoRoot, 'hack', 'build-k8s-bins.sh');
  if (!existsSync(script)) throw new Error(`${script} is missing: prescale demo runs from a clone of the repository (it builds the cluster from Go modules)`);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...CLUSTER_BINARIES], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let lastLine = '';
    const stderrTail: string[] = [];
    createInterface(child.stdout).on('line', (line) => (lastLine = line.trim() || lastLine));
    createInterface(child.stderr).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      if (line.startsWith('build-k8s-bins:')) progress(line.replace(/^build-k8s-bins:\s*/, ''));
    });
    child.once('error', reject);
    child.once('exit', (code, sig) => {
      if (code === 0 && CLUSTER_BINARIES.every((b) => existsSync(join(lastLine, b)))) resolve(lastLine);
      else reject(new Error(`hack/build-k8s-bins.sh failed (${sig ?? `exit code ${code}`}):\n${stderrTail.join('\n')}`));
    });
  });
}
