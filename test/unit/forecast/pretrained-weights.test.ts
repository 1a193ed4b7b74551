import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bundledGlobalModel } from '../../../src/forecast/pretrained/bundled.js';
import { FEATURE_COUNT, HORIZON_SLOTS } from '../../../src/forecast/pretrained/features.js';
import { toGrid } from '../../../src/forecast/pretrained/grid.js';
import { rearrange, toSeriesSteps, valueAtLevel } from '../../../src/forecast/pretrained/levels.js';
import { InvalidWeightsError, parseWeightsText, serializeWeights, validateWeights } from '../../../src/forecast/pretrained/weights.js';
import { encodeFloat32 } from '../../../src/forecast/state-codec.js';
import { FIVE_MINUTES, MINUTE, START } from './fixtures.js';

const WEIGHTS_DIR = new URL('../../../src/forecast/pretrained/weights/', import.meta.url);
const fileText = readFileSync(new URL('global-v1.json', WEIGHTS_DIR), 'utf8');

describe('the committed global weights', () => {
  it('pass validation, are small, and are the file PROVENANCE.md names by its sha256', () => {
    const bytes = readFileSync(new URL('global-v1.json', WEIGHTS_DIR));
    expect(bytes.length).toBeLessThanOrEqual(200 * 1024);
    const digest = createHash('sha256').update(bytes).digest('hex');
    const provenance = readFileSync(new URL('PROVENANCE.md', WEIGHTS_DIR), 'utf8');
    expect(/sha256 of global-v1\.json \| `([0-9a-f]{64})`/.exec(provenance)?.[1]).toBe(digest);
    const model = parseWeightsText(fileText);
    expect(model.sha256).toBe(digest);
    expect(bundledGlobalModel().sha256).toBe(digest);
    expect(model.network.inputs).toBe(FEATURE_COUNT);
    expect(model.network.horizons).toBe(HORIZON_SLOTS);
    expect(model.network.levels).toContain(0.5);
  });

  it('serialise back to the same bytes', () => {
    const model = parseWeightsText(fileText);
    expect(serializeWeights(model.network, model.name, model.training)).toBe(fileText);
  });
});

describe('loading weights hostilely', () => {
  const good = JSON.parse(fileText) as Record<string, unknown>;
  const hidden = good.hidden as number;
  const corpus: Array<[string, unknown, RegExp]> = [
    ['an array', [], /must be an object/],
    ['another model', { ...good, model: 'LSTM' }, /not PretrainedGlobalWeights/],
    ['another format', { ...good, format: 9 }, /format 9/],
    ['another feature layout', { ...good, featureLayout: 'grid1m' }, /featureLayout/],
    ['the wrong input count', { ...good, inputs: FEATURE_COUNT + 1 }, /inputs must be at most/],
    ['no hidden units', { ...good, hidden: 0 }, /hidden must be at least 1/],
    ['a huge hidden layer', { ...good, hidden: 1e9 }, /hidden must be at most/],
    ['a fractional hidden size', { ...good, hidden: 1.5 }, /integer/],
    ['the wrong horizon', { ...good, horizons: 12 }, /horizons/],
    ['unsorted levels', { ...good, levels: [0.1, 0.5, 0.3, 0.9, 0.2, 0.6, 0.7, 0.8, 0.95] }, /strictly ascending/],
    ['levels without the median', { ...good, levels: [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 0.95] }, /include 0\.5/],
    ['a level of 1', { ...good, levels: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1] }, /in \(0, 1\)/],
    ['too few levels', { ...good, levels: [0.5] }, /3 to 32 levels/],
    ['a string level', { ...good, levels: ['0.5'] }, /3 to 32|in \(0, 1\)/],
    ['a short w1', { ...good, w1: encodeFloat32(new Float32Array(10)) }, /w1 holds 10 values/],
    ['w2 of another layer size', { ...good, w2: encodeFloat32(new Float32Array(9 * 24 * (hidden - 1))) }, /w2 holds/],
    ['a NaN bias', { ...good, b1: encodeFloat32(Float32Array.from({ length: hidden }, (_, i) => (i === 3 ? NaN : 0))) }, /non-finite value at 3/],
    ['an infinite weight', { ...good, b2: encodeFloat32(Float32Array.from({ length: 9 * 24 }, (_, i) => (i === 0 ? Infinity : 0))) }, /non-finite/],
    ['a huge weight', { ...good, b1: encodeFloat32(Float32Array.from({ length: hidden }, () => 1e30)) }, /beyond/],
    ['mangled base64', { ...good, w1: `${(good.w1 as string).slice(0, 10)}*${(good.w1 as string).slice(11)}` }, /base64/],
    ['a number for an array', { ...good, b1: 3 }, /base64/],
    ['a nested training summary', { ...good, training: { a: { b: 1 } } }, /training\.a must be/],
    ['a strange name', { ...good, name: '../../etc' }, /short lowercase name/],
  ];
  for (const [what, raw, message] of corpus) {
    it(`refuses ${what}`, () => {
      expect(() => validateWeights(raw)).toThrow(InvalidWeightsError);
      expect(() => validateWeights(raw)).toThrow(message);
    });
  }

  it('refuses text that is not JSON, or too large, before parsing it', () => {
    expect(() => parseWeightsText('{"model":')).toThrow(/not JSON/);
    expect(() => parseWeightsText(' '.repeat(2_000_000))).toThrow(/more than/);
    expect(() => parseWeightsText(42 as never)).toThrow(/JSON text/);
  });
});

