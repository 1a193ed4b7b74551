// `prescale status`: one row per PredictiveScaler, as a kubectl-style table or JSON. Pure: the rows
// are built from objects read elsewhere (src/cli/status-source.ts). Every field of a scaler is
// treated as hostile (anyone allowed to patch the status subresource writes status): only printable
// ASCII is kept, strings and lists are capped, and numbers must be finite.
import { INTENTIONAL_REASONS, isBad } from '../controller/conditions.js';
import { PAUSED_ANNOTATION, type ConditionType } from '../api/types.js';

export interface StatusRow {
  namespace: string;
  name: string;
  /** kind/name of the scale target. */
  target: string;
  /** spec.mode, with "(paused)" when the paused annotation is set. */
  mode: string;
  currentReplicas?: number;
  desiredReplicas?: number;
  /** Ready pods of the target; undefined when not cheaply known (not an apps/v1 kind, or no right to read it). */
  readyReplicas?: number;
  model?: string;
  /** "2m (Learned)". */
  leadTime?: string;
  /** Peak of the forecast at the planning quantile. */
  peak?: number;
  /** The forecast over the horizon (status.forecast.points). */
  forecast: number[];
  /** The conditions that are not healthy, as type=reason; undefined: the scaler has no status yet. */
  problems?: string[];
}

/** What one field may hold in a row (JSON output); the table truncates further. */
const MAX_FIELD_LENGTH = 253;
const MAX_FORECAST_POINTS = 24;
const MAX_PROBLEMS = 8;

/**
 * Printable ASCII only: control characters (escape sequences), bidirectional overrides and every
 * other non-ASCII character become "?", so a field can neither drive the terminal nor misalign the
 * columns. Names, kinds, models and reasons are ASCII by design. Non-strings give "".
 */
