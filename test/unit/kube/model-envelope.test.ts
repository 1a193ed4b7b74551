import { createHash, createHmac, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
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
  type EntryBinding,
} from '../../../src/kube/model-envelope.js';

const META = { operatorVersion: '0.1.0', savedAt: '2026-03-02T14:00:00.000Z' };
const RECORD = { model: 'HoltWinters', format: 2, alpha: 0.31, season: [1.5, -0.25, 1e-9], nested: { ok: true, note: 'é ✓' } };
const KEY = Buffer.alloc(32, 7);
const BINDING: EntryBinding = { namespace: 'shop', scaler: 'web', uid: '0b7c2f52-5e1d-4a57-9d0e-3f7e2c1a9b10', metric: 'rps' };

/** An entry built by hand, independently of encodeEntry, to pin the stored layout. */
function handMadeEntry(envelope: Record<string, unknown>): Buffer {
  return gzipSync(Buffer.from(JSON.stringify(envelope)));
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The MAC as the layout defines it, computed here without the module's code. */
function macHex(key: Buffer, binding: EntryBinding, meta: typeof META, payload: unknown): string {
  const header = JSON.stringify([STORE_FORMAT, binding.namespace, binding.scaler, binding.uid, binding.metric, meta.operatorVersion, meta.savedAt]);
  return createHmac('sha256', key).update(`${header}\n${JSON.stringify(payload)}`).digest('hex');
}

function signed(payload: unknown, overrides: Record<string, unknown> = {}, key = KEY, binding = BINDING): Buffer {
  return handMadeEntry({ storeFormat: STORE_FORMAT, ...META, hmacSha256: macHex(key, binding, META, payload), payload, ...overrides });
}

/** DNS-1123 subdomain, what the API server requires of a ConfigMap name. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe('encodeEntry / decodeEntry', () => {
  it('round-trips a record with the envelope metadata', async () => {
    const decoded = await decodeEntry(await encodeEntry(RECORD, META, KEY, BINDING), KEY, BINDING);
    expect(decoded).toEqual({ ok: true, record: RECORD, ...META });
  });

  it('stores gzip of {storeFormat, operatorVersion, savedAt, hmacSha256 over the binding and payload, payload}', async () => {
    const envelope = JSON.parse(gunzipSync(await encodeEntry(RECORD, META, KEY, BINDING)).toString('utf8'));
    expect(envelope).toEqual({
      storeFormat: STORE_FORMAT,
      operatorVersion: META.operatorVersion,
      savedAt: META.savedAt,
      hmacSha256: macHex(KEY, BINDING, META, RECORD),
      payload: RECORD,
    });
    expect(STORE_FORMAT).toBe(2);
  });

  it('reads an entry another replica signed with the same key', async () => {
    const entry = signed(RECORD);
    expect(await decodeEntry(entry, Buffer.from(KEY), BINDING)).toEqual({ ok: true, record: RECORD, ...META });
  });

  it('refuses to sign or verify with a key shorter than 32 bytes', async () => {
    await expect(encodeEntry(RECORD, META, Buffer.alloc(16), BINDING)).rejects.toThrow(/at least 32/);
    await expect(decodeEntry(signed(RECORD), Buffer.alloc(16), BINDING)).rejects.toThrow(/at least 32/);
  });

  it('rejects bytes that are not gzip', async () => {
    const decoded = await decodeEntry(Buffer.from('definitely not gzip'), KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });

  it('rejects a truncated entry', async () => {
    const entry = await encodeEntry(RECORD, META, KEY, BINDING);
    const decoded = await decodeEntry(entry.subarray(0, entry.length - 12), KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });

  it('rejects gzip that does not hold JSON', async () => {
    const decoded = await decodeEntry(gzipSync(Buffer.from('{"storeFormat":2,')), KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('not JSON') });
  });

  it.each([
    ['an array', [1, 2]],
    ['a number', 42],
    ['null', null],
  ])('rejects JSON that is %s', async (_label, value) => {
    const decoded = await decodeEntry(gzipSync(Buffer.from(JSON.stringify(value))), KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('not a model envelope') });
  });

  it('rejects an entry in the layout of store format 1 (unkeyed sha256), naming both formats and the writer', async () => {
    const entry = handMadeEntry({ storeFormat: 1, operatorVersion: '0.0.9', savedAt: META.savedAt, sha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    const decoded = await decodeEntry(entry, KEY, BINDING);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.reason).toContain('store format 1');
    expect(decoded.reason).toContain('reads format 2');
    expect(decoded.reason).toContain('0.0.9');
  });

  it('rejects an envelope without its storeFormat', async () => {
    const entry = handMadeEntry({ ...META, hmacSha256: macHex(KEY, BINDING, META, RECORD), payload: RECORD });
    expect(await decodeEntry(entry, KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('store format undefined') });
  });

  it('rejects a format-2 envelope that carries a recomputed sha256 instead of a MAC', async () => {
    const entry = handMadeEntry({ storeFormat: 2, ...META, sha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    expect(await decodeEntry(entry, KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('hmacSha256 missing') });
    const asMac = handMadeEntry({ storeFormat: 2, ...META, hmacSha256: sha256Hex(JSON.stringify(RECORD)), payload: RECORD });
    expect(await decodeEntry(asMac, KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('MAC does not verify') });
  });

  it('rejects an altered payload, and its reason holds no MAC this key computed', async () => {
    const tampered = { ...RECORD, alpha: 0.32 };
    const entry = signed(RECORD, { payload: tampered });
    const decoded = await decodeEntry(entry, KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('MAC does not verify') });
    const reason = (decoded as { reason: string }).reason;
    expect(reason).not.toContain(macHex(KEY, BINDING, META, tampered));
    expect(reason).not.toMatch(/[0-9a-f]{64}/);
  });

  it('rejects altered metadata (savedAt, operatorVersion)', async () => {
    for (const overrides of [{ savedAt: '2030-01-01T00:00:00.000Z' }, { operatorVersion: '9.9.9' }]) {
      expect(await decodeEntry(signed(RECORD, overrides), KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('MAC does not verify') });
    }
  });

  it('rejects an entry signed with another key', async () => {
    const entry = signed(RECORD, {}, randomBytes(32));
    expect(await decodeEntry(entry, KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('MAC does not verify') });
  });

  it.each<[string, Partial<EntryBinding>]>([
    ['another namespace', { namespace: 'other' }],
    ['another scaler', { scaler: 'api' }],
    ['an earlier scaler of the same name', { uid: '11111111-2222-3333-4444-555555555555' }],
    ['another metric', { metric: 'latency' }],
  ])('rejects a genuine entry moved to %s', async (_label, moved) => {
    const entry = await encodeEntry(RECORD, META, KEY, BINDING);
    expect(await decodeEntry(entry, KEY, { ...BINDING, ...moved })).toMatchObject({ ok: false, reason: expect.stringContaining('MAC does not verify') });
  });

  it.each<[string, unknown]>([
    ['too short', 'ab'.repeat(31)],
    ['too long', 'ab'.repeat(33)],
    ['not hex', 'zz'.repeat(32)],
    ['uppercase', 'AB'.repeat(32)],
    ['a number', 42],
    ['null', null],
  ])('rejects a MAC that is %s without comparing it', async (_label, hmacSha256) => {
    const decoded = await decodeEntry(signed(RECORD, { hmacSha256 }), KEY, BINDING);
    expect(decoded.ok).toBe(false);
    expect((decoded as { reason: string }).reason).toMatch(/MAC is not 64 lowercase hex digits|hmacSha256 missing/);
  });

  it.each<[string, Record<string, unknown>]>([
    ['operatorVersion a number', { operatorVersion: 1 }],
    ['savedAt missing', { savedAt: undefined }],
    ['storeFormat a string', { storeFormat: '2' }],
  ])('rejects an envelope with %s', async (_label, overrides) => {
    expect(await decodeEntry(signed(RECORD, overrides), KEY, BINDING)).toMatchObject({ ok: false });
  });

  it('rejects a payload that is not an object', async () => {
    const entry = signed([1]);
    expect(await decodeEntry(entry, KEY, BINDING)).toMatchObject({ ok: false, reason: expect.stringContaining('payload is not a JSON object') });
  });

  it('refuses to inflate a gzip bomb', async () => {
    // Concatenated gzip members inflate as one stream: 20 MiB of spaces from a few dozen KiB.
    const member = gzipSync(Buffer.alloc(1024 * 1024, 0x20));
    const bomb = Buffer.concat(Array.from({ length: 20 }, () => member));
    const decoded = await decodeEntry(bomb, KEY, BINDING);
    expect(decoded).toMatchObject({ ok: false, reason: expect.stringContaining('does not gunzip') });
  });

  it('never throws and never accepts arbitrary bytes or arbitrary JSON envelopes', async () => {
    const envelope = fc.record({
      storeFormat: fc.oneof(fc.constant(2), fc.anything()),
      operatorVersion: fc.oneof(fc.string(), fc.anything()),
      savedAt: fc.oneof(fc.string(), fc.anything()),
      hmacSha256: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.anything()),
      payload: fc.oneof(fc.object(), fc.anything()),
    }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 256 }).map((b) => Buffer.from(b)), envelope.map((e) => handMadeEntry(e))), async (bytes) => {
        const decoded = await decodeEntry(bytes, KEY, BINDING);
        expect(decoded.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
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

/** Valid scaler names (DNS-1123 subdomains), short and long, with the dots and dashes that cuts land on. */
const labelChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'.split(''));
const innerChars = fc.constantFrom(...'abz09-'.split(''), 'a', 'b');
const dnsLabel = fc
  .tuple(labelChars, fc.array(innerChars, { maxLength: 70 }), labelChars)
  .map(([first, middle, last]) => `${first}${middle.join('')}${last}`)
  .filter((label) => !label.endsWith('-'));
const scalerName = fc
  .array(dnsLabel, { minLength: 1, maxLength: 8 })
  .map((labels) => labels.join('.'))
  .filter((name) => name.length <= 253 && DNS_SUBDOMAIN.test(name));
/** Names too long for `<scaler>-prescale-models` (238 to 253 characters). */
const longScalerName = fc
  .tuple(fc.array(dnsLabel, { minLength: 1, maxLength: 6 }), fc.integer({ min: 238, max: 253 }))
  .map(([labels, length]) => {
    let name = labels.join('.');
    while (name.length < length) name = `${name}.${labels.join('.')}`;
    return name.slice(0, length).replace(/[-.]+$/, '');
  })
  .filter((name) => name.length > 237 && DNS_SUBDOMAIN.test(name));
/** Pairs that are often near-identical: a shared long prefix with different tails. */
const namePair = fc.oneof(
  fc.tuple(scalerName, scalerName),
  fc.tuple(longScalerName, longScalerName),
  fc.tuple(scalerName, longScalerName),
  fc.tuple(fc.integer({ min: 150, max: 245 }), dnsLabel, dnsLabel).map(([n, a, b]) => {
    const prefix = 'p'.repeat(n);
    return [`${prefix}.${a}`.slice(0, 253).replace(/[-.]+$/, ''), `${prefix}.${b}`.slice(0, 253).replace(/[-.]+$/, '')] as [string, string];
  }),
  // A short name shaped like a long name's shortened form, which must not take that form's ConfigMap.
  longScalerName.map((long) => {
    const shortened = modelConfigMapName(long);
    return [long, shortened.slice(0, -'.prescale-models'.length)] as [string, string];
  }),
);

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
    ['a dotted long name cut at a dot', `${'a'.repeat(203)}.${'b'.repeat(49)}`],
    ['a long name cut at a dash', `${'a'.repeat(203)}-${'b'.repeat(49)}`],
  ])('shortens %s to a valid name of at most 253 characters, ending .prescale-models', (_label, scaler) => {
    const name = modelConfigMapName(scaler);
    expect(name.length).toBeLessThanOrEqual(253);
    expect(name).toMatch(DNS_SUBDOMAIN);
    expect(name.endsWith('.prescale-models')).toBe(true);
  });

  it('never gives two valid scaler names the same ConfigMap (short, long, and shaped like a shortened name)', () => {
    fc.assert(
      fc.property(namePair, ([a, b]) => {
        fc.pre(a !== b && DNS_SUBDOMAIN.test(b) && b.length <= 253);
        expect(modelConfigMapName(a)).not.toBe(modelConfigMapName(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives every valid scaler name a valid ConfigMap name', () => {
    fc.assert(
      fc.property(fc.oneof(scalerName, longScalerName), (name) => {
        const configMap = modelConfigMapName(name);
        expect(configMap.length).toBeLessThanOrEqual(253);
        expect(configMap).toMatch(DNS_SUBDOMAIN);
      }),
      { numRuns: 1000 },
    );
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
      expect(value).toContain('_');
    }
    expect(one).not.toBe(two);
  });

  it('never gives two valid scaler names the same label value, and every one is a valid label value', () => {
    fc.assert(
      fc.property(namePair, ([a, b]) => {
        fc.pre(a !== b);
        expect(scalerLabelValue(a)).not.toBe(scalerLabelValue(b));
        expect(scalerLabelValue(a)).toMatch(LABEL_VALUE);
        expect(scalerLabelValue(a).length).toBeLessThanOrEqual(63);
      }),
      { numRuns: 2000 },
    );
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
