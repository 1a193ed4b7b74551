// Properties of enforceLabel over generated PromQL: every selector of the output carries exactly
// namespace="a", and a query with a matcher that contradicts it is refused. Also random text near
// PromQL: the function either refuses it with a PromQLEnforceError or returns a query it enforced.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PromQLEnforceError, enforceLabel } from '../../../src/prometheus/enforce-label.js';
import { enforcedMatcherValues } from './promql-tree.js';

const RUNS = { seed: 11_2026, numRuns: 500 } as const;

/** A generated query, and whether it holds a matcher on namespace that enforcing "a" must refuse. */
interface Query {
  text: string;
  refused: boolean;
}

const OTHER_LABELS = ['job', 'pod', 'env', '__name__', 'on', 'by', '"service.name"'];
const VALUES = ['"x"', "'y'", '`z`', '"a\\"b"', '"\\u00fc"', '"#"', '"}"', '"{"', '""', '".*"', '"a|b"'];
const NAMESPACE_ADMITTING = [
  'namespace="a"',
  "namespace='a'",
  '"namespace"="a"',
  'namespace="\\x61"',
  'namespace!="b"',
  'namespace=~"a|b"',
  'namespace=~".*"',
  'namespace=~".+"',
  'namespace!~"b"',
];
const NAMESPACE_REFUSED = [
  'namespace="b"',
  'namespace!="a"',
  'namespace=~"b"',
  'namespace!~"a|c"',
  'namespace=~"a.*"',
  '"namespace"=~"(a)"',
  'namespace=""',
];

const space = fc.constantFrom('', ' ', '\n  ', ' # note\n');
const matcher: fc.Arbitrary<Query> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...OTHER_LABELS), fc.constantFrom('=', '!=', '=~', '!~'), fc.constantFrom(...VALUES))
    .map(([label, op, value]) => ({ text: `${label}${op}${value}`, refused: false })),
  fc.constantFrom(...NAMESPACE_ADMITTING).map((text) => ({ text, refused: false })),
  fc.constantFrom(...NAMESPACE_REFUSED).map((text) => ({ text, refused: true })),
);

const selector: fc.Arbitrary<Query> = fc
  .tuple(
    fc.option(fc.constantFrom('up', 'x', 'http_requests_total', 'sum', 'node:cpu:rate5m', '"my.metric"'), { nil: undefined }),
    fc.array(matcher, { maxLength: 3 }),
    fc.constantFrom(',', ', ', ' ,'),
    fc.boolean(),
    space,
  )
  .map(([name, matchers, separator, trailingComma, gap]) => {
    const refused = matchers.some((m) => m.refused);
    const list = matchers.map((m) => m.text).join(separator) + (trailingComma && matchers.length > 0 ? ',' : '');
    if (name === undefined) return { text: `{${gap}${list || '__name__="up"'}}`, refused };
    if (name.startsWith('"')) return { text: `{${name}${list ? `, ${list}` : ''}}`, refused };
    if (matchers.length === 0 && !trailingComma) return { text: name, refused };
    return { text: `${name}{${list}${gap}}`, refused };
  });

const wrap = (template: (inner: string) => string) => (q: Query) => ({ text: template(q.text), refused: q.refused });
const join = (template: (l: string, r: string) => string) => ([l, r]: [Query, Query]) => ({
  text: template(l.text, r.text),
  refused: l.refused || r.refused,
});

const { expr } = fc.letrec<{ expr: Query }>((tie) => {
  const inner = tie('expr');
  return {
    expr: fc.oneof(
      { depthSize: 'small', maxDepth: 5 },
      selector,
      fc.constantFrom('1', '0.5', 'time()', 'vector(2)').map((text) => ({ text, refused: false })),
      selector.map(wrap((s) => `rate(${s}[5m])`)),
      selector.map(wrap((s) => `max_over_time(${s}[1h] offset 1d)`)),
      selector.map(wrap((s) => `${s} offset 5m`)),
      selector.map(wrap((s) => `${s} @ 1700000000`)),
      selector.map(wrap((s) => `${s}[10m:1m] @ end()`)),
      inner.map(wrap((e) => `max_over_time((${e})[30m:1m])`)),
      inner.map(wrap((e) => `abs(${e})`)),
      inner.map(wrap((e) => `label_replace(${e}, "dst", "$1", "src", "(.*)")`)),
      inner.map(wrap((e) => `sum by (job) (${e})`)),
      inner.map(wrap((e) => `avg(${e}) without (pod)`)),
      inner.map(wrap((e) => `topk(2, ${e})`)),
      inner.map(wrap((e) => `-(${e})`)),
      inner.map(wrap((e) => `(${e})`)),
      inner.map(wrap((e) => `${e} # comment {namespace="b"}\n`)),
      fc.tuple(inner, inner).map(join((l, r) => `${l} + ${r}`)),
      fc.tuple(inner, inner).map(join((l, r) => `${l} and on(job) ${r}`)),
      fc.tuple(inner, inner).map(join((l, r) => `(${l}) / ignoring(pod) group_left(node) (${r})`)),
      fc.tuple(inner, inner).map(join((l, r) => `${l} > bool ${r}`)),
    ),
  };
});

describe('enforceLabel on generated PromQL', () => {
  it('gives every selector exactly namespace="a", or refuses a contradicting matcher', () => {
    fc.assert(
      fc.property(expr, (query) => {
        const selectorsBefore = enforcedMatcherValues(query.text, 'namespace').length;
        let output: string;
        try {
          output = enforceLabel(query.text, 'namespace', 'a');
        } catch (err) {
          expect(err).toBeInstanceOf(PromQLEnforceError);
          expect(query.refused, (err as Error).message).toBe(true);
          expect((err as Error).message).toMatch(/conflicts with the enforced|cannot be checked against the enforced/);
          return;
        }
        expect(query.refused).toBe(false);
        const selectors = enforcedMatcherValues(output, 'namespace');
        expect(selectors).toHaveLength(selectorsBefore);
        for (const onLabel of selectors) expect(onLabel).toEqual(['=a']);
        expect(enforceLabel(output, 'namespace', 'a')).toBe(output);
      }),
      RUNS,
    );
  });

  it('keeps a query without a matcher on the label byte for byte apart from the inserted matchers', () => {
    fc.assert(
      fc.property(
        expr.filter((q) => !q.text.includes('namespace')),
        (query) => {
          const output = enforceLabel(query.text, 'namespace', 'a');
          const withoutInserted = output
            .replaceAll(',namespace="a"', '')
            .replaceAll('{namespace="a"', '{')
            .replaceAll('{}', '');
          expect(withoutInserted).toBe(query.text.replaceAll('{}', ''));
        },
      ),
      RUNS,
    );
  });
});

describe('enforceLabel on random text near PromQL', () => {
  const alphabet = [...'up{}()[]"\'`=~!,#\n +-*/^:5m.abx\\'];
  it('refuses it with a PromQLEnforceError or returns a query whose every selector has namespace="a"', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 60 }), (text) => {
        let output: string;
        try {
          output = enforceLabel(text, 'namespace', 'a');
        } catch (err) {
          expect(err).toBeInstanceOf(PromQLEnforceError);
          return;
        }
        for (const onLabel of enforcedMatcherValues(output, 'namespace')) expect(onLabel).toEqual(['=a']);
      }),
      { ...RUNS, numRuns: 3_000 },
    );
  });
});
