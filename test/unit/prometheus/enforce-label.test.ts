// enforceLabel: every vector selector of a query gets exactly namespace="<value>", by splicing text.
import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import {
  MAX_ENFORCED_QUERY_BYTES,
  MAX_ENFORCED_QUERY_NESTING,
  PromQLEnforceError,
  assertEnforceableLabelName,
  enforceLabel,
} from '../../../src/prometheus/enforce-label.js';
import { quotePromQLString, unquotePromQLString } from '../../../src/prometheus/promql-string.js';
import { enforcedMatcherValues } from './promql-tree.js';

const enforce = (query: string) => enforceLabel(query, 'namespace', 'a');

function errorOf(run: () => unknown): PromQLEnforceError {
  try {
    run();
  } catch (err) {
    if (err instanceof PromQLEnforceError) return err;
    throw err;
  }
  throw new Error('expected a PromQLEnforceError, got a result');
}

const REWRITES: [string, string][] = [
  // metric names and selector forms
  ['up', 'up{namespace="a"}'],
  ['up{}', 'up{namespace="a"}'],
  ['up{job="x"}', 'up{job="x",namespace="a"}'],
  ['up{job="x",}', 'up{job="x",namespace="a",}'],
  ['up{ job = "x" , pod=~"p.*" }', 'up{ job = "x" , pod=~"p.*",namespace="a" }'],
  ['{__name__="up"}', '{__name__="up",namespace="a"}'],
  ['{__name__=~"up|down", job!="x"}', '{__name__=~"up|down", job!="x",namespace="a"}'],
  ['{"my.metric"}', '{"my.metric",namespace="a"}'],
  ['{"my.metric", "job.name"="x"}', '{"my.metric", "job.name"="x",namespace="a"}'],
  ['sum', 'sum{namespace="a"}'],
  ['namespace', 'namespace{namespace="a"}'],
  ['{"namespace"}', '{"namespace",namespace="a"}'],
  ['up # c\n{job="x"}', 'up # c\n{job="x",namespace="a"}'],
  ['x{on="1", by="2", bool="3"}', 'x{on="1", by="2", bool="3",namespace="a"}'],
  // a matcher on the label that already says the value, in every spelling: kept byte for byte
  ['up{namespace="a"}', 'up{namespace="a"}'],
  ["up{namespace='a'}", "up{namespace='a'}"],
  ['up{namespace=`a`}', 'up{namespace=`a`}'],
  ['up{"namespace"="a"}', 'up{"namespace"="a"}'],
  ['up{namespace="\\x61"}', 'up{namespace="\\x61"}'],
  ['up{namespace="\\u0061"}', 'up{namespace="\\u0061"}'],
  // duplicates and matchers the enforced one implies are dropped
  ['up{namespace="a",namespace="a"}', 'up{namespace="a"}'],
  ['up{job="x", namespace="a", env="p", namespace=\'a\'}', 'up{job="x", namespace="a", env="p"}'],
  ['up{namespace!="b"}', 'up{namespace="a"}'],
  ['up{namespace=~"a|b"}', 'up{namespace="a"}'],
  ['up{namespace=~".*"}', 'up{namespace="a"}'],
  ['up{namespace=~".+", job="x"}', 'up{namespace="a", job="x"}'],
  ['up{namespace!~"b|c"}', 'up{namespace="a"}'],
  ['up{namespace=~"b\\\\.c|a"}', 'up{namespace="a"}'],
  ['up{job="x", namespace!="b", namespace="a"}', 'up{job="x", namespace="a"}'],
  // every place a selector can be
  ['rate(http_requests_total[5m])', 'rate(http_requests_total{namespace="a"}[5m])'],
  [
    'sum by (namespace) (rate(x{job="api"}[5m] offset 1h))',
    'sum by (namespace) (rate(x{job="api",namespace="a"}[5m] offset 1h))',
  ],
  ['sum(x) without (pod)', 'sum(x{namespace="a"}) without (pod)'],
  ['x / on(pod) group_left(node) y', 'x{namespace="a"} / on(pod) group_left(node) y{namespace="a"}'],
  ['max_over_time(rate(x[1m])[1h:5m])', 'max_over_time(rate(x{namespace="a"}[1m])[1h:5m])'],
  ['(x + y)[30m:]', '(x{namespace="a"} + y{namespace="a"})[30m:]'],
  ['x @ 1700000000', 'x{namespace="a"} @ 1700000000'],
  ['x[5m:1m] @ start()', 'x{namespace="a"}[5m:1m] @ start()'],
  ['x offset 5m @ 100', 'x{namespace="a"} offset 5m @ 100'],
  ['x offset -5m', 'x{namespace="a"} offset -5m'],
  ['-x ^ 2', '-x{namespace="a"} ^ 2'],
  ['(x + y) * 2', '(x{namespace="a"} + y{namespace="a"}) * 2'],
  [
    'histogram_quantile(0.9, sum by (le) (rate(b_bucket[5m])))',
    'histogram_quantile(0.9, sum by (le) (rate(b_bucket{namespace="a"}[5m])))',
  ],
  ['topk(3, x)', 'topk(3, x{namespace="a"})'],
  ['count_values("v", x)', 'count_values("v", x{namespace="a"})'],
  ['quantile(0.5, x) by (job)', 'quantile(0.5, x{namespace="a"}) by (job)'],
  [
    'label_replace(x, "dst", "$1", "src", "(.*)")',
    'label_replace(x{namespace="a"}, "dst", "$1", "src", "(.*)")',
  ],
  ['absent(nope{job="x"})', 'absent(nope{job="x",namespace="a"})'],
  [
    'x and y or z unless w',
    'x{namespace="a"} and y{namespace="a"} or z{namespace="a"} unless w{namespace="a"}',
  ],
  ['x > bool 1', 'x{namespace="a"} > bool 1'],
  ['x == ignoring(pod) y', 'x{namespace="a"} == ignoring(pod) y{namespace="a"}'],
  ['info(x, {k="v"})', 'info(x{namespace="a"}, {k="v",namespace="a"})'],
  // no selector: nothing to enforce
  ['vector(1)', 'vector(1)'],
  ['1 + 2', '1 + 2'],
  ['time()', 'time()'],
  ['"text"', '"text"'],
  // comments and layout are kept, and the matcher never lands inside a comment
  ['up # comment', 'up{namespace="a"} # comment'],
  ['up{job="x" # the job\n}', 'up{job="x",namespace="a" # the job\n}'],
  ['up{ # nothing yet\n}', 'up{namespace="a" # nothing yet\n}'],
  ['sum(\n  rate(x[5m])  # per second\n)\n', 'sum(\n  rate(x{namespace="a"}[5m])  # per second\n)\n'],
  ['up{job="x" # c\n, namespace="a", namespace="a"}', 'up{job="x" # c\n, namespace="a"}'],
];

