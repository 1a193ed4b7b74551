// Parsing of the `data` part of Prometheus HTTP API answers (/api/v1/query and /api/v1/query_range).

export type Labels = Record<string, string>;
/** [timestamp in ms, value]; NaN and ±Infinity are kept as such. */
export type Sample = [tsMs: number, value: number];

export interface RangeSeries {
  labels: Labels;
  samples: Sample[];
}

export interface InstantSample {
  labels: Labels;
  timestampMs: number;
  value: number;
}

/** The answer did not have the shape of the Prometheus HTTP API. */
export class MalformedResponseError extends Error {}

/** Prometheus encodes sample values as strings, including "NaN", "+Inf" and "-Inf". */
export function parseSampleValue(raw: unknown): number {
  if (raw === 'NaN') return NaN;
  if (raw === '+Inf' || raw === 'Inf') return Infinity;
  if (raw === '-Inf') return -Infinity;
  // Never String(raw): an object such as {"toString": 1} makes that throw a TypeError.
  if (typeof raw !== 'string') throw new MalformedResponseError(`bad sample value: ${raw === null ? 'null' : typeof raw}, not a string`);
  const value = raw.trim() === '' ? NaN : Number(raw);
  if (Number.isNaN(value)) throw new MalformedResponseError(`bad sample value ${JSON.stringify(raw.slice(0, 40))}`);
  return value;
}

function parseSample(raw: unknown): Sample {
  if (!Array.isArray(raw) || raw.length !== 2 || typeof raw[0] !== 'number') {
    throw new MalformedResponseError('bad sample pair');
  }
  // Timestamps are float seconds with millisecond precision; rounding removes float noise.
  const timestampMs = Math.round(raw[0] * 1000);
  if (!Number.isFinite(timestampMs)) throw new MalformedResponseError('bad sample timestamp');
  return [timestampMs, parseSampleValue(raw[1])];
}

function parseLabels(raw: unknown): Labels {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new MalformedResponseError('bad label set');
  if (!Object.values(raw).every((value) => typeof value === 'string')) throw new MalformedResponseError('label value is not a string');
  return { ...(raw as Labels) };
}

function resultOf(data: unknown): { resultType: string; result: unknown } {
  if (typeof data !== 'object' || data === null) throw new MalformedResponseError('missing data');
  const { resultType, result } = data as { resultType?: unknown; result?: unknown };
  if (typeof resultType !== 'string') throw new MalformedResponseError('missing resultType');
  return { resultType, result };
}

/** The series of a range query answer (resultType "matrix"). */
export function parseMatrix(data: unknown): RangeSeries[] {
  const { resultType, result } = resultOf(data);
  if (resultType !== 'matrix' || !Array.isArray(result)) {
    throw new MalformedResponseError(`expected a matrix, got ${resultType}`);
  }
  return result.map((entry: { metric?: unknown; values?: unknown }) => {
    if (!Array.isArray(entry?.values)) throw new MalformedResponseError('series without values');
    return { labels: parseLabels(entry.metric), samples: entry.values.map(parseSample) };
  });
}

/**
 * The samples of an instant query answer: one per series for a vector, one without labels for a
 * scalar. Returns the result type when it is something else (a range vector or a string).
 */
export function parseInstant(data: unknown): InstantSample[] | { unsupported: string } {
  const { resultType, result } = resultOf(data);
  if (resultType === 'scalar') {
    const [timestampMs, value] = parseSample(result);
    return [{ labels: {}, timestampMs, value }];
  }
  if (resultType !== 'vector') return { unsupported: resultType };
  if (!Array.isArray(result)) throw new MalformedResponseError('vector result is not a list');
  return result.map((entry: { metric?: unknown; value?: unknown }) => {
    const [timestampMs, value] = parseSample(entry?.value);
    return { labels: parseLabels(entry.metric), timestampMs, value };
  });
}

/** A stable identity for a label set, independent of key order. */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(Object.keys(labels).sort().map((name) => [name, labels[name]]));
}
