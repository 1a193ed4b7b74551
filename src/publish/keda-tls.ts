// The KEDA scaler's transport security, read once at start from a directory laid out as a mounted
// kubernetes.io/tls Secret (cert-manager writes the same three names):
//   tls.crt, tls.key  the serving certificate and its key (required);
//   ca.crt            when present, client certificates are required and verified against it (the
//                     ScaledObject's TriggerAuthentication then gives KEDA tlsClientCert and
//                     tlsClientKey, and caCert to verify this server).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';

export interface KedaTls {
  credentials: ServerCredentials;
  /** Whether client certificates are required (ca.crt present). */
  clientAuth: boolean;
}

export async function loadKedaTls(certDir: string): Promise<KedaTls> {
  const certFile = join(certDir, 'tls.crt');
  const keyFile = join(certDir, 'tls.key');
  const caFile = join(certDir, 'ca.crt');
  const cert = await readRequired(certFile);
  const key = await readRequired(keyFile);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`KEDA scaler TLS: ${certFile} is not a PEM certificate (${(err as Error).message})`);
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`KEDA scaler TLS: ${keyFile} is not a PEM private key (${(err as Error).message})`);
  }
  if (!leaf.checkPrivateKey(privateKey)) throw new Error(`KEDA scaler TLS: ${keyFile} is not the key of the certificate in ${certFile}`);

  let ca: Buffer | undefined;
  try {
    ca = await readFile(caFile);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new Error(`KEDA scaler TLS: cannot read ${caFile}: ${code ?? (err as Error).message}`);
  }
  // An empty ca.crt (a Secret with the key but no value) would silently trust nobody; say so.
  if (ca !== undefined) {
    try {
      new X509Certificate(ca);
    } catch (err) {
      throw new Error(`KEDA scaler TLS: ${caFile} is not a PEM certificate (${(err as Error).message}); remove it to serve without client certificates`);
    }
  }
  return {
    credentials: ServerCredentials.createSsl(ca ?? null, [{ cert_chain: cert, private_key: key }], ca !== undefined),
    clientAuth: ca !== undefined,
  };
}

async function readRequired(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`KEDA scaler TLS: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
