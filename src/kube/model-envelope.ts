// How a trained model is laid out in its ConfigMap, without any API calls: the ConfigMap's name and
// scaler label for a PredictiveScaler, one binaryData key per metric, and the entry itself: gzip of
// a JSON envelope {storeFormat, operatorVersion, savedAt, sha256, payload}.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

/** Opaque JSON from the model manager. */
export interface ModelRecord {
  [k: string]: unknown;
}

/** Bumped whenever the envelope layout changes; entries in another format are discarded, not read. */
export const STORE_FORMAT = 1;

/** Same rule as spec.metrics[].name in the CRD; such names are valid ConfigMap keys with the suffix. */
export const METRIC_NAME_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const MAX_METRIC_NAME_LENGTH = 63;

const CONFIG_MAP_SUFFIX = '-prescale-models';
const MAX_OBJECT_NAME_LENGTH = 253;
const MAX_LABEL_VALUE_LENGTH = 63;
const NAME_HASH_LENGTH = 10;

/** Far above any real model (entries are capped at a few hundred KiB compressed), far below a gzip bomb. */
const MAX_UNCOMPRESSED_BYTES = 16 * 1024 * 1024;

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface EnvelopeMeta {
  operatorVersion: string;
  savedAt: string;
}

export type DecodedEntry =
  | { ok: true; record: ModelRecord; operatorVersion: string; savedAt: string }
  | { ok: false; reason: string };

export function isValidMetricName(metric: string): boolean {
  return metric.length <= MAX_METRIC_NAME_LENGTH && METRIC_NAME_PATTERN.test(metric);
}

export function entryKey(metric: string): string {
  if (!isValidMetricName(metric)) {
    throw new Error(`metric name "${metric}" is not valid: it must match ${METRIC_NAME_PATTERN.source} and be at most ${MAX_METRIC_NAME_LENGTH} characters`);
  }
  return `${metric}.json.gz`;
}

/** `<scaler>-prescale-models`, or for very long scaler names a truncated prefix plus a hash of the full name. */
export function modelConfigMapName(scalerName: string): string {
  return fitWithHash(scalerName, MAX_OBJECT_NAME_LENGTH - CONFIG_MAP_SUFFIX.length) + CONFIG_MAP_SUFFIX;
}

/** The scaler name as a label value (at most 63 characters), shortened the same way when too long. */
export function scalerLabelValue(scalerName: string): string {
  return fitWithHash(scalerName, MAX_LABEL_VALUE_LENGTH);
}

function fitWithHash(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, NAME_HASH_LENGTH);
  // A cut may end on '-' or '.', which must not precede the '-' we append in a DNS subdomain name.
  const prefix = name.slice(0, maxLength - NAME_HASH_LENGTH - 1).replace(/[-.]+$/, '');
  return `${prefix}-${hash}`;
}

/**
 * What the API server counts against a ConfigMap's size limit: the bytes of every value (binaryData
 * decoded from base64), plus the keys to stay on the safe side.
 */
export function configMapDataBytes(configMap: { data?: Record<string, string>; binaryData?: Record<string, string> }): number {
  let total = 0;
  for (const [key, value] of Object.entries(configMap.data ?? {})) total += key.length + Buffer.byteLength(value, 'utf8');
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) total += key.length + Buffer.byteLength(value, 'base64');
  return total;
}

export async function encodeEntry(record: ModelRecord, meta: EnvelopeMeta): Promise<Buffer> {
  const payloadJson = JSON.stringify(record);
  const envelope = `{"storeFormat":${STORE_FORMAT},"operatorVersion":${JSON.stringify(meta.operatorVersion)},"savedAt":${JSON.stringify(meta.savedAt)},"sha256":"${sha256(payloadJson)}","payload":${payloadJson}}`;
  return gzipAsync(Buffer.from(envelope, 'utf8'));
}

/** Never throws: anything that is not an intact envelope of this store format comes back with the reason. */
export async function decodeEntry(bytes: Uint8Array): Promise<DecodedEntry> {
  let text: string;
  try {
    text = (await gunzipAsync(bytes, { maxOutputLength: MAX_UNCOMPRESSED_BYTES })).toString('utf8');
  } catch (err) {
    return { ok: false, reason: `entry does not gunzip (${(err as Error).message})` };
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `entry is not JSON (${(err as Error).message})` };
  }
  if (!isPlainObject(envelope)) return { ok: false, reason: 'entry is not a model envelope (not a JSON object)' };
  const { storeFormat, operatorVersion, savedAt, sha256: checksum, payload } = envelope;
  const writer = typeof operatorVersion === 'string' ? ` written by operator ${operatorVersion}` : '';
  if (storeFormat !== STORE_FORMAT) {
    return { ok: false, reason: `entry has store format ${JSON.stringify(storeFormat)}${writer}; this operator reads format ${STORE_FORMAT}` };
  }
  if (typeof operatorVersion !== 'string' || typeof savedAt !== 'string' || typeof checksum !== 'string') {
    return { ok: false, reason: 'entry is not a model envelope (operatorVersion, savedAt or sha256 missing)' };
  }
  if (!isPlainObject(payload)) return { ok: false, reason: `entry payload is not a JSON object${writer}` };
  // JSON.stringify(JSON.parse(s)) reproduces s for text JSON.stringify wrote, so this is the hashed text.
  const actual = sha256(JSON.stringify(payload));
  if (actual !== checksum) return { ok: false, reason: `entry checksum mismatch (stored ${checksum}, computed ${actual})${writer}` };
  return { ok: true, record: payload, operatorVersion, savedAt };
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
