// The KEDA scaler's TLS, with certificates made by the openssl CLI: server-only TLS, and client
// certificates required when the directory has a ca.crt (KEDA's tlsClientCert/tlsClientKey/caCert).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/observability/logger.js';
import { KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS, startKedaScaler, type KedaScaler } from '../../../src/publish/keda-scaler.js';
import type { PublishedSource } from '../../../src/publish/source.js';

const logger = createLogger({ level: 'silent' });
let dir: string;
let ClientCtor: grpc.ServiceClientConstructor;

const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });

/** A key and a certificate signed by `ca`, with the extensions given. */
function issue(name: string, ca: string, extensions: string): void {
  openssl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial', String(Date.now()), '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
}

function makeCa(name: string): void {
  openssl(
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
}

/** A certificate directory as a kubernetes.io/tls Secret mounts it. */
function certDir(name: string, withCa: boolean): string {
  const d = join(dir, name);
  mkdirSync(d);
  copyFileSync(join(dir, 'server.crt'), join(d, 'tls.crt'));
  copyFileSync(join(dir, 'server.key'), join(d, 'tls.key'));
  if (withCa) copyFileSync(join(dir, 'ca.crt'), join(d, 'ca.crt'));
  return d;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'prescale-keda-tls-'));
  makeCa('ca');
  makeCa('other-ca');
  issue('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  issue('client', 'ca', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  issue('stranger', 'other-ca', 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  const definition = await protoLoader.load(KEDA_PROTO_FILE, KEDA_PROTO_OPTIONS);
  ClientCtor = (grpc.loadPackageDefinition(definition) as unknown as { externalscaler: { ExternalScaler: grpc.ServiceClientConstructor } }).externalscaler.ExternalScaler;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source: PublishedSource = {
  lookup: (namespace, name) => ({ ok: true, value: { namespace, name, targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, desiredReplicas: 2 } }),
  onChange: () => () => undefined,
};

const servers: KedaScaler[] = [];
const clients: grpc.Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(dirName: string): Promise<string> {
  const server = (await startKedaScaler({ address: '127.0.0.1:0', source, logger, certDir: dirName }))!;
  servers.push(server);
  return server.address;
}

const read = (file: string) => readFileSync(join(dir, file));

/** IsActive over the given credentials: 'ok', or the status name it failed with. */
function isActive(address: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new ClientCtor(address, credentials) as unknown as {
    IsActive(r: object, o: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r?: { result: boolean }) => void): void;
  } & grpc.Client;
  clients.push(client);
  return new Promise((resolve) => {
    client.IsActive({ name: 'so', namespace: 'shop', scalerMetadata: { scaler: 'web' } }, { deadline: Date.now() + 10_000 }, (err, res) =>
      resolve(err ? grpc.status[err.code]! : res!.result === true ? 'ok' : 'wrong answer'),
    );
  });
}

describe('KEDA scaler TLS', () => {
  it('serves TLS with tls.crt and tls.key to a client trusting the CA; plain text and untrusting clients fail', async () => {
    const address = await serve(certDir('server-only', false));
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt')))).toBe('ok');
    // The certificate's DNS name works as well as its IP.
    expect(await isActive(address.replace('127.0.0.1', 'localhost'), grpc.credentials.createSsl(read('ca.crt')))).toBe('ok');
    // No client certificate needed without ca.crt.
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt'), read('stranger.key'), read('stranger.crt')))).toBe('ok');
    expect(await isActive(address, grpc.credentials.createInsecure())).toBe('UNAVAILABLE');
    expect(await isActive(address, grpc.credentials.createSsl(read('other-ca.crt')))).toBe('UNAVAILABLE');
  });

  it('with ca.crt, requires a client certificate signed by that CA', async () => {
    const address = await serve(certDir('mutual', true));
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt'), read('client.key'), read('client.crt')))).toBe('ok');
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt')))).toBe('UNAVAILABLE');
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt'), read('stranger.key'), read('stranger.crt')))).toBe('UNAVAILABLE');
    expect(await isActive(address, grpc.credentials.createInsecure())).toBe('UNAVAILABLE');
    // Refused clients leave the server serving.
    expect(await isActive(address, grpc.credentials.createSsl(read('ca.crt'), read('client.key'), read('client.crt')))).toBe('ok');
  });

  it('refuses to start on a missing, mismatched or unreadable certificate directory, naming the file', async () => {
    const missing = join(dir, 'missing');
    mkdirSync(missing);
    copyFileSync(join(dir, 'server.crt'), join(missing, 'tls.crt'));
    await expect(startKedaScaler({ address: '127.0.0.1:0', source, logger, certDir: missing })).rejects.toThrow(/cannot read .*tls\.key: ENOENT/);

    const mismatched = join(dir, 'mismatched');
    mkdirSync(mismatched);
    copyFileSync(join(dir, 'server.crt'), join(mismatched, 'tls.crt'));
    copyFileSync(join(dir, 'client.key'), join(mismatched, 'tls.key'));
    await expect(startKedaScaler({ address: '127.0.0.1:0', source, logger, certDir: mismatched })).rejects.toThrow(/tls\.key is not the key of the certificate/);

    const badCa = certDir('bad-ca', false);
    writeFileSync(join(badCa, 'ca.crt'), '');
    await expect(startKedaScaler({ address: '127.0.0.1:0', source, logger, certDir: badCa })).rejects.toThrow(/ca\.crt is not a PEM certificate/);
  });
});