describe('the 5-minute grid and the level interpolation', () => {
  it('averages finer points into 5-minute slots ending at the last point, and interpolates coarser ones', () => {
    const fine = { start: START, stepMs: MINUTE, values: Array.from({ length: 20 }, (_, i) => i) };
    // Slots end at minutes 19, 14, 9, 4: means of 15..19, 10..14, 5..9, 0..4.
    expect(Array.from(toGrid(fine, 4).values)).toEqual([2, 7, 12, 17]);
    const coarse = { start: START, stepMs: 30 * MINUTE, values: [0, NaN, 60, 90] };
    const grid = toGrid(coarse, 7);
    expect(grid.endTime).toBe(START + 90 * MINUTE);
    expect(Array.from(grid.values)).toEqual([60, 65, 70, 75, 80, 85, 90]);
    expect(Array.from(toGrid(coarse, 19).values.slice(0, 2))).toEqual([0, 5]);
  });

  it('keeps interpolated levels monotone and extrapolates the tails outward', () => {
    const levels = [0.1, 0.5, 0.9];
    const values = [80, 100, 130];
    expect(valueAtLevel(levels, values, 0.5)).toBe(100);
    expect(valueAtLevel(levels, values, 0.7)).toBeCloseTo(115, 10);
    expect(valueAtLevel(levels, values, 0.99)).toBeGreaterThan(130);
    expect(valueAtLevel(levels, values, 0.01)).toBeLessThan(80);
    let previous = -Infinity;
    for (let q = 0.001; q < 1; q += 0.01) {
      const v = valueAtLevel(levels, values, q);
      expect(v).toBeGreaterThanOrEqual(previous);
      previous = v;
    }
  });

  it('sorts crossing quantiles and resamples horizons to the series step', () => {
    const out = Float64Array.from([3, 1, 2, 2]); // level 0: [3, 1], level 1: [2, 2]
    rearrange(out, 2, 2);
    expect(Array.from(out)).toEqual([2, 1, 3, 2]);
    expect(toSeriesSteps([10, 20], 0, MINUTE, 3)).toEqual([2, 4, 6]);
    expect(toSeriesSteps([10, 20], 0, 2 * FIVE_MINUTES, 3)).toEqual([20, 20, 20]);
    expect(toSeriesSteps([10, 20], 0, FIVE_MINUTES / 2 * 3, 1)).toEqual([15]);
  });
});
