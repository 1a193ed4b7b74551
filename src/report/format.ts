// Number and time formatting for labels and tables.
import type { NiceTicks } from './svg/ticks.js';

export const MISSING = '—';

/** Digits grouped by thousands: 12345.6 -> "12,345.6". */
export function grouped(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return MISSING;
  const [whole, fraction] = Math.abs(value).toFixed(decimals).split('.');
  const sign = value < 0 && Number(value.toFixed(decimals)) !== 0 ? '-' : '';
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction ? `.${fraction}` : ''}`;
}

/** A value with about three significant digits, large ones with k / M suffixes. */
export function compact(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trim((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${trim((value / 1e3).toPrecision(3))}k`;
  if (abs >= 100 || Number.isInteger(value)) return grouped(value, 0);
  return trim(value.toPrecision(3));
}

function trim(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text;
}

/** Tick labels with exactly as many decimals as the step needs, thousands as "k" on wide axes. */
export function tickFormatter(axis: NiceTicks): (value: number) => string {
  const largest = Math.max(Math.abs(axis.min), Math.abs(axis.max));
  const [divisor, suffix] = largest >= 1e6 ? [1e6, 'M'] : largest >= 1e4 ? [1e3, 'k'] : [1, ''];
  const decimals = Math.max(0, -Math.floor(Math.log10(axis.step / divisor) + 1e-9));
  return (value) => (value === 0 ? '0' : `${grouped(value / divisor, decimals)}${suffix}`);
}

export function percent(fraction: number | null | undefined, decimals = 2): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return MISSING;
  return `${(fraction * 100).toFixed(decimals)} %`;
}

export function fixed(value: number | null | undefined, decimals: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return MISSING;
  return grouped(value, decimals);
}

/** "2024-03-05 14:30 UTC". */
export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return MISSING;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A duration as the largest whole units: "30 min", "2 h 30 min", "14 d". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return MISSING;
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return `${Math.round(ms / 1000)} s`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', rest ? `${rest} min` : ''].filter(Boolean);
  return parts.join(' ');
}
