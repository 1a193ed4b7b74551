// Long-running test daemons (etcd, kube-apiserver, controller-manager, KWOK, ...): start one with
// its output in a log file, wait until it answers, stop it gracefully.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ManagedProcess {
  readonly name: string;
  readonly logPath: string;
  readonly exited: boolean;
  /** Resolves with the exit code (or signal) once the process has exited. */
  readonly exit: Promise<string>;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process is gone. */
  kill(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  /**
   * Have the kernel kill the process when the test worker dies, even by SIGKILL (needs util-linux's
   * setpriv; without it, only the exit hook below applies).
   */
  dieWithParent?: boolean;
}

// A safety net: if the test worker exits without stopping them, do not leave daemons behind.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export function startProcess(binary: string, logPath: string, args: string[], options: StartOptions = {}): ManagedProcess {
  const setpriv = options.dieWithParent ? findOnPath('setpriv') : undefined;
  const [command, commandArgs] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', binary, ...args]] : [binary, args];
  const logFd = openSync(logPath, 'a');
  const child = spawn(command, commandArgs, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  liveChildren.add(child);
  let exited = false;
  const exit = new Promise<string>((resolveExit) => {
    const done = (how: string): void => {
      exited = true;
      liveChildren.delete(child);
      resolveExit(how);
    };
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => done(`spawn error: ${err.message}`));
  });
  return {
    name: binary.split('/').pop() ?? binary,
    logPath,
    get exited() {
      return exited;
    },
    exit,
    async kill(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it returns true. Throws, with the process's log tail, when the process exits
 * first or the time runs out (stopping it then when `killOnTimeout`).
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  timeoutMs: number,
  probe: () => Promise<boolean>,
  options: { pollMs?: number; killOnTimeout?: boolean } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'not ready yet';
  while (Date.now() < deadline) {
    if (proc.exited) {
      throw new Error(`${proc.name} exited during start-up (${await proc.exit}); log tail:\n${logTail(proc.logPath)}`);
    }
    try {
      if (await probe()) return;
      lastError = 'not ready yet';
    } catch (err) {
      lastError = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, options.pollMs ?? 100));
  }
  if (options.killOnTimeout ?? true) await proc.kill();
  throw new Error(`${proc.name} not ready after ${timeoutMs} ms (${lastError}); log tail:\n${logTail(proc.logPath)}`);
}

export function logTail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}