describe('enforceLabel rewrites', () => {
  it.each(REWRITES)('%j', (query, expected) => {
    const output = enforce(query);
    expect(output).toBe(expected);
    for (const values of enforcedMatcherValues(output, 'namespace')) expect(values).toEqual(['=a']);
  });

  it('has a table that covers many constructs', () => {
    expect(REWRITES.length).toBeGreaterThanOrEqual(30);
  });
});

describe('enforceLabel rejects conflicting matchers on the label (prom-label-proxy --error-on-replace)', () => {
  it.each([
    ['up{namespace="b"}', 3],
    ['up{namespace!="a"}', 3],
    ['up{namespace=~"b|c"}', 3],
    ['up{namespace!~"a|b"}', 3],
    ['up{namespace!~".*"}', 3],
    ['up{"namespace"="b"}', 3],
    ['up{"name\\x73pace"="b"}', 3],
    ['up{namespace=""}', 3],
    ['sum(x) + y{job="j", namespace="b"}', 20],
    ['up{namespace="a",namespace="b"}', 17],
  ])('%j', (query, offset) => {
    const error = errorOf(() => enforce(query));
    expect(error.message).toContain('conflicts with the enforced namespace="a"');
    expect(error.message).toContain('remove the matcher');
    expect(error.offset).toBe(offset);
  });

  it.each(['up{namespace=~"a.*"}', 'up{namespace=~"(a|b)"}', 'up{namespace=~"[a]"}', 'up{namespace=~"(?i)A"}', 'up{namespace!~"\\\\w+"}'])(
    'rejects a regex it cannot judge without running it: %j',
    (query) => {
      expect(errorOf(() => enforce(query)).message).toMatch(
        /^matcher .* at offset 3 cannot be checked against the enforced namespace="a": use namespace="a" or remove the matcher$/,
      );
    },
  );

  it('shows a long matcher shortened', () => {
    const error = errorOf(() => enforce(`up{namespace="${'b'.repeat(500)}"}`));
    expect(error.message.length).toBeLessThan(200);
  });
});

