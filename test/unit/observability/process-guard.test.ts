import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { exitOnUncaughtException, guardUnhandledRejections } from '../../../src/observability/process-guard.js';

function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('guardUnhandledRejections', () => {
  it('logs and counts each unhandled rejection, and stops once disposed', () => {
    const target = new EventEmitter();
    const { logger, lines } = capturedLogger();
    let counted = 0;
    const dispose = guardUnhandledRejections({ target, logger, onRejection: () => counted++ });
    target.emit('unhandledRejection', new Error('training chain broke'));
    target.emit('unhandledRejection', 'a string reason');
    expect(counted).toBe(2);
    expect(lines.map((l) => l.level)).toEqual(['error', 'error']);
    expect((lines[0]!.err as { message: string }).message).toBe('training chain broke');
    dispose();
    expect(target.listenerCount('unhandledRejection')).toBe(0);
  });

  it('keeps a real process alive through a rejection nobody handles', async () => {
    const { logger } = capturedLogger();
    let counted = 0;
    const dispose = guardUnhandledRejections({ target: process, logger, onRejection: () => counted++ });
    try {
      void Promise.reject(new Error('nobody catches this'));
      await new Promise((r) => setTimeout(r, 20));
      expect(counted).toBe(1);
    } finally {
      dispose();
    }
  });
});

describe('exitOnUncaughtException', () => {
  it('logs the exception at fatal, then exits 1', () => {
    const target = new EventEmitter();
    const { logger, lines } = capturedLogger();
    const exits: number[] = [];
    const dispose = exitOnUncaughtException({ target, logger, exit: (code) => exits.push(code) });
    target.emit('uncaughtException', new TypeError('x is undefined'));
    expect(exits).toEqual([1]);
    expect(lines[0]).toMatchObject({ level: 'fatal', err: { message: 'x is undefined', type: 'TypeError' } });
    dispose();
    expect(target.listenerCount('uncaughtException')).toBe(0);
  });
});
