// Properties of reading a saved model state: the state arrives from a ConfigMap entry, so any JSON
// must either load or be refused with IncompatibleStateError naming the field, never another error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HoltWintersForecaster } from '../../../src/forecast/holtWinters.js';
import { LinearForecaster } from '../../../src/forecast/linear.js';
import { SeasonalNaiveForecaster } from '../../../src/forecast/seasonalNaive.js';
import { StateFields, decodeFloat32, decodeFloat64, encodeFloat32, encodeFloat64 } from '../../../src/forecast/state-codec.js';
import { IncompatibleStateError, type Forecaster, type ForecasterState } from '../../../src/forecast/types.js';
import { dailySine } from '../forecast/fixtures.js';
import { RUNS, thrownBy } from './hostile.js';

/** Runs `read`; any exception but IncompatibleStateError fails the property. */
function readOrIncompatible<T>(read: () => T): { value: T } | { error: IncompatibleStateError } {
  const err = thrownBy(read);
  if (err === undefined) return { value: read() };
  expect(err, `threw ${String(err)}`).toBeInstanceOf(IncompatibleStateError);
  expect((err as Error).message.length).toBeGreaterThan(0);
  return { error: err as IncompatibleStateError };
}

const base64ish = fc.oneof(
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/='), maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')),
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64url')),
  fc.string({ unit: 'binary', maxLength: 20 }),
);

describe('decodeFloat64 and decodeFloat32', () => {
  it('read back every double bit for bit, and every float32', () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { maxLength: 50 }), (values) => {
        const decoded = Array.from(decodeFloat64(encodeFloat64(values), 'x'));
        expect(decoded.length).toBe(values.length);
        decoded.forEach((v, i) => expect(Object.is(v, values[i])).toBe(true));
        const singles = values.map(Math.fround);
        Array.from(decodeFloat32(encodeFloat32(singles), 'x')).forEach((v, i) => expect(Object.is(v, singles[i])).toBe(true));
      }),
      RUNS,
    );
  });

  it('turn any value into whole values or an IncompatibleStateError naming the field', () => {
    fc.assert(
      fc.property(fc.oneof(base64ish, fc.anything()), fc.constantFrom(decodeFloat64, decodeFloat32), (text, decode) => {
        const read = readOrIncompatible(() => decode(text, 'state.season'));
        if ('error' in read) expect(read.error.message).toMatch(/^state\.season /);
        else expect(typeof text).toBe('string');
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });
});

describe('StateFields', () => {
  it('reads any value as a state only when it is an object of the model and format', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ model: fc.constantFrom('M', 'N'), format: fc.constantFrom(1, 2, '1') })), (state) => {
        const read = readOrIncompatible(() => StateFields.of(state, 'M', 1));
        if ('value' in read) expect(state).toMatchObject({ model: 'M', format: 1 });
      }),
      RUNS,
    );
  });

  it('returns numbers that are finite and within the rule, or says which field is wrong', () => {
    const rule = fc.record({ integer: fc.boolean(), min: fc.double({ noNaN: true }), max: fc.double({ noNaN: true }) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.anything()), rule, (value, r) => {
        const fields = StateFields.inside({ n: value }, 'state');
        const read = readOrIncompatible(() => fields.number('n', r));
        if ('error' in read) {
          expect(read.error.message).toMatch(/^state\.n /);
          return;
        }
        expect(Number.isFinite(read.value)).toBe(true);
        if (r.integer) expect(Number.isInteger(read.value)).toBe(true);
        if (r.min !== undefined) expect(read.value).toBeGreaterThanOrEqual(r.min);
        if (r.max !== undefined) expect(read.value).toBeLessThanOrEqual(r.max);
      }),
      RUNS,
    );
  });

  it('reads summaries only of finite numbers, booleans and strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.string(), fc.oneof(fc.double(), fc.boolean(), fc.string(), fc.anything())), fc.anything()), (summary) => {
        const read = readOrIncompatible(() => StateFields.inside({ summary }, 'state').summary('summary'));
        if ('error' in read) return;
        for (const v of Object.values(read.value)) {
          expect(['boolean', 'string', 'number']).toContain(typeof v);
          if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

const SERIES = dailySine(3);
const HORIZON = 12;

interface ModelCase {
  name: string;
  make: () => Forecaster;
}

const MODELS: ModelCase[] = [
  { name: 'HoltWinters', make: () => new HoltWintersForecaster({ seasonality: 'Auto' }) },
  { name: 'SeasonalNaive', make: () => new SeasonalNaiveForecaster({ seasonality: 'Auto' }) },
  { name: 'Linear', make: () => new LinearForecaster() },
];

function exported(model: ModelCase): ForecasterState {
  const f = model.make();
  f.fit(SERIES);
  return f.exportState();
}

/** Values a hostile writer could put into a state field: every JSON type, overflow and near-miss arrays. */
const hostileField = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e308, -1e308, 0, -1, 0.5, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2, '', 'AAAAAAAA8D8=', 'AAAAAAAA+H8=', 'AAAAAAAA8H8=', null, true),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 6 }).map((v) => encodeFloat64(v)),
  fc.array(fc.double(), { maxLength: 6 }).map((v) => encodeFloat64(v)),
  fc.array(fc.double(), { maxLength: 6 }).map((v) => encodeFloat32(v)),
);

/** A genuine state with some fields replaced by hostile values or removed. */
function mutatedState(state: ForecasterState): fc.Arbitrary<Record<string, unknown>> {
  const keys = Object.keys(state);
  return fc
    .array(fc.tuple(fc.constantFrom(...keys), fc.option(hostileField, { nil: undefined })), { minLength: 1, maxLength: 3 })
    .map((changes) => {
      const copy: Record<string, unknown> = structuredClone(state);
      for (const [key, value] of changes) {
        if (value === undefined) delete copy[key];
        else copy[key] = value;
      }
      return copy;
    });
}

describe.each(MODELS.map((m) => [m.name, m] as const))('%s.importState', (_name, model) => {
  const state = exported(model);

  it('loads its own exported state, which then forecasts', () => {
    const f = model.make();
    f.importState(structuredClone(state));
    f.update(SERIES);
    expect(f.predict(HORIZON, [0.9]).mean).toHaveLength(HORIZON);
  });

  it('refuses any mutated state with IncompatibleStateError, or loads one that forecasts finite numbers', () => {
    fc.assert(
      fc.property(mutatedState(state), (mutated) => {
        const f = model.make();
        const read = readOrIncompatible(() => f.importState(mutated as ForecasterState));
        if ('error' in read) return;
        f.update(SERIES);
        const forecast = f.predict(HORIZON, [0.9]);
        expect(forecast.mean).toHaveLength(HORIZON);
        for (const v of [...forecast.mean, ...forecast.quantiles.flatMap((q) => q.values)]) expect(Number.isFinite(v), `forecast value ${v}`).toBe(true);
      }),
      { ...RUNS, numRuns: 300 },
    );
  });

  it('refuses any JSON value that is not its state with IncompatibleStateError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), fc.dictionary(fc.constantFrom(...Object.keys(state)), hostileField).map((d) => ({ ...d, model: model.name, format: state.format }))), (value) => {
        readOrIncompatible(() => model.make().importState(value as ForecasterState));
      }),
      { ...RUNS, numRuns: 300 },
    );
  });
});
