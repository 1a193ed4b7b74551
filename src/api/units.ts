// Kubernetes-style durations ("90s", "1h30m", "7d"), quantities ("40", "1.5k", "500m") and
// percentages ("10%").

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h|d|w))+$';
const DURATION_RE = new RegExp(DURATION_PATTERN);
const DURATION_PART_RE = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d|w)/g;

/** Parses a duration such as "30s", "1h30m" or "7d" into milliseconds. */
export function parseDuration(text: string): number {
  const s = String(text).trim();
  if (!DURATION_RE.test(s)) {
    throw new Error(`"${text}" is not a duration; use a number with a unit, e.g. 30s, 5m, 1h30m, 7d`);
  }
  let ms = 0;
  for (const [, n, unit] of s.matchAll(DURATION_PART_RE)) ms += Number(n) * DURATION_UNITS[unit!]!;
  // Beyond 2^53 ms (285,000 years) milliseconds are no longer whole numbers: no use can need that.
  if (!(ms <= Number.MAX_SAFE_INTEGER)) throw new Error(`"${text}" is too long a duration to represent`);
  return Math.round(ms);
}

/** Formats milliseconds as a compact duration, e.g. 130000 -> "2m10s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return sign + parts.join('');
}

const QUANTITY_SUFFIX: Record<string, number> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export const QUANTITY_PATTERN = '^[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?(m|k|M|G|T|P|Ki|Mi|Gi|Ti)?$';
const QUANTITY_RE = /^([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)(m|k|M|G|T|P|Ki|Mi|Gi|Ti)?$/;

/** Parses a Kubernetes quantity ("40", "2.5", "1.5k", "500m") into a number. */
export function parseQuantity(text: string | number): number {
  if (typeof text === 'number') {
    if (!Number.isFinite(text) || text < 0) throw new Error(`"${text}" is not a non-negative number`);
    return text;
  }
  const m = QUANTITY_RE.exec(String(text).trim());
  if (!m) throw new Error(`"${text}" is not a quantity; use e.g. 40, 2.5, 1.5k or 500m`);
  const value = Number(m[1]) * QUANTITY_SUFFIX[m[2] ?? '']!;
  if (!Number.isFinite(value)) throw new Error(`"${text}" is too large a quantity to represent`);
  return value;
}

export const PERCENT_PATTERN = '^[0-9]+(\\.[0-9]+)?%$';

/** Parses "10%" into 0.1. */
export function parsePercent(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(String(text).trim());
  if (!m) throw new Error(`"${text}" is not a percentage; use e.g. 10%`);
  const fraction = Number(m[1]) / 100;
  if (!Number.isFinite(fraction)) throw new Error(`"${text}" is too large a percentage to represent`);
  return fraction;
}
