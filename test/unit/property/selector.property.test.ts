// Properties of the label-selector parser. The selector text comes from a scale subresource's
// status.selector, which whoever owns the target workload (or a custom resource's controller) writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SelectorError, parseSelector, type Labels } from '../../../src/kube/selector.js';
import { RUNS, expectLinearCost, hostileString, thrownBy } from './hostile.js';

type Requirement =
  | { op: 'exists' | 'notExists'; key: string }
  | { op: '=' | '==' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: '>' | '<'; key: string; bound: number };

const KEYS = ['app', 'tier', 'a.b/c', 'x-1', 'app.kubernetes.io/name', 'constructor'];
const SELECTOR_VALUES = ['web', 'api', '', '1', '12', 'a_b.c'];
const LABEL_VALUES = [...SELECTOR_VALUES, '-3', '007', '1.5', '99999999999999999999'];

const key = fc.constantFrom(...KEYS);
const space = fc.constantFrom('', ' ', '  ', '\t');

const requirement: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ op: fc.constantFrom('exists' as const, 'notExists' as const), key }),
  fc.record({ op: fc.constantFrom('=' as const, '==' as const, '!=' as const), key, value: fc.constantFrom(...SELECTOR_VALUES) }),
  fc.record({ op: fc.constantFrom('in' as const, 'notin' as const), key, values: fc.array(fc.constantFrom(...SELECTOR_VALUES.filter(Boolean)), { minLength: 1, maxLength: 3 }) }),
  fc.record({ op: fc.constantFrom('>' as const, '<' as const), key, bound: fc.integer({ min: 0, max: 20 }) }),
);

/** Renders a requirement with the whitespace Kubernetes tolerates around operators and list items. */
function render(r: Requirement): fc.Arbitrary<string> {
  return fc.tuple(space, space, space).map(([a, b, c]) => {
    switch (r.op) {
      case 'exists':
        return `${a}${r.key}${b}`;
      case 'notExists':
        return `${a}!${b}${r.key}${c}`;
      case 'in':
      case 'notin':
        return `${a}${r.key} ${b}${r.op}${b}(${r.values.map((v) => `${c}${v}${c}`).join(',')})${a}`;
      case '>':
      case '<':
        return `${a}${r.key}${b}${r.op}${c}${r.bound}`;
      default:
        return `${a}${r.key}${b}${r.op}${c}${r.value}${a}`;
    }
  });
}

/** Kubernetes' meaning of one requirement, written independently of the parser. */
function holds(r: Requirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case 'notExists':
      return !has;
    case '=':
    case '==':
      return value === r.value;
    case '!=':
      return value !== r.value;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case '>':
    case '<':
      if (value === undefined || !/^-?[0-9]+$/.test(value)) return false;
      return r.op === '>' ? Number(value) > r.bound : Number(value) < r.bound;
  }
}

const labels: fc.Arbitrary<Labels> = fc.dictionary(key, fc.constantFrom(...LABEL_VALUES), { maxKeys: KEYS.length });

const selectorCase = fc
  .array(requirement, { maxLength: 5 })
  .chain((reqs) => fc.tuple(fc.constant(reqs), reqs.length === 0 ? fc.constant([] as string[]) : fc.tuple(...reqs.map(render))));

describe('parseSelector', () => {
  it('matches exactly the labels that satisfy every requirement', () => {
    fc.assert(
      fc.property(selectorCase, labels, ([reqs, texts], objectLabels) => {
        const matcher = parseSelector(texts.join(','));
        expect(matcher(objectLabels)).toBe(reqs.every((r) => holds(r, objectLabels)));
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('treats an object without labels as one with no labels', () => {
    fc.assert(
      fc.property(selectorCase, ([, texts]) => {
        const matcher = parseSelector(texts.join(','));
        expect(matcher(undefined)).toBe(matcher({}));
      }),
      RUNS,
    );
  });

  it('does not depend on the order of requirements', () => {
    fc.assert(
      fc.property(selectorCase.chain(([, texts]) => fc.tuple(fc.constant(texts), fc.shuffledSubarray(texts, { minLength: texts.length }))), labels, ([texts, shuffled], objectLabels) => {
        expect(parseSelector(shuffled.join(','))(objectLabels)).toBe(parseSelector(texts.join(','))(objectLabels));
      }),
      RUNS,
    );
  });

  it('either refuses a text with a SelectorError quoting it, or returns a matcher that never throws', () => {
    fc.assert(
      fc.property(hostileString('ab=!,()<> in notin 12-_./'), fc.dictionary(fc.string(), fc.string()), (text, anyLabels) => {
        const err = thrownBy(() => parseSelector(text));
        if (err !== undefined) {
          expect(err).toBeInstanceOf(SelectorError);
          expect((err as Error).message).toContain(`label selector "${text}"`);
          return;
        }
        const matcher = parseSelector(text);
        expect(typeof matcher(anyLabels)).toBe('boolean');
        expect(typeof matcher(undefined)).toBe('boolean');
      }),
      { ...RUNS, numRuns: 1000 },
    );
  });

  it('refuses a selector that ends, or has an empty requirement, between commas', () => {
    fc.assert(
      fc.property(selectorCase.filter(([reqs]) => reqs.length > 0), fc.nat(), ([, texts], at) => {
        const withEmpty = [...texts];
        withEmpty.splice(at % (texts.length + 1), 0, ' ');
        expect(() => parseSelector(withEmpty.join(','))).toThrow(SelectorError);
      }),
      RUNS,
    );
  });

  it('costs linear time on 100 KB adversarial inputs', () => {
    expectLinearCost('a key of separators', (n) => `a${'-'.repeat(n)}!`, parseSelector);
    expectLinearCost('a key of dots and slashes', (n) => `a${'./'.repeat(n / 2)}`, parseSelector);
    expectLinearCost('a key that never meets an operator', (n) => `${'a'.repeat(n)}!`, parseSelector);
    expectLinearCost('spaces before a missing "in"', (n) => `a${' '.repeat(n)}x`, parseSelector);
    expectLinearCost('a value of separators', (n) => `a=${'a-'.repeat(n / 2)}-!`, parseSelector);
    expectLinearCost('a long set', (n) => `a in (${'v,'.repeat(n / 2)}v)`, parseSelector);
    expectLinearCost('an unclosed set', (n) => `a in (${'v '.repeat(n / 2)}`, parseSelector);
    expectLinearCost('many requirements', (n) => Array.from({ length: n / 8 }, (_, i) => `k${i % 10}=v`).join(','), parseSelector);
    expectLinearCost('a long integer bound', (n) => `a>${'9'.repeat(n)}`, parseSelector);
  });
});
