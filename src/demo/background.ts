// `prescale demo --keep` leaves the demo up after the command returns: it starts the same demo as a
// detached process (its output in the state directory's demo.log), relays that output until the
// demo is ready, prints how to reach it and returns. `prescale demo --stop` ends it.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive, readState } from './state-file.js';
import { alreadyRunning } from './demo.js';

const POLL_MS = 250;
/** A cold machine builds the cluster's binaries first. */
const START_TIMEOUT_MS = 60 * 60_000;
const STOP_TIMEOUT_MS = 90_000;

export interface BackgroundLaunch {
  cliPath: string;
  /** The demo's own flags, without --keep. */
  demoArgs: string[];
  stateDir: string;
  print: (line: string) => void;
}

export async function launchInBackground(launch: BackgroundLaunch): Promise<number> {
  const running = await readState(launch.stateDir);
  if (running && isAlive(running.pid)) {
    launch.print(alreadyRunning(running));
    return 1;
  }
  const logFile = join(launch.stateDir, 'demo.log');
  await mkdir(launch.stateDir, { recursive: true, mode: 0o700 });
  const fd = openSync(logFile, 'w', 0o600);
  const child = spawn(process.execPath, [launch.cliPath, 'demo', ...launch.demoArgs], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? `exit code ${code}`));

  let offset = 0;
  const relay = async () => {
    const handle = await open(logFile, 'r');
    try {
      const { size } = await handle.stat();
      if (size <= offset) return;
      const buffer = Buffer.alloc(size - offset);
      await handle.read(buffer, 0, buffer.length, offset);
      const text = buffer.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      offset += Buffer.byteLength(text.slice(0, complete));
      for (const line of text.slice(0, complete).split('\n').slice(0, -1)) launch.print(line);
    } finally {
      await handle.close();
    }
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await relay();
    const state = await readState(launch.stateDir);
    if (state && state.pid === child.pid && state.phase === 'ready') {
      launch.print(`demo: left running in the background (pid ${child.pid}; its output goes to ${logFile}).`);
      launch.print(`demo: kubeconfig ${state.kubeconfig}`);
      launch.print('demo: stop it with: prescale demo --stop');
      return 0;
    }
    if (exited !== undefined) {
      await relay();
      launch.print(`demo: the background demo ended (${exited}) before it was ready; its output: ${logFile}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  launch.print(`demo: not ready after ${START_TIMEOUT_MS / 60_000} minutes; stopping it`);
  if (child.pid) process.kill(child.pid, 'SIGTERM');
  return 1;
}

export async function stopDemo(stateDir: string, print: (line: string) => void): Promise<number> {
  const state = await readState(stateDir);
  if (!state || !isAlive(state.pid)) {
    print('demo: no demo is running');
    return 0;
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline) {
      print(`demo: pid ${state.pid} did not stop within ${STOP_TIMEOUT_MS / 1000} s`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  print(`demo: stopped the demo of pid ${state.pid}; every process it started has exited`);
  return 0;
}
