// One demo per state directory: a live holder keeps others out, a dead one's file is taken over,
// and only the holder's release removes it.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireState, isAlive, readState, STATE_FILE } from '../../../src/demo/state-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prescale-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('the demo state file', () => {
  it('keeps a second demo out while the first lives, naming the first', async () => {
    const first = await acquireState(dir, process.pid);
    expect(first.acquired).toBe(true);
    if (!first.acquired) return;
    await first.update({ phase: 'ready', url: 'http://127.0.0.1:8470/' });
    const second = await acquireState(dir, process.pid + 1);
    expect(second).toMatchObject({ acquired: false, holder: { pid: process.pid, phase: 'ready', url: 'http://127.0.0.1:8470/' } });
    await first.release();
    expect(await readState(dir)).toBeUndefined();
    expect((await acquireState(dir, process.pid + 1)).acquired).toBe(true);
  });

  it('takes over the file of a demo whose process is gone', async () => {
    const pid = await deadPid();
    expect(isAlive(pid)).toBe(false);
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ pid, startedAt: 'then', phase: 'ready' }));
    const taken = await acquireState(dir, process.pid);
    expect(taken.acquired).toBe(true);
    expect((await readState(dir))?.pid).toBe(process.pid);
  });

  it('treats a garbled or foreign file as stale rather than failing', async () => {
    for (const content of ['', '{', 'null', '{"pid":-4}', '{"pid":"1"}', '[]']) {
      await writeFile(join(dir, STATE_FILE), content);
      const taken = await acquireState(dir, process.pid);
      expect([content, taken.acquired]).toEqual([content, true]);
      if (taken.acquired) await taken.release();
    }
  });

  it('release removes only its own file', async () => {
    const mine = await acquireState(dir, process.pid);
    if (!mine.acquired) throw new Error('not acquired');
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ pid: 1, startedAt: 'x', phase: 'starting' }));
    await mine.release();
    expect(JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')).pid).toBe(1);
  });
});
