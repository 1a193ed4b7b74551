// `prescale run` (the compiled CLI, dist/cli/main.js) as a child process, with its JSON log lines
// collected, for tests that kill or signal the operator the way Kubernetes does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

/** A pino line as the operator writes it: ISO `time`, string `level`. */
export type LogLine = Record<string, unknown> & { msg?: string; time: string; level: string };

export interface OperatorProcess {
  readonly pid: number;
  /** Every JSON line written so far, in order. */
  readonly logs: readonly LogLine[];
  /** Output that was not JSON (crashes, warnings). */
  readonly stderr: string;
  /** Resolves once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** Resolves with the first log line matching, rejects after timeoutMs or when the process exits. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Starts `prescale run <args>`; `--log-level debug` unless args set a level. */
export function spawnOperator(args: string[]): OperatorProcess {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: the test global setup compiles it`);
  const fullArgs = [CLI, 'run', ...args, ...(args.includes('--log-level') ? [] : ['--log-level', 'debug'])];
  const child = spawn(process.execPath, fullArgs, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const logs: LogLine[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface(child.stdout!).on('line', (text) => {
    try {
      logs.push(JSON.parse(text) as LogLine);
    } catch {
      stderr += `${text}\n`;
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let hasExited = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolveExit) => {
    child.once('exit', (code, signal) => {
      hasExited = true;
      live.delete(child);
      resolveExit({ code, signal, at: Date.now() });
      for (const wake of waiters) wake();
    });
  });
  return {
    pid: child.pid!,
    logs,
    get stderr() {
      return stderr;
    },
    exited,
    kill: (signal) => child.kill(signal),
    waitForLog(match, timeoutMs = 30_000) {
      return new Promise((resolveLine, reject) => {
        const check = () => {
          const found = logs.find(match);
          if (found) finish(() => resolveLine(found));
          else if (hasExited) finish(() => reject(new Error(`operator ${child.pid} exited before the awaited log line; stderr:\n${stderr.slice(-2000)}`)));
        };
        const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for a log line of operator ${child.pid}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
}
