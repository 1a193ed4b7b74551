// `prescale run` as the demo's child process, as the deploy/ Deployment would run it: its JSON log
// goes to a file, and the demo waits for the lines that say it is up.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { findOnPath } from './env/processes.js';

export interface OperatorChild {
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the first parsed log line for which `match` is true; rejects if the process exits first or after timeoutMs. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  /** The last log lines, for error messages. */
  tail(): string;
  readonly exited: Promise<string>;
  /** SIGTERM, SIGKILL after graceMs; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function spawnOperator(cliPath: string, args: string[], logPath: string): OperatorChild {
  if (!existsSync(cliPath)) throw new Error(`${cliPath} is missing: run "npm run build" first`);
  const setpriv = findOnPath('setpriv');
  // The kernel kills the operator when the demo dies, even by SIGKILL.
  const [command, commandArgs] = setpriv
    ? [setpriv, ['--pdeathsig', 'KILL', process.execPath, cliPath, 'run', ...args]]
    : [process.execPath, [cliPath, 'run', ...args]];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(logPath, { flags: 'a' });
  const recent: string[] = [];
  const lines: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  const remember = (text: string) => {
    recent.push(text);
    if (recent.length > 40) recent.shift();
  };
  createInterface(child.stdout!).on('line', (text) => {
    log.write(`${text}\n`);
    remember(text);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object') lines.push(parsed as Record<string, unknown>);
      if (lines.length > 10_000) lines.splice(0, 5_000);
    } catch {
      // not a log line (a crash trace): kept in the file and the tail
    }
    for (const wake of waiters) wake();
  });
  createInterface(child.stderr!).on('line', (text) => {
    log.write(`${text}\n`);
    remember(text);
  });
  let exitedHow: string | undefined;
  const exited = new Promise<string>((resolve) => {
    const done = (how: string) => {
      exitedHow = how;
      log.end();
      for (const wake of waiters) wake();
      resolve(how);
    };
    child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `exit code ${code}`));
    child.once('error', (err) => done(`spawn error: ${err.message}`));
  });
  return {
    pid: child.pid ?? -1,
    logPath,
    exited,
    tail: () => recent.join('\n'),
    waitForLog(match, timeoutMs) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(() => reject(new Error(`the operator did not log the awaited line within ${Math.round(timeoutMs / 1000)} s; its log (${logPath}) ends:\n${recent.join('\n')}`))), timeoutMs);
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        const check = () => {
          const found = lines.find(match);
          if (found) finish(() => resolve(found));
          else if (exitedHow) finish(() => reject(new Error(`the operator exited (${exitedHow}); its log (${logPath}) ends:\n${recent.join('\n')}`)));
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (exitedHow) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
