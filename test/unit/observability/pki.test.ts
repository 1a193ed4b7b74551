// certificateAuthority() and issueCertificate(): checked by node:crypto's X.509 parser (OpenSSL) and
// by real TLS handshakes that verify the chain, both ways.
import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificateAuthority, issueCertificate, selfSignedCertificate } from '../../../src/observability/self-signed-cert.js';

const DAY = 24 * 3600 * 1000;
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

describe('certificateAuthority', () => {
  it('makes a self-signed CA certificate', () => {
    const notBefore = new Date('2026-03-01T12:00:00Z');
    const ca = certificateAuthority({ commonName: 'front-proxy-ca', organizations: ['prescale'], notBefore, validForMs: 10 * DAY });
    const x509 = new X509Certificate(ca.cert);
    expect(x509.ca).toBe(true);
    expect(x509.subject).toBe('O=prescale\nCN=front-proxy-ca');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.checkPrivateKey(createPrivateKey(ca.key))).toBe(true);
    expect(new Date(x509.validFrom).toISOString()).toBe('2026-03-01T12:00:00.000Z');
    expect(new Date(x509.validTo).getTime() - notBefore.getTime()).toBe(10 * DAY);
    expect(x509.keyUsage).toBeUndefined(); // no extended key usage: a CA only signs
  });

  it('is valid from a little before now by default', () => {
    const x509 = new X509Certificate(certificateAuthority({ commonName: 'ca' }).cert);
    expect(new Date(x509.validFrom).getTime()).toBeLessThan(Date.now() - 60_000);
    expect(new Date(x509.validTo).getTime()).toBeGreaterThan(Date.now() + DAY);
  });
});

describe('issueCertificate', () => {
  const ca = certificateAuthority({ commonName: 'test-ca' });
  const caX509 = new X509Certificate(ca.cert);

  it('signs a serving certificate with the issuer key', () => {
    const leaf = issueCertificate({ issuer: ca, commonName: 'adapter', hosts: ['localhost', '127.0.0.1', '::1'] });
    const x509 = new X509Certificate(leaf.cert);
    expect(x509.subject).toBe('CN=adapter');
    expect(x509.issuer).toBe('CN=test-ca');
    expect(x509.verify(caX509.publicKey)).toBe(true);
    expect(x509.verify(x509.publicKey)).toBe(false);
    expect(x509.checkIssued(caX509)).toBe(true);
    expect(x509.ca).toBe(false);
    expect(x509.keyUsage).toEqual([SERVER_AUTH]);
    expect(x509.checkHost('localhost')).toBe('localhost');
    expect(x509.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x509.checkIP('::1')).toBe('::1');
    expect(x509.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true);
  });

  it('makes client certificates, with organizations, and certificates for both uses', () => {
    const client = new X509Certificate(issueCertificate({ issuer: ca, commonName: 'front-proxy-client', organizations: ['system:masters'], usages: ['clientAuth'] }).cert);
    expect(client.subject).toBe('O=system:masters\nCN=front-proxy-client');
    expect(client.keyUsage).toEqual([CLIENT_AUTH]);
    expect(client.subjectAltName).toBeUndefined();
    expect(client.checkIssued(caX509)).toBe(true);
    const both = new X509Certificate(issueCertificate({ issuer: ca, commonName: 'both', hosts: ['x'], usages: ['serverAuth', 'clientAuth'] }).cert);
    expect(both.keyUsage).toEqual([SERVER_AUTH, CLIENT_AUTH]);
    expect(() => issueCertificate({ issuer: ca, commonName: 'none', usages: [] })).toThrow(/extended key usage/);
  });

  it('is not issued by another CA, nor by a non-CA', () => {
    const other = new X509Certificate(certificateAuthority({ commonName: 'test-ca' }).cert);
    const leaf = new X509Certificate(issueCertificate({ issuer: ca, commonName: 'x', hosts: ['x'] }).cert);
    expect(leaf.verify(other.publicKey)).toBe(false);
    expect(leaf.checkIssued(other)).toBe(false); // same subject, different key identifier
    const selfSigned = selfSignedCertificate({ commonName: 'plain', hosts: ['localhost'], notBefore: new Date(), validForMs: DAY });
    expect(new X509Certificate(selfSigned.cert).ca).toBe(false);
  });

  it('signs with an RSA issuer key too', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaIssuer = { cert: ca.cert, key: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString() };
    const leaf = new X509Certificate(issueCertificate({ issuer: rsaIssuer, commonName: 'r' }).cert);
    expect(leaf.verify(publicKey)).toBe(true);
    expect(leaf.verify(caX509.publicKey)).toBe(false);
  });

  it('completes a TLS handshake that verifies the server and the client certificate against the CA', async () => {
    const server = issueCertificate({ issuer: ca, commonName: 'server', hosts: ['localhost', '127.0.0.1'], usages: ['serverAuth'] });
    const client = issueCertificate({ issuer: ca, commonName: 'front-proxy-client', usages: ['clientAuth'] });
    const seen: { peerCN?: string; authorized?: boolean }[] = [];
    const tlsServer = createServer({ cert: server.cert, key: server.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (socket) => {
      seen.push({ peerCN: String(socket.getPeerCertificate().subject?.CN), authorized: socket.authorized });
      socket.end('hello');
    });
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const port = (tlsServer.address() as AddressInfo).port;
    try {
      const reply = await handshake(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: client.cert, key: client.key }));
      expect(reply).toEqual({ data: 'hello', authorized: true });
      expect(seen).toEqual([{ peerCN: 'front-proxy-client', authorized: true }]);

      // A client certificate from another CA is refused by the server.
      const stranger = certificateAuthority({ commonName: 'test-ca' });
      const strangerClient = issueCertificate({ issuer: stranger, commonName: 'mallory', usages: ['clientAuth'] });
      await expect(handshake(connect({ host: '127.0.0.1', port, servername: 'localhost', ca: ca.cert, cert: strangerClient.cert, key: strangerClient.key }))).rejects.toThrow();
      // A certificate issued for clients only does not serve: the client refuses it.
      const clientOnly = createServer({ cert: client.cert, key: client.key }, (s) => s.end('x'));
      clientOnly.listen(0, '127.0.0.1');
      await once(clientOnly, 'listening');
      try {
        const clientOnlyPort = (clientOnly.address() as AddressInfo).port;
        await expect(handshake(connect({ host: '127.0.0.1', port: clientOnlyPort, ca: ca.cert, checkServerIdentity: () => undefined }))).rejects.toThrow(/purpose/i);
      } finally {
        clientOnly.close();
      }
      expect(seen).toHaveLength(1);
    } finally {
      tlsServer.close();
    }
  });
});

function handshake(socket: TLSSocket): Promise<{ data: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let authorized = false;
    socket.setEncoding('utf8');
    socket.once('secureConnect', () => (authorized = socket.authorized));
    socket.on('data', (chunk: string) => (data += chunk));
    socket.once('error', reject);
    socket.once('end', () => (data ? resolve({ data, authorized }) : reject(new Error('connection closed without data'))));
    socket.once('close', () => reject(new Error('connection closed')));
  });
}
