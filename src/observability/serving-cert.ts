// The certificate HTTPS /metrics serves: tls.crt and tls.key from a directory (a mounted
// kubernetes.io/tls Secret, e.g. from cert-manager), or a self-signed one made at start.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate } from './self-signed-cert.js';

export interface ServingCertificate {
  cert: string;
  key: string;
  /** Where it came from, for the start-up log line. */
  source: string;
}

const SELF_SIGNED_VALIDITY_MS = 365 * 24 * 3600 * 1000;

export async function loadServingCertificate(certDir: string | undefined, now: () => number): Promise<ServingCertificate> {
  if (certDir === undefined) {
    const created = selfSignedCertificate({
      commonName: 'prescale-metrics',
      hosts: [...new Set([hostname(), 'localhost', '127.0.0.1', '::1'])],
      // An hour of slack for clocks behind ours.
      notBefore: new Date(now() - 3600_000),
      validForMs: SELF_SIGNED_VALIDITY_MS,
    });
    return { ...created, source: 'self-signed (generated at start)' };
  }
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(certDir, 'tls.key');
  const cert = await readPem(certFile, '--metrics-cert-dir');
  const key = await readPem(keyFile, '--metrics-cert-dir');
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`--metrics-cert-dir: ${certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`--metrics-cert-dir: ${keyFile} is not a PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new Error(`--metrics-cert-dir: ${keyFile} is not the key of the certificate in ${certFile}`);
  return { cert, key, source: certDir };
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${flag}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
