import { describe, expect, it } from 'vitest';
import { decodeFloat32, decodeFloat64, encodeFloat32, encodeFloat64, StateFields } from '../../../src/forecast/state-codec.js';
import { IncompatibleStateError } from '../../../src/forecast/types.js';

describe('state codec', () => {
  it('round-trips Float64 values bit for bit, extremes included', () => {
    const values = [0, -0, 1 / 3, -1e-310, Number.MAX_VALUE, Number.MIN_VALUE, 123456789.123456789, -42.5];
    const decoded = Array.from(decodeFloat64(encodeFloat64(values), 'x'));
    expect(decoded).toEqual(values);
    expect(Object.is(decoded[1], -0)).toBe(true);
  });

  it('round-trips Float32 values exactly and is about a third of JSON numbers in size', () => {
    const values = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) / 7);
    const encoded = encodeFloat32(values);
    expect(decodeFloat32(encoded, 'x')).toEqual(values);
    expect(encoded.length).toBeLessThan(JSON.stringify(Array.from(values)).length / 3);
  });

  it('rejects text that is not base64 of whole values, naming the field', () => {
    const encoded = encodeFloat64([1, 2, 3]);
    expect(() => decodeFloat64(encoded.slice(0, -4), 'state.season')).toThrow(/state\.season .*whole number/);
    expect(() => decodeFloat64(`${encoded.slice(0, 4)}!${encoded.slice(5)}`, 'state.season')).toThrow(IncompatibleStateError);
    expect(() => decodeFloat32(42, 'state.w')).toThrow(/state\.w must be a base64 string/);
  });

  it('reads checked fields and says which one is wrong', () => {
    const fields = StateFields.of({ model: 'M', format: 2, n: 3, f: 1.5, b: true, r: encodeFloat64([3, 1]) }, 'M', 2);
    expect(fields.number('n', { integer: true, min: 1 })).toBe(3);
    expect(() => fields.number('f', { integer: true })).toThrow(/M\.f must be an integer/);
    expect(() => fields.number('n', { max: 2 })).toThrow(/M\.n must be at most 2/);
    expect(() => fields.boolean('n')).toThrow(/M\.n must be true or false/);
    expect(() => fields.float64s('r', { ascending: true })).toThrow(/M\.r must be sorted ascending/);
    expect(() => fields.float64s('r', { length: 3 })).toThrow(/M\.r holds 2 values, expected 3/);
    expect(() => StateFields.of({ model: 'M', format: 3 }, 'M', 2)).toThrow(/format 3/);
    expect(() => StateFields.of([], 'M', 2)).toThrow(IncompatibleStateError);
  });
});
