// The cost check the parser properties rely on must itself tell quadratic work from linear work.
import { describe, expect, it } from 'vitest';
import { expectLinearCost } from './hostile.js';

describe('expectLinearCost', () => {
  it('passes a linear regex and fails a backtracking one on the same input', () => {
    // 16 KB keeps the quadratic case to a fraction of a second per call.
    const size = 16_000;
    const spacesThenX = (n: number) => `${' '.repeat(n - 1)}x`;
    expect(() => expectLinearCost('anchored', spacesThenX, (text) => /^\s+$/.test(text), size)).not.toThrow();
    // Unanchored, /\s+$/ retries every start position and rescans the run of spaces from each.
    expect(() => expectLinearCost('trailing whitespace', spacesThenX, (text) => /\s+$/.test(text), size)).toThrow(/longer input cost/);
  });
});