describe('enforceLabel cannot be bypassed', () => {
  it.each([
    'a"}',
    'a"} or vector(1) #',
    'a",namespace=~".*',
    'a\\',
    'a\\"',
    'a\n} or up #',
    'ü',
    '😀',
    '`',
    "'",
    '#',
    '\u0000',
    '\u2028',
    'a'.repeat(300),
  ])('quotes the value %j so it stays one string', (value) => {
    const output = enforceLabel('up + down{job="x"}', 'namespace', value);
    expect(output).toMatch(/^[\x20-\x7e]*$/);
    const decoded = enforcedMatcherValues(output, 'namespace');
    expect(decoded).toEqual([[`=${value}`], [`=${value}`]]);
    // and the result is stable: enforcing again changes nothing
    expect(enforceLabel(output, 'namespace', value)).toBe(output);
  });

  it('refuses a carriage return: Prometheus would end a # comment there and read what follows', () => {
    const error = errorOf(() => enforce('sum(x) # hidden \r + secret{namespace="b"}'));
    expect(error.message).toBe('query has a carriage return at offset 16: use plain \\n line breaks');
    expect(error.offset).toBe(16);
  });

  it.each([
    ['up{job="x', 'query is not valid PromQL: unexpected input at the end of the query'],
    ['"abc', 'string at offset 0 is invalid: unterminated string'],
    ['up{job="\\q"}', 'string at offset 7 is invalid: unknown escape sequence \\q'],
    ['up{job="a\\\nb"}', 'string at offset 7 is invalid: unknown escape sequence \\\n'],
    ["up{job='a\\\"'}", 'string at offset 7 is invalid: unknown escape sequence \\"'],
    ['up{job="\\x4"}', 'string at offset 7 is invalid: \\x escape needs 2 hex digits'],
    ['up{job="\\ud800"}', 'string at offset 7 is invalid: escape sequence is an invalid Unicode code point'],
    ['up{job="\\U00110000"}', 'string at offset 7 is invalid: escape sequence is an invalid Unicode code point'],
    ['up{job="\\400"}', 'string at offset 7 is invalid: octal escape above \\377'],
    ['up{job="\\12"}', 'string at offset 7 is invalid: octal escape needs three digits (\\ooo)'],
    ['label_replace(x, "d", "\\z", "s", "")', 'string at offset 22 is invalid: unknown escape sequence \\z'],
  ])('rejects the string literal Prometheus would reject: %j', (query, message) => {
    expect(errorOf(() => enforce(query)).message).toBe(message);
  });

  it('refuses invalid Unicode in the query', () => {
    expect(errorOf(() => enforce('up{job="\uD800"}')).message).toBe('query contains invalid Unicode (a lone surrogate)');
  });

  it('refuses an empty selector, which Prometheus refuses too', () => {
    const error = errorOf(() => enforce('sum({})'));
    expect(error.message).toBe('empty selector {} at offset 4: name a metric or add a matcher');
  });
});

describe('enforceLabel rejects what does not parse, saying where', () => {
  it.each([
    ['', 'query is empty'],
    ['  \n ', 'query is empty'],
    ['foo(x)', 'query is not valid PromQL: unexpected input at offset 3 (near "(x)")'],
    ['sum(x) by', 'query is not valid PromQL: unexpected input at the end of the query'],
    ['up{a=}', 'query is not valid PromQL: unexpected input at offset 5 (near "}")'],
    ['1 +', 'query is not valid PromQL: unexpected input at the end of the query'],
    [')', 'query is not valid PromQL: unexpected input at offset 0 (near ")")'],
    ['up{a="b"} garbage', 'query is not valid PromQL: unexpected input at offset 10 (near "garbage")'],
    ['rate(x[5m]', 'query is not valid PromQL: unexpected input at the end of the query'],
  ])('%j', (query, message) => {
    expect(errorOf(() => enforce(query)).message).toBe(message);
  });

  it('keeps the message short for a long bad query', () => {
    const error = errorOf(() => enforce(`up + ${'x'.repeat(1000)}(`));
    expect(error.message.length).toBeLessThan(120);
  });
});

