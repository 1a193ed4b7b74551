import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, WorkQueue, type WorkQueueOptions } from '../../../src/controller/workqueue.js';
import { uniform } from '../../helpers/random.js';

interface Gate {
  promise: Promise<void>;
  release: () => void;
  fail: (error: unknown) => void;
}

function gate(): Gate {
  let release!: () => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  return { promise, release, fail };
}

/** A handler whose calls stay in flight until the test releases them. */
function controlledHandler() {
  const calls: string[] = [];
  const gates: Gate[] = [];
  const handler = (key: string) => {
    calls.push(key);
    const g = gate();
    gates.push(g);
    return g.promise;
  };
  return { handler, calls, gates };
}

function newQueue(overrides: Partial<WorkQueueOptions> = {}) {
  const errors: Array<[string, unknown]> = [];
  const queue = new WorkQueue({
    concurrency: 1,
    onError: (key, error) => errors.push([key, error]),
    ...overrides,
  });
  return { queue, errors };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('WorkQueue basics', () => {
  it('collapses duplicate adds of a waiting key and keeps FIFO order among ready keys', async () => {
    const { queue } = newQueue();
    const seen: string[] = [];
    queue.add('a');
    queue.add('b');
    queue.add('a');
    queue.add('c');
    queue.add('b');
    expect(queue.len()).toBe(3);
    queue.start(async (key) => {
      seen.push(key);
    });
    await flush();
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(queue.len()).toBe(0);
    expect(queue.processing()).toBe(0);
  });

  it('handles a key re-added during processing exactly once more, after the first run finishes', async () => {
    const { queue } = newQueue({ concurrency: 4 });
    const { handler, calls, gates } = controlledHandler();
    queue.start(handler);
    queue.add('a');
    await flush();
    expect(calls).toEqual(['a']);

    queue.add('a');
    queue.add('a');
    queue.add('a');
    await flush();
    // Another worker is free, yet the key must not be handled concurrently.
    expect(calls).toEqual(['a']);
    expect(queue.processing()).toBe(1);

    gates[0].release();
    await flush();
    expect(calls).toEqual(['a', 'a']);
    gates[1].release();
    await flush();
    expect(calls).toEqual(['a', 'a']);
    expect(queue.processing()).toBe(0);
  });

  it('runs at most `concurrency` handlers at once and starts the next key when one finishes', async () => {
    const { queue } = newQueue({ concurrency: 2 });
    const { handler, calls, gates } = controlledHandler();
    for (const key of ['a', 'b', 'c', 'd']) queue.add(key);
    queue.start(handler);
    await flush();
    expect(calls).toEqual(['a', 'b']);
    expect(queue.processing()).toBe(2);
    expect(queue.len()).toBe(2);

    gates[1].release();
    await flush();
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(queue.processing()).toBe(2);
  });

  it('does not hand out keys before start', async () => {
    const { queue } = newQueue();
    queue.add('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(queue.len()).toBe(1);
    expect(queue.processing()).toBe(0);
  });

  it('rejects a non-positive or fractional concurrency', () => {
    expect(() => newQueue({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => newQueue({ concurrency: 1.5 })).toThrow(/concurrency/);
  });
});

describe('WorkQueue delays', () => {
  it('adds a key only once its delay has elapsed', async () => {
    const { queue } = newQueue();
    const seen: Array<[string, number]> = [];
    queue.start(async (key) => {
      seen.push([key, Date.now()]);
    });
    const t0 = Date.now();
    queue.addAfter('a', 5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([['a', t0 + 5_000]]);
  });

  it('keeps the earliest deadline when one key is delayed several times', async () => {
    const { queue } = newQueue();
    const seen: number[] = [];
    queue.start(async () => {
      seen.push(Date.now());
    });
    const t0 = Date.now();
    queue.addAfter('a', 10_000);
    queue.addAfter('a', 3_000);
    queue.addAfter('a', 7_000);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(seen).toEqual([t0 + 3_000]);
  });

  it('treats a zero or negative delay as an immediate add', async () => {
    const { queue } = newQueue();
    const seen: string[] = [];
    queue.start(async (key) => {
      seen.push(key);
    });
    queue.addAfter('a', 0);
    queue.addAfter('b', -5);
    await flush();
    expect(seen).toEqual(['a', 'b']);
  });

  it.each([
    ['25 days, beyond what a timer can wait', 25 * 86_400_000],
    ['Infinity', Infinity],
  ])('waits the longest a timer can, not 1 ms, for a delay of %s', async (_label, ms) => {
    const { queue } = newQueue();
    const seen: number[] = [];
    queue.start(async () => {
      seen.push(Date.now());
    });
    const t0 = Date.now();
    queue.addAfter('a', ms);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_DELAY_MS - 60_000);
    expect(seen).toEqual([t0 + MAX_TIMER_DELAY_MS]);
  });

  it('keeps a capped long delay from replacing an earlier deadline', async () => {
    const { queue } = newQueue();
    const seen: number[] = [];
    queue.start(async () => {
      seen.push(Date.now());
    });
    const t0 = Date.now();
    queue.addAfter('a', 30_000);
    queue.addAfter('a', 40 * 86_400_000);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(seen).toEqual([t0 + 30_000]);
  });

  it('waits the longest backoff for a NaN delay instead of spinning', async () => {
    const scheduled: number[] = [];
    const { queue } = newQueue({ maxBackoffMs: 300_000, setTimer: (_callback, ms) => scheduled.push(ms), clearTimer: () => {} });
    const seen: string[] = [];
    queue.start(async (key) => {
      seen.push(key);
    });
    queue.addAfter('a', NaN);
    await flush();
    expect(seen).toEqual([]);
    expect(scheduled).toEqual([300_000]);
  });

  it('collapses a delayed add into an already queued key', async () => {
    const { queue } = newQueue();
    const seen: string[] = [];
    queue.addAfter('a', 1_000);
    queue.add('a');
    await vi.advanceTimersByTimeAsync(1_000);
    queue.start(async (key) => {
      seen.push(key);
    });
    await flush();
    expect(seen).toEqual(['a']);
  });

  it('uses injected timers when given', async () => {
    const scheduled: Array<{ callback: () => void; ms: number; cleared: boolean }> = [];
    let now = 1_000;
    const { queue } = newQueue({
      clock: () => now,
      setTimer: (callback, ms) => {
        const entry = { callback, ms, cleared: false };
        scheduled.push(entry);
        return entry;
      },
      clearTimer: (handle) => {
        (handle as { cleared: boolean }).cleared = true;
      },
    });
    const seen: string[] = [];
    queue.start(async (key) => {
      seen.push(key);
    });
    queue.addAfter('a', 500);
    now += 100;
    queue.addAfter('a', 100); // earlier deadline: replaces the first timer
    expect(scheduled.map((s) => [s.ms, s.cleared])).toEqual([
      [500, true],
      [100, false],
    ]);
    scheduled[1].callback();
    await flush();
    expect(seen).toEqual(['a']);
  });
});

describe('WorkQueue rate limiting', () => {
  it('backs off exponentially per key, caps the delay and resets on forget', async () => {
    const { queue } = newQueue({ baseBackoffMs: 100, maxBackoffMs: 1_000 });
    const seen: Array<[string, number]> = [];
    queue.start(async (key) => {
      seen.push([key, Date.now()]);
    });

    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = Date.now();
      seen.length = 0;
      queue.addRateLimited('a');
      await vi.advanceTimersByTimeAsync(2_000);
      expect(seen.length).toBe(1);
      delays.push(seen[0][1] - before);
    }
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(queue.numRequeues('a')).toBe(6);

    // Backoff is tracked per key.
    seen.length = 0;
    const before = Date.now();
    queue.addRateLimited('b');
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([['b', before + 100]]);

    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    seen.length = 0;
    const afterForget = Date.now();
    queue.addRateLimited('a');
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([['a', afterForget + 100]]);
  });

  it('keeps the delay at the cap after very many failures', async () => {
    const { queue } = newQueue({ baseBackoffMs: 1, maxBackoffMs: 50 });
    const seen: number[] = [];
    queue.start(async () => {
      seen.push(Date.now());
    });
    // Far more failures than 2^n can represent as a finite number.
    for (let i = 0; i < 1_100; i++) queue.addRateLimited('x');
    await vi.advanceTimersByTimeAsync(100);
    seen.length = 0;
    const before = Date.now();
    queue.addRateLimited('x');
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([before + 50]);
  });
});

describe('WorkQueue errors', () => {
  it('reports handler failures through onError and keeps serving keys', async () => {
    const { queue, errors } = newQueue({ concurrency: 1 });
    const seen: string[] = [];
    queue.start(async (key) => {
      seen.push(key);
      if (key === 'bad') throw new Error('boom');
      if (key === 'sync-bad') throw 'plain string';
    });
    queue.add('bad');
    queue.add('sync-bad');
    queue.add('good');
    await flush();
    expect(seen).toEqual(['bad', 'sync-bad', 'good']);
    expect(errors.map(([key]) => key)).toEqual(['bad', 'sync-bad']);
    expect((errors[0][1] as Error).message).toBe('boom');
    expect(errors[1][1]).toBe('plain string');
    expect(queue.processing()).toBe(0);
  });

  it('survives a handler that throws synchronously and an onError that throws', async () => {
    const queue = new WorkQueue({
      concurrency: 1,
      onError: () => {
        throw new Error('onError failed');
      },
    });
    const seen: string[] = [];
    queue.start((key) => {
      seen.push(key);
      if (key === 'a') throw new Error('sync');
      return Promise.resolve();
    });
    queue.add('a');
    queue.add('b');
    await flush();
    expect(seen).toEqual(['a', 'b']);
    queue.add('a');
    await flush();
    expect(seen).toEqual(['a', 'b', 'a']);
  });
});

describe('WorkQueue shutdown', () => {
  it('drains: stops taking work, drops queued and delayed keys, resolves after in-flight handlers', async () => {
    const { queue } = newQueue({ concurrency: 2 });
    const { handler, calls, gates } = controlledHandler();
    queue.start(handler);
    queue.add('a');
    queue.add('b');
    queue.add('c');
    queue.addAfter('d', 1_000);
    await flush();
    expect(calls).toEqual(['a', 'b']);

    let resolved = false;
    const done = queue.shutdown({ drain: true }).then(() => {
      resolved = true;
    });
    queue.add('e');
    queue.addRateLimited('f');
    gates[0].release();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(resolved).toBe(false);
    expect(calls).toEqual(['a', 'b']);

    gates[1].release();
    await done;
    expect(resolved).toBe(true);
    expect(calls).toEqual(['a', 'b']);
    expect(queue.len()).toBe(0);
    expect(queue.processing()).toBe(0);
  });

  it('resolves at once when idle or when not draining', async () => {
    const idle = newQueue().queue;
    await expect(idle.shutdown()).resolves.toBeUndefined();

    const { queue } = newQueue();
    const { handler, gates } = controlledHandler();
    queue.start(handler);
    queue.add('a');
    await flush();
    await expect(queue.shutdown({ drain: false })).resolves.toBeUndefined();
    expect(queue.processing()).toBe(1);
    gates[0].release();
  });

  it('does not re-run a key that was re-added during processing once shut down', async () => {
    const { queue } = newQueue();
    const { handler, calls, gates } = controlledHandler();
    queue.start(handler);
    queue.add('a');
    await flush();
    queue.add('a');
    const done = queue.shutdown();
    gates[0].release();
    await done;
    await flush();
    expect(calls).toEqual(['a']);
  });

  it('refuses to start twice or after shutdown', async () => {
    const { queue } = newQueue();
    queue.start(async () => {});
    expect(() => queue.start(async () => {})).toThrow(/already started/);
    const other = newQueue().queue;
    await other.shutdown();
    expect(() => other.start(async () => {})).toThrow(/shut down/);
  });
});

describe('WorkQueue under randomised load', () => {
  const random = uniform;

  it.each([1, 2, 3, 4])('never handles one key twice at once and never exceeds concurrency (seed %i)', async (seed) => {
    const rand = random(seed);
    const concurrency = 3;
    const keys = Array.from({ length: 8 }, (_, i) => `ns/scaler-${i}`);
    const { queue, errors } = newQueue({ concurrency, baseBackoffMs: 5, maxBackoffMs: 40 });

    const active = new Set<string>();
    let maxActive = 0;
    const lastAddAt = new Map<string, number>();
    const lastStartAt = new Map<string, number>();
    let violations = 0;

    queue.start(async (key) => {
      if (active.has(key)) violations++;
      active.add(key);
      maxActive = Math.max(maxActive, active.size);
      lastStartAt.set(key, Date.now());
      await new Promise((resolve) => setTimeout(resolve, Math.floor(rand() * 20)));
      active.delete(key);
      if (rand() < 0.2) throw new Error('transient');
    });

    for (let i = 0; i < 600; i++) {
      const key = keys[Math.floor(rand() * keys.length)];
      const action = rand();
      if (action < 0.6) {
        queue.add(key);
        lastAddAt.set(key, Date.now());
      } else if (action < 0.8) {
        queue.addAfter(key, Math.floor(rand() * 30));
      } else {
        queue.addRateLimited(key);
        if (rand() < 0.5) queue.forget(key);
      }
      await vi.advanceTimersByTimeAsync(Math.floor(rand() * 4));
    }
    await vi.advanceTimersByTimeAsync(2_000);

    expect(violations).toBe(0);
    expect(maxActive).toBeLessThanOrEqual(concurrency);
    expect(maxActive).toBeGreaterThan(1);
    expect(errors.length).toBeGreaterThan(0);
    expect(queue.len()).toBe(0);
    expect(queue.processing()).toBe(0);
    // Every immediate add is followed by a handling that started no earlier than the add.
    for (const [key, addedAt] of lastAddAt) {
      expect(lastStartAt.get(key)).toBeGreaterThanOrEqual(addedAt);
    }
  });
});
