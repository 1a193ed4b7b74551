import { describe, expect, it } from 'vitest';
import { empiricalQuantile, quantileSketch, sortedFinite } from '../../../src/forecast/quantiles.js';

describe('quantileSketch', () => {
  const sample = sortedFinite(Array.from({ length: 10_080 }, (_, i) => Math.sin(i * 12.9898) * 43758.5453 - Math.floor(Math.sin(i * 12.9898) * 43758.5453)));

  it('keeps a small sample as it is', () => {
    expect(quantileSketch([1, 2, 3], 5)).toEqual([1, 2, 3]);
  });

  it('bounds the size, keeps the extremes, and keeps every quantile within one sketch step', () => {
    const sketch = quantileSketch(sample, 1001);
    expect(sketch).toHaveLength(1001);
    expect(sketch[0]).toBe(sample[0]);
    expect(sketch.at(-1)).toBe(sample.at(-1));
    for (let k = 1; k < sketch.length; k++) expect(sketch[k]).toBeGreaterThanOrEqual(sketch[k - 1]!);
    for (const q of [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) {
      const step = empiricalQuantile(sample, Math.min(1, q + 1 / 1000)) - empiricalQuantile(sample, Math.max(0, q - 1 / 1000));
      expect(Math.abs(empiricalQuantile(sketch, q) - empiricalQuantile(sample, q))).toBeLessThanOrEqual(step);
    }
  });
});