describe('enforceLabel bounds its cost', () => {
  it(`refuses a query over ${MAX_ENFORCED_QUERY_BYTES} bytes before parsing it`, () => {
    expect(errorOf(() => enforce('x'.repeat(MAX_ENFORCED_QUERY_BYTES + 1))).message).toBe(
      `query is longer than ${MAX_ENFORCED_QUERY_BYTES} bytes: shorten it`,
    );
    // counted in UTF-8 bytes: 6,000 three-byte characters are 18,000 bytes
    expect(errorOf(() => enforce(`up{job="${'€'.repeat(6_000)}"}`)).message).toContain('longer than');
    expect(enforce('x'.repeat(MAX_ENFORCED_QUERY_BYTES))).toBe(`${'x'.repeat(MAX_ENFORCED_QUERY_BYTES)}{namespace="a"}`);
  });

  it.each([
    ['brackets nested to the limit', `${'('.repeat(MAX_ENFORCED_QUERY_NESTING - 1)}x[5m]${')'.repeat(MAX_ENFORCED_QUERY_NESTING - 1)}`],
    ['a long sum', `x${' + x'.repeat(200)}`],
    ['many matchers', `up{${Array.from({ length: 1_500 }, (_, i) => `l${i}="v"`).join(',')}}`],
    ['brackets inside strings and comments', `x{a="${'('.repeat(500)}"} # ${'['.repeat(500)}\n + y`],
  ])('handles %s', (_name, query) => {
    const output = enforce(query);
    for (const values of enforcedMatcherValues(output, 'namespace')) expect(values).toEqual(['=a']);
  });

  it('refuses brackets nested deeper than the limit, saying so', () => {
    const query = `${'('.repeat(8_000)}x${')'.repeat(8_000)}`;
    expect(errorOf(() => enforce(query)).message).toBe(
      `query nests brackets more than ${MAX_ENFORCED_QUERY_NESTING} deep (at offset ${MAX_ENFORCED_QUERY_NESTING}): simplify it`,
    );
  });

  it.each([
    ['a chain of 4,000 operators', `x${' + x'.repeat(4_000)}`],
    ['16,000 signs', `${'-'.repeat(16_000)}1`],
  ])('refuses %s, which the parser gives up on, without crashing', (_name, query) => {
    expect(errorOf(() => enforce(query)).message).toMatch(/^query is not valid PromQL: unexpected input at offset \d+/);
  });
});

describe('label and value', () => {
  it.each(['', '__name__', '__meta', 'name-space', 'a.b', '1a', 'ns"'])('refuses to enforce the label %j', (label) => {
    expect(() => assertEnforceableLabelName(label)).toThrow(RangeError);
    expect(() => enforceLabel('up', label, 'a')).toThrow(/cannot enforce label/);
  });

  it('refuses an empty value, which would select every series without the label', () => {
    expect(() => enforceLabel('up', 'namespace', '')).toThrow(RangeError);
  });

  it('refuses a value that is not valid Unicode', () => {
    expect(() => enforceLabel('up', 'namespace', 'a\uDC00')).toThrow(RangeError);
  });

  it('enforces any plain label name', () => {
    expect(enforceLabel('up{tenant="t"}', 'tenant', 't')).toBe('up{tenant="t"}');
    expect(enforceLabel('up', '_t1', 'x')).toBe('up{_t1="x"}');
  });
});

describe('PromQL string literals', () => {
  it.each([
    ['"a"', 'a'],
    ["'a'", 'a'],
    ['`a\\n`', 'a\\n'],
    ['"\\a\\b\\f\\n\\r\\t\\v\\\\\\""', '\x07\b\f\n\r\t\v\\"'],
    ["'\\''", "'"],
    ['"\\x41\\101\\u00fc\\U0001F600"', 'AAü😀'],
    ['"ü😀"', 'ü😀'],
  ])('decodes %s', (literal, text) => {
    const decoded = unquotePromQLString(literal);
    expect(decoded.ok && Buffer.from(decoded.bytes).toString('utf8')).toBe(text);
  });

  it('decodes \\x and octal escapes to single bytes, as Go does', () => {
    const decoded = unquotePromQLString('"\\xff\\377"');
    expect(decoded.ok && [...decoded.bytes]).toEqual([0xff, 0xff]);
  });

  it.each(['"', '"a', "'a\"", '`a', '"a\nb"', '"\\"', 'a'])('refuses %j', (literal) => {
    expect(unquotePromQLString(literal).ok).toBe(false);
  });

  it('quotes to printable ASCII that decodes back', () => {
    for (const value of ['a', 'a"b', 'c\\d', '\n\t\u0000', 'ü', '😀', '\u2028', '`#\'']) {
      const literal = quotePromQLString(value);
      expect(literal).toMatch(/^"[\x20-\x7e]*"$/);
      const decoded = unquotePromQLString(literal);
      expect(decoded.ok && Buffer.from(decoded.bytes).toString('utf8')).toBe(value);
      expect(parser.parse(literal).topNode.firstChild?.name).toBe('StringLiteral');
    }
  });
});
