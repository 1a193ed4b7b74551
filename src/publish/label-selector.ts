// Kubernetes label selectors as the HPA controller sends them in `?labelSelector=` (the string form:
// `a=b,c!=d,e in (x,y),f notin (z),g,!h`), parsed with bounds: a hostile query cannot cost more than
// its (already bounded) length.
export type Requirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | 'doesnotexist' };

export type ParsedSelector = { ok: true; requirements: Requirement[] } | { ok: false; message: string };

const MAX_SELECTOR_LENGTH = 4096;
const MAX_REQUIREMENTS = 32;
// A label key (optional DNS prefix, then a name) and a label value, as Kubernetes validates them.
const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

export function parseSelector(text: string): ParsedSelector {
  if (text.length > MAX_SELECTOR_LENGTH) return { ok: false, message: `the label selector is longer than ${MAX_SELECTOR_LENGTH} characters` };
  const parts = splitTopLevel(text.trim());
  if (parts === undefined) return { ok: false, message: 'unbalanced parentheses in the label selector' };
  if (parts.length > MAX_REQUIREMENTS) return { ok: false, message: `the label selector has more than ${MAX_REQUIREMENTS} requirements` };
  const requirements: Requirement[] = [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === '') {
      if (parts.length === 1) break;
      return { ok: false, message: 'empty requirement in the label selector' };
    }
    const parsed = parseRequirement(part);
    if (typeof parsed === 'string') return { ok: false, message: parsed };
    requirements.push(parsed);
  }
  return { ok: true, requirements };
}

function parseRequirement(part: string): Requirement | string {
  let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part);
  if (m) {
    const [, key, op, value] = m as unknown as [string, string, string, string];
    if (!KEY.test(key)) return `invalid label key "${truncate(key)}"`;
    if (!VALUE.test(value)) return `invalid label value "${truncate(value)}"`;
    return { key, op: op === '!=' ? 'notin' : 'in', values: [value] };
  }
  m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
  if (m) {
    const [, key, op, list] = m as unknown as [string, string, 'in' | 'notin', string];
    if (!KEY.test(key)) return `invalid label key "${truncate(key)}"`;
    const values = list.split(',').map((v) => v.trim());
    const bad = values.find((v) => !VALUE.test(v));
    if (bad !== undefined) return `invalid label value "${truncate(bad)}"`;
    return { key, op, values };
  }
  const exists = /^(!?)\s*(\S+)$/.exec(part);
  if (exists && KEY.test(exists[2]!)) return { key: exists[2]!, op: exists[1] ? 'doesnotexist' : 'exists' };
  return `cannot parse "${truncate(part)}" as a label requirement`;
}

function splitTopLevel(text: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return undefined;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return undefined;
  parts.push(text.slice(start));
  return parts;
}

function truncate(s: string): string {
  return s.length > 64 ? `${s.slice(0, 64)}…` : s;
}

/** The one value the selector requires `key` to have (`key=v`, `key==v`, `key in (v)`), if any. */
export function selectedValue(requirements: readonly Requirement[], key: string): string | undefined {
  const values = new Set<string>();
  for (const r of requirements) {
    if (r.key === key && r.op === 'in' && r.values.length === 1) values.add(r.values[0]!);
  }
  return values.size === 1 ? [...values][0] : undefined;
}

export function matchesSelector(requirements: readonly Requirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'exists':
        return has;
      case 'doesnotexist':
        return !has;
      case 'in':
        return has && r.values.includes(labels[r.key]!);
      case 'notin':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}
