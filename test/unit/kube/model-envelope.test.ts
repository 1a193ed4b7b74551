import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  configMapDataBytes,
  decodeEntry,
  encodeEntry,
  entryKey,
  isValidMetricName,
  modelConfigMapName,
  scalerLabelValue,
  STORE_FORMAT,
} from '../../../src/kube/model-envelope.js';

const META = { operatorVersion: '0.1.0', savedAt: '2026-03-02T14:00:00.000Z' };
const RECORD = { model: 'HoltWinters', format: 2, alpha: 0.31, season: [1.5, -0.25, 1e-9], nested: { ok: true, note: 'é ✓' } };

/** An entry built by hand, independently of encodeEntry, to pin the stored layout. */
function handMadeEntry(envelope: Record<string, unknown>): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(envelope)));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** DNS-1123 subdomain, what the API server requires of a ConfigMap name. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('encodeEntry / decodeEntry', () => {
  it('round-trips a record with the envelope metadata', async () => {
    const decoded = await decodeEntry(await encodeEntry(RECORD, META));
    expect(decoded).toEqual({ ok: true, record: RECORD, ...META });
  });

  it('stores gzip of {storeFormat, operatorVersion, savedAt, sha256 of the payload JSON, payload}', async () => {
    const envelope = JSON.parse(gunzipSync(await encodeEntry(RECORD, META)).toString('utf8'));
    expect(envelope).toEqual({
      storeFormat: STORE_FORMAT,
      operatorVersion: META.operatorVersion,
      savedAt: META.savedAt,
      sha256: sha256Hex(JSON.stringify(RECORD)),
      payload: RECORD,
    });
    expect(STORE_FORMAT).toBe(1);
  });

  it('reads an entry another writer produced in the same layout', async () => {
    const entry = handMadeEntry({ storeFormat: 1, operatorVersion: '0.0.9', savedAt: META.savedAt, sha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    expect(await decodeEntry(entry)).toEqual({ ok: true, record: RECORD, operatorVersion: '0.0.9', savedAt: META.savedAt });
  });

  it('rejects bytes that are not gzip', async () => {
    const decoded = await decodeEntry(Buffer.from('definitely not gzip'));
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });

  it('rejects a truncated entry', async () => {
    const entry = await encodeEntry(RECORD, META);
    const decoded = await decodeEntry(entry.subarray(0, entry.length - 12));
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });

  it('rejects gzip that does not hold JSON', async () => {
    const decoded = await decodeEntry(gzipSync(Buffer.from('{"storeFormat":1,')));
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
  });

  it.each([
    ['an array', [1, 2]],
    ['a number', 42],
    ['null', null],
  ])('rejects JSON that is %s', async (_label, value) => {
    const decoded = await decodeEntry(gzipSync(Buffer.from(JSON.stringify(value))));
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('not a model envelope') });
  });

  it('rejects another store format and names both formats and the writer', async () => {
    const entry = handMadeEntry({ storeFormat: 2, operatorVersion: '0.9.0', savedAt: META.savedAt, sha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    const decoded = await decodeEntry(entry);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toContain('store format 2');
    expect(decoded.reason).toContain('reads format 1');
    expect(decoded.reason).toContain('0.9.0');
  });

  it('rejects an envelope without its storeFormat', async () => {
    const entry = handMadeEntry({ operatorVersion: '0.1.0', savedAt: META.savedAt, sha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    expect(await decodeEntry(entry)).toMatchObject({ ok: false, reason: expect.stringContaining('store format undefined') });
  });

  it('rejects an envelope missing its checksum', async () => {
    const entry = handMadeEntry({ storeFormat: 1, operatorVersion: '0.1.0', savedAt: META.savedAt, payload: RECORD });
    expect(await decodeEntry(entry)).toMatchObject({ ok: false, reason: expect.stringContaining('sha256 missing') });
  });

  it('rejects a payload that does not match its checksum', async () => {
    const tampered = { ...RECORD, alpha: 0.32 };
    const entry = handMadeEntry({ storeFormat: 1, operatorVersion: '0.1.0', savedAt: META.savedAt, sha256: sha256Hex(JSON.stringify(RECORD)), payload: tampered });
    expect(await decodeEntry(entry)).toMatchObject({ ok: false, reason: expect.stringContaining('checksum mismatch') });
  });

  it('rejects a payload that is not an object', async () => {
    const entry = handMadeEntry({ storeFormat: 1, operatorVersion: '0.1.0', savedAt: META.savedAt, sha256: sha256Hex('[1]'), payload: [1] });
    expect(await decodeEntry(entry)).toMatchObject({ ok: false, reason: expect.stringContaining('payload is not a JSON object') });
  });

  it('refuses to inflate a gzip bomb', async () => {
    // Concatenated gzip members inflate as one stream: 20 MiB of spaces from a few dozen KiB.
    const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    const bomb = Buffer.concat(Array.from({ length: 20 }, () => member));
    const decoded = await decodeEntry(bomb);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });
});

describe('entryKey', () => {
  it('is the metric name with .json.gz', () => {
    expect(entryKey('rps')).toBe('rps.json.gz');
    expect(entryKey('queue_depth.v2')).toBe('queue_depth.v2.json.gz');
  });

  it.each(['', '-rps', 'rps.', 'r/ps', 'r ps', 'x'.repeat(64)])('throws for the invalid metric name %j', (metric) => {
    expect(isValidMetricName(metric)).toBe(false);
    expect(() => entryKey(metric)).toThrow(/not valid/);
  });

  it('accepts the longest metric name the CRD allows', () => {
    expect(isValidMetricName('x'.repeat(63))).toBe(true);
  });
});

describe('modelConfigMapName', () => {
  it('is <scaler>-prescale-models', () => {
    expect(modelConfigMapName('web')).toBe('web-prescale-models');
    expect(modelConfigMapName('api.v2')).toBe('api.v2-prescale-models');
  });

  it('keeps the longest names that fit as they are', () => {
    const name = 'a'.repeat(253 - '-prescale-models'.length);
    expect(modelConfigMapName(name)).toBe(`${name}-prescale-models`);
  });

  it.each([
    ['a plain long name', 'a'.repeat(253)],
    ['a dotted long name cut at a dot', `${'a'.repeat(225)}.${'b'.repeat(27)}`],
    ['a long name cut at a dash', `${'a'.repeat(225)}-${'b'.repeat(27)}`],
  ])('shortens %s to a valid name of at most 253 characters', (_label, scaler) => {
    const name = modelConfigMapName(scaler);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name.endsWith('-prescale-models')).toBe(true);
  });

  it('gives long names that share a prefix different ConfigMaps', () => {
    const prefix = 'a'.repeat(240);
    expect(modelConfigMapName(`${prefix}-one`)).not.toBe(modelConfigMapName(`${prefix}-two`));
  });
});

describe('scalerLabelValue', () => {
  it('is the scaler name when it fits in a label value', () => {
    expect(scalerLabelValue('web')).toBe('web');
    expect(scalerLabelValue('b'.repeat(63))).toBe('b'.repeat(63));
  });

  it('shortens longer names to a valid, distinct label value', () => {
    const one = scalerLabelValue(`${'a'.repeat(62)}.one`);
    const two = scalerLabelValue(`${'a'.repeat(62)}.two`);
    for (const value of [one, two]) {
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(LABEL_VALUE);
    }
    expect(one).not.toBe(two);
  });
});

describe('configMapDataBytes', () => {
  it('counts keys and values, binaryData decoded from base64', () => {
    const bytes = configMapDataBytes({
      data: { note: 'héllo' },
      binaryData: { 'rps.json.gz': Buffer.alloc(1000).toString('base64') },
    });
    expect(bytes).toBe('note'.length + 6 + 'rps.json.gz'.length + 1000);
  });

  it('is zero for an empty ConfigMap', () => {
    expect(configMapDataBytes({})).toBe(0);
  });
});
