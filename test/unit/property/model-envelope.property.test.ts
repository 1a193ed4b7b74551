// Properties of model entries beyond test/unit/kube/model-envelope.test.ts (which covers arbitrary
// bytes, arbitrary envelopes and ConfigMap names): any record survives the round trip, any change
// to a genuine entry's bytes, binding or key is refused without an exception, and no refusal
// reason (which tenants read in an annotation) is long or carries a MAC.
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, STORE_FORMAT, type EntryBinding, type ModelRecord } from '../../../src/kube/model-envelope.js';
import { RUNS } from './hostile.js';

const KEY = Buffer.alloc(32, 11);
const META = { operatorVersion: '0.1.0', savedAt: '2026-03-02T14:00:00.000Z' };
const BINDING: EntryBinding = { namespace: 'shop', scaler: 'web', uid: '4f1c6a0e-8d7b-4c1e-9a3f-2b5d7e9c1a20', metric: 'rps' };
const ASYNC_RUNS = { ...RUNS, numRuns: 150 };

/**
 * A reason tenants may read: short, and without any 64-hex-digit run that could be a MAC the
 * operator computed (one copied from the entry's own text tells its writer nothing new).
 */
function expectSafeReason(reason: string, entryText = ''): void {
  expect(reason.length).toBeGreaterThan(0);
  expect(reason.length, reason).toBeLessThanOrEqual(600);
  for (const hex of reason.match(/[0-9a-f]{64}/g) ?? []) expect(entryText, `reason "${reason}" holds ${hex}`).toContain(hex);
}

const record: fc.Arbitrary<ModelRecord> = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

const binding: fc.Arbitrary<EntryBinding> = fc.record({
  namespace: fc.string({ minLength: 1, maxLength: 12 }),
  scaler: fc.string({ minLength: 1, maxLength: 12 }),
  uid: fc.uuid(),
  metric: fc.string({ minLength: 1, maxLength: 12 }),
});

const meta = fc.record({ operatorVersion: fc.string({ unit: 'grapheme', maxLength: 12 }), savedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) });

describe('encodeEntry and decodeEntry', () => {
  it('read back any JSON record with its metadata, for any binding', async () => {
    await fc.assert(
      fc.asyncProperty(record, meta, binding, async (r, m, b) => {
        const decoded = await decodeEntry(await encodeEntry(r, m, KEY, b), KEY, b);
        expect(decoded).toEqual({ ok: true, record: JSON.parse(JSON.stringify(r)), operatorVersion: m.operatorVersion, savedAt: m.savedAt });
      }),
      ASYNC_RUNS,
    );
  });

  it('refuse a genuine entry under any other binding or key', async () => {
    const otherBinding = fc
      .tuple(fc.constantFrom<keyof EntryBinding>('namespace', 'scaler', 'uid', 'metric'), fc.string({ maxLength: 12 }))
      .filter(([field, value]) => BINDING[field] !== value)
      .map(([field, value]) => ({ ...BINDING, [field]: value }));
    const entry = await encodeEntry({ model: 'HoltWinters', alpha: 0.3 }, META, KEY, BINDING);
    await fc.assert(
      fc.asyncProperty(otherBinding, fc.uint8Array({ minLength: 32, maxLength: 64 }), async (b, otherKey) => {
        const moved = await decodeEntry(entry, KEY, b);
        expect(moved.ok).toBe(false);
        if (!moved.ok) expectSafeReason(moved.reason);
        fc.pre(!Buffer.from(otherKey).equals(KEY));
        const forged = await decodeEntry(entry, Buffer.from(otherKey), BINDING);
        expect(forged.ok).toBe(false);
        if (!forged.ok) expectSafeReason(forged.reason);
      }),
      ASYNC_RUNS,
    );
  });

  it('refuse any genuine entry with a byte changed, or cut short, and never throw', async () => {
    const entry = await encodeEntry({ model: 'Linear', slope: 1.25, residuals: 'AAAAAAAA8D8=' }, META, KEY, BINDING);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: entry.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), async (at, xor, truncate) => {
        const bytes = Buffer.from(entry);
        if (truncate) {
          const decoded = await decodeEntry(bytes.subarray(0, at), KEY, BINDING);
          expect(decoded.ok).toBe(false);
          if (!decoded.ok) expectSafeReason(decoded.reason);
          return;
        }
        bytes[at] = bytes[at]! ^ xor;
        const decoded = await decodeEntry(bytes, KEY, BINDING);
        // A changed byte of the gzip header's mtime, flags or OS field still inflates to the same
        // envelope: that entry is genuine. Every other change must be refused.
        if (decoded.ok) expect(decoded.record).toEqual({ model: 'Linear', slope: 1.25, residuals: 'AAAAAAAA8D8=' });
        else expectSafeReason(decoded.reason);
      }),
      { ...ASYNC_RUNS, numRuns: 300 },
    );
  });

  it('refuse hostile envelopes with a short reason, however long their fields are', async () => {
    const long = fc.integer({ min: 1000, max: 50_000 }).map((n) => 'f'.repeat(n));
    const envelope = fc.record({
      storeFormat: fc.oneof(fc.constant(STORE_FORMAT), fc.constant(1), long),
      operatorVersion: fc.oneof(long, fc.string({ unit: 'binary' })),
      savedAt: fc.oneof(long, fc.string()),
      hmacSha256: fc.oneof(long, fc.stringMatching(/^[0-9a-f]{64}$/), fc.stringMatching(/^[0-9A-F]{64}$/)),
      sha256: fc.stringMatching(/^[0-9a-f]{64}$/),
      payload: fc.oneof(fc.dictionary(long, long, { maxKeys: 2 }), long),
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(envelope.map((e) => JSON.stringify(e)), long.map((s) => `{"a":${s}`), long), async (text) => {
        const decoded = await decodeEntry(gzipSync(Buffer.from(text)), KEY, BINDING);
        expect(decoded.ok).toBe(false);
        if (!decoded.ok) expectSafeReason(decoded.reason, text);
      }),
      { ...ASYNC_RUNS, numRuns: 100 },
    );
  });

  it('refuse decompression bombs of any shape without inflating them whole', async () => {
    // 17 MiB inflates past the 16 MiB bound; the compressed bytes are a few KiB.
    const bombs = [Buffer.alloc(17 * 1024 * 1024, 0x20), Buffer.from(`{"payload":"${'a'.repeat(17 * 1024 * 1024)}"}`)].map((b) => gzipSync(b, { level: 9 }));
    for (const bomb of bombs) {
      expect(bomb.length).toBeLessThan(64 * 1024);
      const decoded = await decodeEntry(bomb, KEY, BINDING);
      expect(decoded.ok).toBe(false);
      if (!decoded.ok) expectSafeReason(decoded.reason);
    }
  });
});
