import { describe, expect, it } from 'vitest';
import { splitRange } from '../../../src/prometheus/chunks.js';

describe('splitRange', () => {
  it('keeps a range of exactly maxPoints steps in one request', () => {
    expect(splitRange(0, 9_999 * 60, 60, 10_000)).toEqual([{ startMs: 0, endMs: 9_999 * 60 }]);
  });

  it('puts the one step past maxPoints into a second request', () => {
    expect(splitRange(0, 10_000 * 60, 60, 10_000)).toEqual([
      { startMs: 0, endMs: 9_999 * 60 },
      { startMs: 10_000 * 60, endMs: 10_000 * 60 },
    ]);
  });

  it('keeps an end that is not on the step grid in the last range', () => {
    expect(splitRange(1_000, 1_000 + 25 * 10 + 7, 10, 10)).toEqual([
      { startMs: 1_000, endMs: 1_090 },
      { startMs: 1_100, endMs: 1_190 },
      { startMs: 1_200, endMs: 1_257 },
    ]);
  });

  it('covers every grid point exactly once', () => {
    const ranges = splitRange(5, 5 + 1_234 * 7, 7, 100);
    const points = ranges.flatMap(({ startMs, endMs }) => {
      const out: number[] = [];
      for (let t = startMs; t <= endMs; t += 7) out.push(t);
      return out;
    });
    expect(points).toEqual(Array.from({ length: 1_235 }, (_, i) => 5 + i * 7));
    for (const { startMs, endMs } of ranges) expect((endMs - startMs) / 7 + 1).toBeLessThanOrEqual(100);
  });

  it('rejects nonsense', () => {
    expect(() => splitRange(10, 0, 1, 10)).toThrow(RangeError);
    expect(() => splitRange(0, 10, 0, 10)).toThrow(RangeError);
    expect(() => splitRange(0, 10, 1, 0)).toThrow(RangeError);
  });
});
