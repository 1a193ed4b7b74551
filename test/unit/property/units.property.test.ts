// Properties of the spec's unit parsers: durations, quantities and percentages come from tenants'
// PredictiveScalers, so any text must end in a number the operator can use or in an Error that says
// what to write instead.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DURATION_PATTERN,
  PERCENT_PATTERN,
  QUANTITY_PATTERN,
  formatDuration,
  parseDuration,
  parsePercent,
  parseQuantity,
} from '../../../src/api/units.js';
import { formatPercent } from '../../../src/decision/format.js';
import { RUNS, expectLinearCost, hostileString, thrownBy } from './hostile.js';

const DURATION_ALPHABET = '0123456789.mshdw eE+-';
const QUANTITY_ALPHABET = '0123456789.eE+-mkMGTPi ';
const PERCENT_ALPHABET = '0123456789.%e ';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

/** Either a finite result or an Error whose message quotes the input and shows an example. */
function expectNumberOrHelpfulError(parse: () => number, example: RegExp): number | undefined {
  const err = thrownBy(parse);
  if (err === undefined) {
    const value = parse();
    expect(Number.isFinite(value), `result ${value} is not finite`).toBe(true);
    expect(value).toBeGreaterThanOrEqual(0);
    return value;
  }
  expect(err).toBeInstanceOf(Error);
  expect((err as Error).message).toMatch(example);
  return undefined;
}

const durationPart = fc.record({
  amount: fc.integer({ min: 0, max: 10_000 }),
  unit: fc.constantFrom<DurationUnit>('ms', 's', 'm', 'h', 'd', 'w'),
});

describe('parseDuration', () => {
  it('turns any text into a finite, non-negative whole number of milliseconds or a helpful Error', () => {
    fc.assert(
      fc.property(hostileString(DURATION_ALPHABET), (text) => {
        const ms = expectNumberOrHelpfulError(() => parseDuration(text), /duration|e\.g\./);
        if (ms !== undefined) expect(Number.isInteger(ms)).toBe(true);
      }),
      RUNS,
    );
  });

  it('refuses durations whose digits overflow to Infinity instead of returning Infinity', () => {
    fc.assert(
      fc.property(fc.integer({ min: 309, max: 2000 }), fc.constantFrom<DurationUnit>('ms', 's', 'm', 'h', 'd', 'w'), (digits, unit) => {
        expect(() => parseDuration(`${'9'.repeat(digits)}${unit}`)).toThrow(Error);
      }),
      { ...RUNS, numRuns: 50 },
    );
  });

  it('adds up every part of a compound duration', () => {
    fc.assert(
      fc.property(fc.array(durationPart, { minLength: 1, maxLength: 6 }), (parts) => {
        const text = parts.map((p) => `${p.amount}${p.unit}`).join('');
        const expected = parts.reduce((sum, p) => sum + p.amount * UNIT_MS[p.unit], 0);
        expect(parseDuration(text)).toBe(expected);
        expect(parseDuration(`  ${text}\n`)).toBe(expected);
      }),
      RUNS,
    );
  });

  it('reads back exactly what formatDuration writes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 10 * 86_400_000 }), fc.maxSafeNat()), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      RUNS,
    );
  });

  it('formats what it parses to a canonical text that parses to the same value', () => {
    fc.assert(
      fc.property(fc.array(durationPart, { minLength: 1, maxLength: 4 }), (parts) => {
        const ms = parseDuration(parts.map((p) => `${p.amount}${p.unit}`).join(''));
        const canonical = formatDuration(ms);
        expect(parseDuration(canonical)).toBe(ms);
        expect(formatDuration(parseDuration(canonical))).toBe(canonical);
      }),
      RUNS,
    );
  });

  it('accepts exactly the texts the CRD pattern admits (parseDuration also trims)', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.mshdwx'), maxLength: 12 }), (text) => {
        expect(thrownBy(() => parseDuration(text)) === undefined).toBe(pattern.test(text));
      }),
      RUNS,
    );
  });

  it('costs linear time on 100 KB adversarial inputs', () => {
    expectLinearCost('digits without a unit', (n) => '1'.repeat(n), parseDuration);
    expectLinearCost('decimal points', (n) => '1.'.repeat(n / 2), parseDuration);
    expectLinearCost('many parts, then garbage', (n) => `${'1m'.repeat(n / 2)}x`, parseDuration);
    expectLinearCost('"ms" and "m" ambiguity', (n) => `${'1ms'.repeat(n / 3)}!`, parseDuration);
    expectLinearCost('fractions', (n) => `${'1.1'.repeat(n / 3)}`, parseDuration);
    expectLinearCost('many valid parts', (n) => '1s'.repeat(n / 2), parseDuration);
  });
});

