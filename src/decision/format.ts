// Number and time formatting for the human explanation (status.explanation).

/** Compact number: integers as is, others to four significant digits (0.1235, 512.3, 1235). */
export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  if (Math.abs(x) >= 1000) return String(Math.round(x));
  return String(Number(x.toPrecision(4)));
}

/** A quantile as the usual percentile label: 0.9 -> "p90", 0.975 -> "p97.5". */
export function quantileLabel(q: number): string {
  return `p${Number((q * 100).toFixed(3))}`;
}

/** A percentage from a fraction: 0.1 -> "10%". */
export function formatPercent(fraction: number): string {
  return `${Number((fraction * 100).toFixed(3))}%`;
}

/** Wall-clock time of day in UTC, "HH:MM". */
export function formatClockUtc(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
