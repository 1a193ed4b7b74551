// Shared pieces of the property tests: hostile text generators and a cost check that tells a
// linear parser from one that backtracks catastrophically, without any absolute time in an assertion.
import fc from 'fast-check';
import { expect } from 'vitest';

/** Strings that have broken number and text parsers before: overflow, unicode digits, control characters. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n',
  '\u0000',
  '\uFEFF',
  '\uD800',
  'NaN',
  'nan',
  'Infinity',
  '-Infinity',
  '+Inf',
  '1e400',
  '1e-400',
  '1E308',
  '9'.repeat(400),
  `0.${'0'.repeat(400)}1`,
  '-1',
  '+1',
  '0x10',
  '0b1',
  '1_000',
  '1,5',
  '١٢٣',
  '１２',
  '1\u00a0s',
  '__proto__',
  'constructor',
  'toString',
  '%',
  '.',
  '..',
  '1.',
  '.5',
  '5.5.5',
  '∞',
  '😀',
];

/** Arbitrary text: any code units, text drawn from `alphabet` (so parsers get near-misses), and the nasty corpus. */
export function hostileString(alphabet: string, maxLength = 40): fc.Arbitrary<string> {
  const chars = [...new Set([...alphabet])];
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom(...chars), maxLength }),
    fc.constantFrom(...NASTY_STRINGS),
    fc.tuple(fc.constantFrom(...NASTY_STRINGS), fc.string({ unit: fc.constantFrom(...chars), maxLength: 8 })).map(([a, b]) => a + b),
  );
}

/** Fixed seeds keep failures reproducible; a failure message prints the seed and the shrunk counterexample. */
export const RUNS = { seed: 20_260_302, numRuns: 400 } as const;

const SIZE = 100_000;
const SIZE_RATIO = 16;

/** CPU milliseconds this process has used: waiting for a core on a busy machine does not count. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Fastest per-call CPU time over a few rounds; each round repeats the call until the clock can
 * measure it. CPU time, not wall time: on a shared machine a long call is more often preempted
 * than a short one, which inflated wall-time ratios past the limit with no change in the code.
 */
function fastestCallMs(run: () => void): number {
  let best = Infinity;
  for (let round = 0; round < 7; round++) {
    const started = cpuMs();
    let calls = 0;
    let elapsed = 0;
    do {
      run();
      calls++;
      elapsed = cpuMs() - started;
    } while (elapsed < 4);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

/**
 * Runs `parse` on a `size`-character (default 100 KB) adversarial input and on one `SIZE_RATIO` times smaller, and
 * checks that the cost grew at most about linearly. A catastrophically backtracking regex grows
 * quadratically or worse (about 150x for a 16x longer input, measured with /\s+$/ on spaces then
 * "x"); linear code grows about 16x. The margin (4x over linear) absorbs noise from a shared
 * machine; the 100 KB call also has to finish within the test timeout.
 */
export function expectLinearCost(name: string, makeInput: (length: number) => string, parse: (text: string) => unknown, size = SIZE): void {
  const quiet = (text: string) => () => {
    try {
      parse(text);
    } catch {
      // Refusing the input is fine; the cost is what is measured.
    }
  };
  const large = makeInput(size);
  const small = makeInput(size / SIZE_RATIO);
  quiet(large)(); // warm up the JIT and the regex compiler
  const ratio = fastestCallMs(quiet(large)) / fastestCallMs(quiet(small));
  expect(ratio, `${name}: a ${SIZE_RATIO}x longer input cost ${ratio.toFixed(1)}x as much`).toBeLessThan(SIZE_RATIO * 4);
}

/** Calls `run` and returns the error it threw, or undefined. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (err) {
    return err;
  }
}
