// Properties of the Prometheus answer parser. spec.prometheus.url may name a server the tenant
// runs, so `data` can be any JSON value: the parser must return well-formed series or throw
// MalformedResponseError, and nothing it returns may carry a timestamp that is not a number.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MalformedResponseError, labelsKey, parseInstant, parseMatrix, parseSampleValue, type InstantSample, type RangeSeries } from '../../../src/prometheus/response.js';
import { RUNS, thrownBy } from './hostile.js';

/** What Prometheus writes for a sample value: Go's float formatting plus NaN and the infinities. */
const sampleValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((v) => ({ text: String(v), value: v === 0 ? 0 : v })),
  fc.constantFrom({ text: 'NaN', value: NaN }, { text: '+Inf', value: Infinity }, { text: '-Inf', value: -Infinity }),
);

/** Seconds with millisecond precision, as Prometheus writes timestamps, between 1970 and 2100. */
const timestampMs = fc.integer({ min: 0, max: Date.UTC(2100, 0, 1) });

const labelSet = fc.dictionary(
  fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  { maxKeys: 4 },
);

const validMatrix = fc.array(fc.record({ labels: labelSet, samples: fc.array(fc.tuple(timestampMs, sampleValue), { maxLength: 10 }) }), { maxLength: 5 });

/** Numbers a hostile server can put into JSON, 1e400 (which JSON.parse reads as Infinity) included. */
const hostileNumber = fc.oneof(
  fc.double(),
  fc.constantFrom(1e308, -1e308, 1e400, Number.MAX_SAFE_INTEGER, 5e-324, -0),
  fc.integer(),
);

const hostileLeaf = fc.oneof(hostileNumber, fc.string({ maxLength: 8 }), fc.constantFrom('NaN', '+Inf', '-Inf', 'Inf', '', ' ', '0x10', '1e400', 'Infinity'), fc.constant(null), fc.boolean());

const hostileSample = fc.oneof(fc.tuple(hostileNumber, hostileLeaf), fc.array(hostileLeaf, { maxLength: 3 }), hostileLeaf);

const hostileSeries = fc.record(
  {
    metric: fc.oneof(labelSet, fc.dictionary(fc.string({ maxLength: 4 }), hostileLeaf, { maxKeys: 3 }), hostileLeaf, fc.array(fc.string(), { maxLength: 2 })),
    values: fc.oneof(fc.array(hostileSample, { maxLength: 4 }), hostileLeaf),
    value: hostileSample,
  },
  { requiredKeys: [] },
);

