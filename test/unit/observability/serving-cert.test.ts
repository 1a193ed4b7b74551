import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../src/observability/self-signed-cert.js';
import { loadServingCertificate } from '../../../src/observability/serving-cert.js';

const DAY = 24 * 3600 * 1000;

describe('selfSignedCertificate', () => {
  it('makes a certificate that OpenSSL parses, signed by its own key, for the given names and addresses', () => {
    const notBefore = new Date('2026-03-01T12:00:00Z');
    const { cert, key } = selfSignedCertificate({ commonName: 'prescale-metrics', hosts: ['localhost', 'prescale-7d9f', '127.0.0.1', '::1', 'fd00::1:2'], notBefore, validForMs: 365 * DAY });
    const x509 = new X509Certificate(cert);
    expect(x509.subject).toBe('CN=prescale-metrics');
    expect(x509.issuer).toBe('CN=prescale-metrics');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(x509.checkHost('prescale-7d9f')).toBe('prescale-7d9f');
    expect(x509.checkHost('example.com')).toBeUndefined();
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('fd00::1:2')).toBe('fd00::1:2');
    expect(new Date(x509.validFrom).toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(new Date(x509.validTo).getTime() - notBefore.getTime()).toBe(365 * DAY);
  });

  it('writes dates from 2050 on as GeneralizedTime, and a fresh serial number each time', () => {
    const options = { commonName: 'x', hosts: ['localhost'], notBefore: new Date('2049-12-31T00:00:00Z'), validForMs: 2 * DAY };
    const a = new X509Certificate(selfSignedCertificate(options).cert);
    const b = new X509Certificate(selfSignedCertificate(options).cert);
    expect(new Date(a.validTo).toISOString()).toBe('2050-01-02T00:00:00.000Z');
    expect(a.serialNumber).not.toBe(b.serialNumber);
  });
});

describe('loadServingCertificate', () => {
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
  const certDir = async (files: Record<string, string>) => {
    const dir = await mkdtemp(join(tmpdir(), 'prescale-cert-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    return dir;
  };
  const pair = () => selfSignedCertificate({ commonName: 'm', hosts: ['localhost'], notBefore: new Date(), validForMs: DAY });

  it('makes a self-signed certificate valid now when no directory is given', async () => {
    const loaded = await loadServingCertificate(undefined, Date.now);
    const x509 = new X509Certificate(loaded.cert);
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(Date.now());
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(loaded.source).toMatch(/self-signed/);
  });

  it('reads tls.crt and tls.key from the directory', async () => {
    const { cert, key } = pair();
    const dir = await certDir({ 'tls.crt': cert, 'tls.key': key });
    expect(await loadServingCertificate(dir, Date.now)).toEqual({ cert, key, source: dir });
  });

  it('names the file and what is wrong with it', async () => {
    const first = pair();
    const second = pair();
    await expect(loadServingCertificate(await certDir({ 'tls.crt': first.cert }), Date.now)).rejects.toThrow(/--metrics-cert-dir: cannot read .*tls\.key: ENOENT/);
    await expect(loadServingCertificate(await certDir({ 'tls.crt': 'junk', 'tls.key': first.key }), Date.now)).rejects.toThrow(/tls\.crt is not a PEM certificate/);
    await expect(loadServingCertificate(await certDir({ 'tls.crt': first.cert, 'tls.key': 'junk' }), Date.now)).rejects.toThrow(/tls\.key is not a PEM private key/);
    await expect(loadServingCertificate(await certDir({ 'tls.crt': first.cert, 'tls.key': second.key }), Date.now)).rejects.toThrow(/tls\.key is not the key of the certificate/);
  });
});