export function sanitize(value: unknown, maxLength = MAX_FIELD_LENGTH): string {
  if (typeof value !== 'string') return '';
  const head = Array.from(value.slice(0, maxLength * 2)).slice(0, maxLength).join('');
  const clean = head.replace(/[^\x20-\x7E]/gu, '?');
  return value.length > head.length ? `${clean}…` : clean;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The row for one PredictiveScaler as the API server returned it, whatever it holds. */
export function statusRow(scaler: unknown, readyReplicas?: number): StatusRow {
  const obj = record(scaler);
  const metadata = record(obj.metadata);
  const spec = record(obj.spec);
  const ref = record(spec.scaleTargetRef);
  const status = record(obj.status);
  const forecast = record(status.forecast);
  const paused = record(metadata.annotations)[PAUSED_ANNOTATION] === 'true';
  const mode = sanitize(spec.mode ?? 'Auto') || '?';
  const leadTime = sanitize(status.leadTime);
  const leadTimeSource = sanitize(status.leadTimeSource);
  return {
    namespace: sanitize(metadata.namespace),
    name: sanitize(metadata.name),
    target: `${sanitize(ref.kind) || '?'}/${sanitize(ref.name) || '?'}`,
    mode: paused ? `${mode} (paused)` : mode,
    currentReplicas: count(status.currentReplicas),
    desiredReplicas: count(status.desiredReplicas),
    readyReplicas: count(readyReplicas),
    model: sanitize(forecast.model) || undefined,
    leadTime: leadTime ? (leadTimeSource ? `${leadTime} (${leadTimeSource})` : leadTime) : undefined,
    peak: finite(forecast.peak),
    forecast: Array.isArray(forecast.points)
      ? forecast.points.slice(0, MAX_FORECAST_POINTS).filter((p): p is number => finite(p) !== undefined)
      : [],
    problems: Array.isArray(status.conditions) ? unhealthy(status.conditions) : undefined,
  };
}

function unhealthy(conditions: unknown[]): string[] {
  const out: string[] = [];
  for (const entry of conditions) {
    const c = record(entry);
    if (typeof c.type !== 'string' || typeof c.status !== 'string') continue;
    if (!isBad({ type: c.type as ConditionType, status: c.status as 'True' | 'False' | 'Unknown' })) continue;
    if (typeof c.reason === 'string' && INTENTIONAL_REASONS.has(c.reason)) continue;
    out.push(`${sanitize(c.type, 24)}=${sanitize(c.reason, 32) || '?'}`);
    if (out.length === MAX_PROBLEMS) break;
  }
  return out;
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * One bar per value, scaled from min(0, lowest) to the highest, so a flat forecast of real demand
 * reads as full rather than empty and a ramp shows its proportions.
 */
export function sparkline(values: readonly number[]): string {
  const finiteValues = values.filter((v) => Number.isFinite(v));
  if (finiteValues.length === 0) return '';
  const low = Math.min(0, ...finiteValues);
  const high = Math.max(...finiteValues);
  const span = high - low;
  return finiteValues
    .map((v) => {
      const level = span > 0 && Number.isFinite(span) ? Math.round(((v - low) / span) * (BARS.length - 1)) : 0;
      return BARS[Math.min(BARS.length - 1, Math.max(0, level))];
    })
    .join('');
}

/** Four significant digits, without exponent noise for everyday magnitudes. */
function formatNumber(x: number): string {
  return Math.abs(x) >= 1e6 || (x !== 0 && Math.abs(x) < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(4)));
}

interface Column {
  header: string;
  /** Widest a cell may be; longer text is truncated with "…". */
  max: number;
  cell(row: StatusRow): string;
  /** ANSI colour of the cell on a terminal. */
  color?(row: StatusRow): string | undefined;
  alignRight?: boolean;
}

const replicas = (n: number | undefined) => (n === undefined ? '-' : String(n));

const COLUMNS: Column[] = [
  { header: 'NAMESPACE', max: 32, cell: (r) => r.namespace },
  { header: 'NAME', max: 40, cell: (r) => r.name },
  { header: 'TARGET', max: 48, cell: (r) => r.target },
  { header: 'MODE', max: 24, cell: (r) => r.mode },
  { header: 'CURRENT', max: 10, cell: (r) => replicas(r.currentReplicas), alignRight: true },
  { header: 'DESIRED', max: 10, cell: (r) => replicas(r.desiredReplicas), alignRight: true },
  { header: 'READY', max: 10, cell: (r) => replicas(r.readyReplicas), alignRight: true },
  { header: 'MODEL', max: 20, cell: (r) => r.model ?? '-' },
  { header: 'LEAD TIME', max: 24, cell: (r) => r.leadTime ?? '-' },
  { header: 'PEAK', max: 10, cell: (r) => (r.peak === undefined ? '-' : formatNumber(r.peak)), alignRight: true },
  { header: 'FORECAST', max: MAX_FORECAST_POINTS, cell: (r) => sparkline(r.forecast) || '-', color: () => CYAN },
  {
    header: 'CONDITIONS',
    max: 72,
    cell: (r) => (r.problems === undefined ? '<not reconciled yet>' : r.problems.length === 0 ? '<healthy>' : r.problems.join(',')),
    color: (r) => (r.problems === undefined ? YELLOW : r.problems.length > 0 ? RED : GREEN),
  },
];

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const YELLOW = '\x1b[33m';
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';

function fit(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

const width = (text: string) => Array.from(text).length;

export interface TableOptions {
  /** Show the NAMESPACE column (--all-namespaces). */
  allNamespaces: boolean;
  /** ANSI colours (only when stdout is a terminal). */
  color: boolean;
}

/** The rows aligned in columns under a header, as kubectl prints them, three spaces apart. */
export function formatTable(rows: readonly StatusRow[], options: TableOptions): string {
  const columns = options.allNamespaces ? COLUMNS : COLUMNS.filter((c) => c.header !== 'NAMESPACE');
  const cells = rows.map((row) => columns.map((c) => fit(c.cell(row), c.max)));
  const widths = columns.map((c, i) => Math.max(width(c.header), ...cells.map((line) => width(line[i]!))));
  const last = columns.length - 1;
  const pad = (text: string, i: number) => {
    const gap = ' '.repeat(widths[i]! - width(text));
    if (columns[i]!.alignRight) return gap + text;
    return i === last ? text : text + gap;
  };
  const lines = [columns.map((c, i) => pad(c.header, i)).join('   ')];
  rows.forEach((row, r) => {
    const line = columns.map((c, i) => {
      const text = pad(cells[r]![i]!, i);
      const color = options.color ? c.color?.(row) : undefined;
      return color ? `${color}${text}${RESET}` : text;
    });
    lines.push(line.join('   '));
  });
  return `${lines.join('\n')}\n`;
}

/** `-o json`: the rows, with the fields already sanitized. */
export function formatJson(rows: readonly StatusRow[]): string {
  return `${JSON.stringify({ items: rows }, null, 2)}\n`;
}

/** What is printed when there is nothing to list (exit status 0, as kubectl). */
export function noScalersMessage(namespace: string | undefined): string {
  return namespace === undefined ? 'No PredictiveScalers found.\n' : `No PredictiveScalers found in namespace ${sanitize(namespace)}.\n`;
}