/** Answers close to the real shape with hostile pieces, and anything at all. */
const hostileData = fc.oneof(
  fc.record(
    {
      resultType: fc.oneof(fc.constantFrom('matrix', 'vector', 'scalar', 'string', 'streams'), hostileLeaf),
      result: fc.oneof(fc.array(fc.oneof(hostileSeries, hostileLeaf), { maxLength: 4 }), hostileSample),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
  fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown),
);

function toWire(series: { labels: Record<string, string>; samples: [number, { text: string }][] }[]) {
  return {
    resultType: 'matrix',
    result: series.map((s) => ({ metric: s.labels, values: s.samples.map(([t, v]) => [t / 1000, v.text]) })),
  };
}

function expectWellFormed(labels: unknown, timestamp: number, value: number): void {
  expect(typeof labels).toBe('object');
  for (const [name, labelValue] of Object.entries(labels as object)) {
    expect(typeof labelValue, `label ${name} is not a string`).toBe('string');
  }
  expect(Number.isInteger(timestamp), `timestamp ${timestamp} is not whole milliseconds`).toBe(true);
  expect(typeof value).toBe('number');
}

/** Either the parser's result or a MalformedResponseError; any other exception fails the property. */
function parseOrMalformed<T>(parse: () => T): T | undefined {
  const err = thrownBy(parse);
  if (err === undefined) return parse();
  expect(err, `threw ${String(err)}`).toBeInstanceOf(MalformedResponseError);
  expect((err as Error).message.length).toBeGreaterThan(0);
  return undefined;
}

describe('parseMatrix', () => {
  it('reads back every series and sample of a well-formed answer', () => {
    fc.assert(
      fc.property(validMatrix, (series) => {
        const parsed = parseMatrix(JSON.parse(JSON.stringify(toWire(series))));
        expect(parsed).toEqual(series.map((s) => ({ labels: s.labels, samples: s.samples.map(([t, v]) => [t, v.value]) })));
      }),
      RUNS,
    );
  });

  it('turns any JSON value into well-formed series or a MalformedResponseError', () => {
    fc.assert(
      fc.property(hostileData, (data) => {
        const series = parseOrMalformed(() => parseMatrix(data));
        if (series === undefined) return;
        expect(Array.isArray(series)).toBe(true);
        for (const s of series as RangeSeries[]) for (const [t, v] of s.samples) expectWellFormed(s.labels, t, v);
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('refuses a sample whose timestamp overflows to Infinity (1e400 in the JSON text)', () => {
    fc.assert(
      fc.property(fc.constantFrom('1e400', '-1e400', '1.7976931348623157e308', '1e306'), sampleValue, (timestamp, value) => {
        const body = `{"resultType":"matrix","result":[{"metric":{},"values":[[${timestamp},${JSON.stringify(value.text)}]]}]}`;
        expect(() => parseMatrix(JSON.parse(body))).toThrow(MalformedResponseError);
      }),
      { ...RUNS, numRuns: 40 },
    );
  });

  it('refuses sample values that are objects whose toString is not a function, as JSON can write them', () => {
    fc.assert(
      fc.property(fc.constantFrom('{"toString":1}', '{"valueOf":null,"toString":{}}', '[{"toString":1}]'), (value) => {
        const body = `{"resultType":"matrix","result":[{"metric":{},"values":[[1,${value}]]}]}`;
        expect(() => parseMatrix(JSON.parse(body))).toThrow(MalformedResponseError);
        expect(() => parseInstant(JSON.parse(`{"resultType":"scalar","result":[1,${value}]}`))).toThrow(MalformedResponseError);
      }),
      { ...RUNS, numRuns: 10 },
    );
  });

  it('refuses label values that are not strings', () => {
    fc.assert(
      fc.property(fc.oneof(hostileNumber, fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 2 }), fc.object({ maxDepth: 1 })), (labelValue) => {
        const data = { resultType: 'matrix', result: [{ metric: { job: labelValue }, values: [[1, '1']] }] };
        expect(() => parseMatrix(data)).toThrow(MalformedResponseError);
      }),
      { ...RUNS, numRuns: 100 },
    );
  });

  it('parses a 200,000-sample series in one pass', () => {
    // The client bounds the body size; the parser must only not add more than per-sample work.
    const answer = (n: number) => ({ resultType: 'matrix', result: [{ metric: { job: 'x' }, values: Array.from({ length: n }, (_, i) => [i, String(i)]) }] });
    const large = answer(200_000);
    expect(parseMatrix(large)[0]!.samples).toHaveLength(200_000);
  });
});

describe('parseInstant', () => {
  it('turns any JSON value into samples, an unsupported result type, or a MalformedResponseError', () => {
    fc.assert(
      fc.property(hostileData, (data) => {
        const result = parseOrMalformed(() => parseInstant(data));
        if (result === undefined) return;
        if (!Array.isArray(result)) {
          expect(typeof result.unsupported).toBe('string');
          expect(['vector', 'scalar']).not.toContain(result.unsupported);
          return;
        }
        for (const s of result as InstantSample[]) expectWellFormed(s.labels, s.timestampMs, s.value);
      }),
      { ...RUNS, numRuns: 1500 },
    );
  });

  it('reads back every sample of a well-formed vector, and a scalar', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ labels: labelSet, t: timestampMs, v: sampleValue }), { maxLength: 6 }), timestampMs, sampleValue, (vector, t, v) => {
        const wire = { resultType: 'vector', result: vector.map((s) => ({ metric: s.labels, value: [s.t / 1000, s.v.text] })) };
        expect(parseInstant(JSON.parse(JSON.stringify(wire)))).toEqual(vector.map((s) => ({ labels: s.labels, timestampMs: s.t, value: s.v.value })));
        expect(parseInstant({ resultType: 'scalar', result: [t / 1000, v.text] })).toEqual([{ labels: {}, timestampMs: t, value: v.value }]);
      }),
      RUNS,
    );
  });
});

describe('parseSampleValue', () => {
  it('reads any number Prometheus writes and refuses any other value with a MalformedResponseError', () => {
    fc.assert(
      fc.property(fc.oneof(sampleValue.map((v) => v.text), fc.anything()), (raw) => {
        const value = parseOrMalformed(() => parseSampleValue(raw));
        if (value === undefined) return;
        expect(typeof raw).toBe('string');
        expect(typeof value).toBe('number');
        if (Number.isNaN(value)) expect(raw).toBe('NaN');
      }),
      RUNS,
    );
  });
});

describe('labelsKey', () => {
  it('is the same for the same labels in any key order and differs for different labels', () => {
    fc.assert(
      fc.property(labelSet, labelSet, (a, b) => {
        const reversed = Object.fromEntries(Object.entries(a).reverse());
        expect(labelsKey(reversed)).toBe(labelsKey(a));
        const same = Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => Object.hasOwn(b, k) && b[k] === v);
        expect(labelsKey(a) === labelsKey(b)).toBe(same);
      }),
      RUNS,
    );
  });
});
