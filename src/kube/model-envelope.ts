// How a trained model is laid out in its ConfigMap, without any API calls: the ConfigMap's name and
// scaler label for a PredictiveScaler, one binaryData key per metric, and the entry itself: gzip of
// a JSON envelope {storeFormat, operatorVersion, savedAt, hmacSha256, payload}. Anyone who may edit
// ConfigMaps in the scaler's namespace can rewrite an entry, so it carries an HMAC under a key only
// the operator holds, bound to the scaler (namespace, name, uid) and metric it was saved for: a
// tenant can neither forge an entry nor move a genuine one to another scaler or metric.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

/** Opaque JSON from the model manager. */
export interface ModelRecord {
  [k: string]: unknown;
}

/** Bumped whenever the envelope layout changes; entries in another format are discarded, not read. */
export const STORE_FORMAT = 2;

/** The fewest bytes of an HMAC key this store accepts (the operator generates 32). */
export const MIN_SIGNING_KEY_BYTES = 32;

/** Which scaler metric an entry was saved for; part of what its MAC covers. */
export interface EntryBinding {
  namespace: string;
  scaler: string;
  uid: string;
  metric: string;
}

/** Same rule as spec.metrics[].name in the CRD; such names are valid ConfigMap keys with the suffix. */
export const METRIC_NAME_PATTERN = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const MAX_METRIC_NAME_LENGTH = 63;

const CONFIG_MAP_SUFFIX = '-prescale-models';
/**
 * Ends the name of a shortened scaler name's ConfigMap. A plain name always ends in '-prescale-models'
 * and a shortened one in '.prescale-models', so the two forms can never be the same string.
 */
const HASHED_CONFIG_MAP_SUFFIX = '.prescale-models';
/** Joins a label value's prefix and hash; no scaler name holds '_', so no name fits as it is equals one. */
const LABEL_HASH_SEPARATOR = '_';
const MAX_OBJECT_NAME_LENGTH = 253;
const MAX_LABEL_VALUE_LENGTH = 63;
/** 128 bits of SHA-256: two distinct names sharing a shortened form would need a SHA-256 collision. */
const NAME_HASH_LENGTH = 32;
const MAC_HEX_LENGTH = 64;

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

/**
 * `<scaler>-prescale-models`; for scaler names too long for that, a prefix of the name, a hash of the
 * whole name and `.prescale-models` (the '.' keeps the two forms apart).
 */
export function modelConfigMapName(scalerName: string): string {
  if (scalerName.length + CONFIG_MAP_SUFFIX.length <= MAX_OBJECT_NAME_LENGTH) return scalerName + CONFIG_MAP_SUFFIX;
  // A cut may end on '-' or '.', which must not precede the '-' we append in a DNS subdomain name.
  const prefix = scalerName.slice(0, MAX_OBJECT_NAME_LENGTH - HASHED_CONFIG_MAP_SUFFIX.length - NAME_HASH_LENGTH - 1).replace(/[-.]+$/, '');
  return `${prefix}-${nameHash(scalerName)}${HASHED_CONFIG_MAP_SUFFIX}`;
}

/** The scaler name as a label value (at most 63 characters); longer names become `<prefix>_<hash>`. */
export function scalerLabelValue(scalerName: string): string {
  if (scalerName.length <= MAX_LABEL_VALUE_LENGTH) return scalerName;
  // A label value may hold '-', '.' and '_' anywhere but at its ends, and the prefix starts as the name does.
  const prefix = scalerName.slice(0, MAX_LABEL_VALUE_LENGTH - NAME_HASH_LENGTH - LABEL_HASH_SEPARATOR.length);
  return `${prefix}${LABEL_HASH_SEPARATOR}${nameHash(scalerName)}`;
}

function nameHash(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, NAME_HASH_LENGTH);
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

/**
 * The entry for `record`, its MAC computed with `key` over the store format, the binding, the
 * envelope metadata and the payload's JSON text.
 */
export async function encodeEntry(record: ModelRecord, meta: EnvelopeMeta, key: Buffer, binding: EntryBinding): Promise<Buffer> {
  requireSigningKey(key);
  const payloadJson = JSON.stringify(record);
  const mac = entryMac(key, binding, meta.operatorVersion, meta.savedAt, payloadJson);
  const envelope = `{"storeFormat":${STORE_FORMAT},"operatorVersion":${JSON.stringify(meta.operatorVersion)},"savedAt":${JSON.stringify(meta.savedAt)},"hmacSha256":"${mac}","payload":${payloadJson}}`;
  return gzipAsync(Buffer.from(envelope, 'utf8'));
}

/**
 * Never throws: anything that is not an intact envelope of this store format, signed with `key` for
 * `binding`, comes back with the reason. The reason never holds a MAC this operator computed: it ends
 * up in an annotation tenants can read, and a MAC of their own payload would let them forge one.
 */
export async function decodeEntry(bytes: Uint8Array, key: Buffer, binding: EntryBinding): Promise<DecodedEntry> {
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
  const { storeFormat, operatorVersion, savedAt, hmacSha256, payload } = envelope;
  const writer = typeof operatorVersion === 'string' ? ` written by operator ${JSON.stringify(operatorVersion.slice(0, 64))}` : '';
  if (storeFormat !== STORE_FORMAT) {
    return { ok: false, reason: `entry has store format ${JSON.stringify(storeFormat)?.slice(0, 32)}${writer}; this operator reads format ${STORE_FORMAT}` };
  }
  if (typeof operatorVersion !== 'string' || typeof savedAt !== 'string' || typeof hmacSha256 !== 'string') {
    return { ok: false, reason: 'entry is not a model envelope (operatorVersion, savedAt or hmacSha256 missing)' };
  }
  if (!isPlainObject(payload)) return { ok: false, reason: `entry payload is not a JSON object${writer}` };
  if (!/^[0-9a-f]+$/.test(hmacSha256) || hmacSha256.length !== MAC_HEX_LENGTH) {
    return { ok: false, reason: `entry MAC is not ${MAC_HEX_LENGTH} lowercase hex digits${writer}` };
  }
  requireSigningKey(key);
  // JSON.stringify(JSON.parse(s)) reproduces s for text JSON.stringify wrote, so this is the signed text.
  const expected = Buffer.from(entryMac(key, binding, operatorVersion, savedAt, JSON.stringify(payload)), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(hmacSha256, 'hex'))) {
    return {
      ok: false,
      reason: `entry MAC does not verify${writer}: it was not saved by this operator for ${binding.namespace}/${binding.scaler} (uid ${binding.uid}) metric ${binding.metric}, or was altered since`,
    };
  }
  return { ok: true, record: payload, operatorVersion, savedAt };
}

function entryMac(key: Buffer, binding: EntryBinding, operatorVersion: string, savedAt: string, payloadJson: string): string {
  // A JSON array keeps the fields apart unambiguously, whatever characters they hold.
  const header = JSON.stringify([STORE_FORMAT, binding.namespace, binding.scaler, binding.uid, binding.metric, operatorVersion, savedAt]);
  return createHmac('sha256', key).update(header, 'utf8').update('\n', 'utf8').update(payloadJson, 'utf8').digest('hex');
}

function requireSigningKey(key: Buffer): void {
  if (key.length < MIN_SIGNING_KEY_BYTES) throw new RangeError(`the model signing key has ${key.length} bytes; it needs at least ${MIN_SIGNING_KEY_BYTES}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
