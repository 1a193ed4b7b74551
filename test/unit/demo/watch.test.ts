import { describe, expect, it } from 'vitest';
import { changes, type ScalerSnapshot } from '../../../src/demo/watch.js';

const T = Date.UTC(2026, 0, 1, 4, 5, 6);

describe('the demo decision lines', () => {
  it('prints a line when desired replicas move, with Ready and the explanation, and nothing otherwise', () => {
    const before = new Map<string, ScalerSnapshot>([['shop/web', { key: 'shop/web', desired: 3, ready: 3 }]]);
    expect(changes(before, [{ key: 'shop/web', desired: 3, ready: 3, explanation: 'same' }], T)).toEqual([]);
    expect(changes(before, [{ key: 'shop/web', desired: 9, ready: 3, explanation: 'rps forecast p90 peak 300' }], T)).toEqual([
      '04:05:06  shop/web         desired 3 -> 9 (Ready 3)  rps forecast p90 peak 300',
    ]);
    expect(changes(new Map(), [{ key: 'ml/ranker', desired: 2 }], T)).toEqual(['04:05:06  ml/ranker        desired 2 (Ready 0)']);
    expect(changes(new Map(), [{ key: 'ml/ranker' }], T)).toEqual([]);
  });

  it('keeps lines short however long the explanation', () => {
    const [line] = changes(new Map(), [{ key: 'a/b', desired: 1, explanation: 'x'.repeat(5000) }], T);
    expect(line!.length).toBe(200);
    expect(line!.endsWith('...')).toBe(true);
  });
});
