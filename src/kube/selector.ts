// Label selectors in their string form, as the scale subresource reports them in status.selector
// ("app=web,tier in (a,b),!canary"), matched against an object's labels with Kubernetes' semantics.
// Supported: key, !key, key=value, key==value, key!=value, key in (...), key notin (...), key>n, key<n.

export type Labels = Readonly<Record<string, string>>;

/** True when the labels satisfy every requirement of the selector. */
export type LabelMatcher = (labels: Labels | undefined) => boolean;

export class SelectorError extends Error {
  constructor(selector: string, problem: string) {
    super(`label selector "${selector}": ${problem}`);
    this.name = 'SelectorError';
  }
}

type Requirement = (labels: Labels) => boolean;

const KEY = '[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?';
const VALUE = '(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?';
const EXISTS_RE = new RegExp(`^(!?)\\s*(${KEY})$`);
const SET_RE = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const COMPARE_RE = new RegExp(`^(${KEY})\\s*(==|=|!=|>|<)\\s*(${VALUE})$`);
const VALUE_RE = new RegExp(`^${VALUE}$`);
const INTEGER_RE = /^-?[0-9]+$/;

/** Parses a selector string; the empty selector matches everything. Throws SelectorError. */
export function parseSelector(selector: string): LabelMatcher {
  const requirements = splitRequirements(selector).map((r) => parseRequirement(selector, r));
  return (labels) => requirements.every((matches) => matches(labels ?? {}));
}

/** Splits at commas outside parentheses, so "a in (x,y),b" is two requirements. */
function splitRequirements(selector: string): string[] {
  if (selector.trim() === '') return [];
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0 || depth > 1) throw new SelectorError(selector, 'unbalanced parentheses');
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (depth !== 0) throw new SelectorError(selector, 'unbalanced parentheses');
  parts.push(current.trim());
  return parts;
}

function parseRequirement(selector: string, text: string): Requirement {
  const exists = EXISTS_RE.exec(text);
  if (exists) {
    const [, not, key] = exists;
    return not ? (labels) => !Object.hasOwn(labels, key!) : (labels) => Object.hasOwn(labels, key!);
  }
  const set = SET_RE.exec(text);
  if (set) {
    const [, key, op, list] = set;
    const values = new Set(list!.split(',').map((v) => v.trim()));
    for (const v of values) {
      if (!VALUE_RE.test(v)) throw new SelectorError(selector, `"${v}" is not a label value in "${text}"`);
    }
    const has = (labels: Labels) => Object.hasOwn(labels, key!) && values.has(labels[key!]!);
    return op === 'in' ? has : (labels) => !has(labels);
  }
  const compare = COMPARE_RE.exec(text);
  if (compare) {
    const [, key, op, value] = compare;
    switch (op) {
      case '=':
      case '==':
        return (labels) => Object.hasOwn(labels, key!) && labels[key!] === value;
      case '!=':
        // Kubernetes: a missing label is "not equal" too.
        return (labels) => !Object.hasOwn(labels, key!) || labels[key!] !== value;
      default: {
        if (!INTEGER_RE.test(value!)) throw new SelectorError(selector, `"${text}" compares with a non-integer`);
        const bound = Number(value);
        return (labels) => {
          const v = Object.hasOwn(labels, key!) ? labels[key!] : undefined;
          if (v === undefined || !INTEGER_RE.test(v)) return false;
          return op === '>' ? Number(v) > bound : Number(v) < bound;
        };
      }
    }
  }
  throw new SelectorError(selector, `cannot read the requirement "${text}"`);
}
