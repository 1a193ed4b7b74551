// One demo per state directory: the running demo holds a state file naming its process, its web
// view and its kubeconfig. A second demo reads it and refuses with those facts; a file left by a
// demo that died (its process is gone) is taken over.
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DemoState {
  pid: number;
  startedAt: string;
  phase: 'starting' | 'ready' | 'stopping';
  /** Set once the web view answers. */
  url?: string;
  kubeconfig?: string;
  kubectlDir?: string;
  prometheusUrl?: string;
  /** When the trace's ramp arrives (ISO). */
  rampAt?: string;
  /** Trace time per wall time. */
  speed?: number;
  /** Where the background demo of --keep writes its output. */
  logFile?: string;
}

export const STATE_FILE = 'demo.json';

export type Acquired = { acquired: true; release: () => Promise<void>; update: (patch: Partial<DemoState>) => Promise<void> } | { acquired: false; holder: DemoState };

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readState(dir: string): Promise<DemoState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as DemoState;
    return Number.isInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Creates the state file for `pid` unless a live demo holds it. */
export async function acquireState(dir: string, pid: number, now: () => Date = () => new Date()): Promise<Acquired> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, STATE_FILE);
  let state: DemoState = { pid, startedAt: now().toISOString(), phase: 'starting' };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify(state));
      await handle.close();
      const update = async (patch: Partial<DemoState>) => {
        state = { ...state, ...patch };
        // Readers never see a half-written file.
        await writeFile(`${path}.tmp`, JSON.stringify(state), { mode: 0o600 });
        await rename(`${path}.tmp`, path);
      };
      const release = async () => {
        const current = await readState(dir);
        if (current?.pid === pid) await rm(path, { force: true });
      };
      return { acquired: true, update, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readState(dir);
      if (holder && holder.pid !== pid && isAlive(holder.pid)) return { acquired: false, holder };
      await rm(path, { force: true }); // stale: its demo is gone
    }
  }
  throw new Error(`could not create ${path}: another process keeps recreating it`);
}