const QUANTITY_SUFFIX = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 } as const;
type QuantitySuffix = keyof typeof QUANTITY_SUFFIX;

describe('parseQuantity', () => {
  it('turns any text into a finite, non-negative number or a helpful Error', () => {
    fc.assert(
      fc.property(hostileString(QUANTITY_ALPHABET), (text) => {
        expectNumberOrHelpfulError(() => parseQuantity(text), /quantity|number|e\.g\./);
      }),
      RUNS,
    );
  });

  it('refuses "1e400" and other texts that overflow to Infinity (issue 11)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 309, max: 5000 }).map((e) => `1e${e}`),
          fc.integer({ min: 309, max: 2000 }).map((digits) => '9'.repeat(digits)),
          // Finite digits that overflow only once multiplied by the suffix (1e15 or 1024^4).
          fc.tuple(fc.integer({ min: 297, max: 308 }), fc.constantFrom<QuantitySuffix>('P', 'Ti')).map(([e, s]) => `9e${e}${s}`),
        ),
        (text) => {
          expect(() => parseQuantity(text)).toThrow(Error);
        },
      ),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('accepts finite non-negative numbers as numbers and refuses the rest', () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        if (Number.isFinite(x) && x >= 0) expect(parseQuantity(x)).toBe(x);
        else expect(() => parseQuantity(x)).toThrow(/not a non-negative number/);
      }),
      RUNS,
    );
  });

  it('reads back every non-negative finite double from its JavaScript text', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(parseQuantity(String(x))).toBe(x);
      }),
      RUNS,
    );
  });

  it('multiplies by the suffix', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom<QuantitySuffix>(...(Object.keys(QUANTITY_SUFFIX) as QuantitySuffix[])),
        (n, suffix) => {
          expect(parseQuantity(`${n}${suffix}`)).toBeCloseTo(n * QUANTITY_SUFFIX[suffix], 6);
        },
      ),
      RUNS,
    );
  });

  it('accepts exactly the texts the CRD pattern admits, when they are finite', () => {
    const pattern = new RegExp(QUANTITY_PATTERN);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.eE+-mkMGi'), maxLength: 10 }), (text) => {
        const refused = thrownBy(() => parseQuantity(text)) !== undefined;
        if (!pattern.test(text)) expect(refused).toBe(true);
        // Within 10 characters only a three-digit exponent can overflow.
        else if (refused) expect(text).toMatch(/[eE]\+?[0-9]{3}/);
      }),
      RUNS,
    );
  });

  it('costs linear time on 100 KB adversarial inputs', () => {
    expectLinearCost('digits then garbage', (n) => `${'1'.repeat(n)}x`, parseQuantity);
    expectLinearCost('long fraction then bad exponent', (n) => `1.${'1'.repeat(n)}e`, parseQuantity);
    expectLinearCost('long exponent then bad suffix', (n) => `1e${'1'.repeat(n)}Xi`, parseQuantity);
    expectLinearCost('a valid long number', (n) => '1'.repeat(n), parseQuantity);
  });
});

describe('parsePercent', () => {
  it('turns any text into a finite, non-negative fraction or a helpful Error', () => {
    fc.assert(
      fc.property(hostileString(PERCENT_ALPHABET), (text) => {
        expectNumberOrHelpfulError(() => parsePercent(text), /percentage|e\.g\./);
      }),
      RUNS,
    );
  });

  it('refuses percentages that overflow to Infinity', () => {
    expect(() => parsePercent(`${'9'.repeat(400)}%`)).toThrow(Error);
  });

  it('reads back what formatPercent writes, to its three decimals', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 100, noNaN: true }), (fraction) => {
        expect(parsePercent(formatPercent(fraction))).toBeCloseTo(fraction, 5);
      }),
      RUNS,
    );
  });

  it('accepts exactly the texts the CRD pattern admits', () => {
    const pattern = new RegExp(PERCENT_PATTERN);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'0123456789.%x'), maxLength: 8 }), (text) => {
        expect(thrownBy(() => parsePercent(text)) === undefined).toBe(pattern.test(text));
      }),
      RUNS,
    );
  });

  it('costs linear time on 100 KB adversarial inputs', () => {
    expectLinearCost('digits without %', (n) => '1'.repeat(n), parsePercent);
    expectLinearCost('fraction then garbage', (n) => `1.${'1'.repeat(n)}x%`, parsePercent);
  });
});
