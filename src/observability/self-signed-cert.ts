// A self-signed X.509 serving certificate made in memory, for HTTPS /metrics when no certificate is
// mounted (as controller-runtime does). node:crypto makes and signs keys but does not build
// certificates, so the TBSCertificate is DER-encoded here: only the handful of ASN.1 types a
// certificate needs (RFC 5280), each written definite-length.
//
// It also makes small private PKIs for tests and local set-ups: a CA certificate
// (certificateAuthority) and certificates it signs (issueCertificate), for serving, for clients
// (e.g. a front-proxy or mTLS client certificate) or both.
import { X509Certificate, createHash, createPrivateKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

export interface SelfSignedCertificate {
  /** PEM "CERTIFICATE". */
  cert: string;
  /** PEM PKCS#8 "PRIVATE KEY" (ECDSA P-256). */
  key: string;
}

export interface SelfSignedOptions {
  commonName: string;
  /** DNS names and IP addresses (v4 or v6) for subjectAltName. */
  hosts: readonly string[];
  notBefore: Date;
  validForMs: number;
}

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  organizationName: '2.5.4.10',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  sha256WithRsaEncryption: '1.2.840.113549.1.1.11',
};

export function selfSignedCertificate(options: SelfSignedOptions): SelfSignedCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const signatureAlgorithm = sequence(oid(OID.ecdsaWithSha256));
  const name = sequence(set(sequence(oid(OID.commonName), utf8String(options.commonName))));
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // and no leading zero byte to strip
  const notAfter = new Date(options.notBefore.getTime() + options.validForMs);
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    signatureAlgorithm,
    name,
    sequence(time(options.notBefore), time(notAfter)),
    name,
    spki,
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, true, sequence()), // cA FALSE (the default, so omitted)
        extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
        extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
        extension(OID.subjectAltName, false, sequence(...options.hosts.map(generalName))),
      ),
    ),
  );
  // Node signs EC keys with a DER-encoded ECDSA-Sig-Value, as X.509 wants.
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, signatureAlgorithm, bitString(signature, 0));
  return {
    cert: pem('CERTIFICATE', der),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The extended key usages a certificate may be issued for. */
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/** A certificate and its key, both PEM: what issueCertificate() needs of its issuer. */
export interface CertificateAndKey {
  /** PEM "CERTIFICATE". */
  cert: string;
  /** PEM private key (PKCS#8 or PKCS#1/SEC1), ECDSA P-256 or RSA. */
  key: string;
}

export interface CertificateAuthorityOptions {
  commonName: string;
  /** Subject O= values. */
  organizations?: readonly string[];
  /** Default: five minutes ago (a little clock skew between processes is harmless). */
  notBefore?: Date;
  /** Default: 30 days. */
  validForMs?: number;
}

export interface IssueCertificateOptions {
  /** The signing CA, e.g. from certificateAuthority(). */
  issuer: CertificateAndKey;
  /** Subject CN: the user name when the certificate authenticates a client to Kubernetes. */
  commonName: string;
  /** Subject O= values: the groups when the certificate authenticates a client to Kubernetes. */
  organizations?: readonly string[];
  /** DNS names and IP addresses (v4 or v6) for subjectAltName; none: no subjectAltName. */
  hosts?: readonly string[];
  /** Default ['serverAuth']. */
  usages?: readonly ExtendedKeyUsage[];
  /** Default: five minutes ago. */
  notBefore?: Date;
  /** Default: 30 days. */
  validForMs?: number;
}

const DEFAULT_VALID_FOR_MS = 30 * 24 * 3600 * 1000;
const DEFAULT_BACKDATE_MS = 5 * 60 * 1000;

/**
 * A self-signed CA certificate with a fresh ECDSA P-256 key: basicConstraints cA TRUE (critical),
 * keyUsage keyCertSign, cRLSign and digitalSignature (critical), a subjectKeyIdentifier.
 */
export function certificateAuthority(options: CertificateAuthorityOptions): CertificateAndKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const subject = distinguishedName(options.commonName, options.organizations ?? []);
  const der = signedCertificate(privateKey, {
    issuer: subject,
    subject,
    spki,
    notBefore: options.notBefore,
    validForMs: options.validForMs,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      // digitalSignature (bit 0), keyCertSign (bit 5), cRLSign (bit 6).
      extension(OID.keyUsage, true, bitString(Buffer.from([0x86]), 1)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    ],
  });
  return { cert: pem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/**
 * A certificate for a fresh ECDSA P-256 key signed by `issuer`: not a CA, keyUsage
 * digitalSignature, the chosen extended key usages, subjectAltName for `hosts`, and key identifiers
 * linking it to the issuer.
 */
export function issueCertificate(options: IssueCertificateOptions): CertificateAndKey {
  const usages = options.usages ?? ['serverAuth'];
  if (usages.length === 0) throw new Error('issueCertificate: at least one extended key usage is needed');
  const issuerKey = createPrivateKey(options.issuer.key);
  const issuerDer = new X509Certificate(options.issuer.cert).raw;
  const issuerTbs = tbsFields(issuerDer);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const hosts = options.hosts ?? [];
  const authorityKeyId = issuerTbs.subjectKeyIdentifier ?? keyIdentifier(issuerTbs.spki);
  const der = signedCertificate(issuerKey, {
    // The issuer's subject exactly as its certificate encodes it, so that name chaining matches.
    issuer: issuerTbs.subject,
    subject: distinguishedName(options.commonName, options.organizations ?? []),
    spki,
    notBefore: options.notBefore,
    validForMs: options.validForMs,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, bitString(Buffer.from([0x80]), 7)), // digitalSignature
      extension(OID.extKeyUsage, false, sequence(...usages.map((u) => oid(OID[u])))),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
      extension(OID.authorityKeyIdentifier, false, sequence(tlv(0x80, authorityKeyId))),
      ...(hosts.length > 0 ? [extension(OID.subjectAltName, false, sequence(...hosts.map(generalName)))] : []),
    ],
  });
  return { cert: pem('CERTIFICATE', der), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  spki: Buffer;
  notBefore: Date | undefined;
  validForMs: number | undefined;
  extensions: Buffer[];
}

function signedCertificate(signingKey: KeyObject, fields: CertificateFields): Buffer {
  const signatureAlgorithm = signatureAlgorithmFor(signingKey);
  const notBefore = fields.notBefore ?? new Date(Date.now() - DEFAULT_BACKDATE_MS);
  const notAfter = new Date(notBefore.getTime() + (fields.validForMs ?? DEFAULT_VALID_FOR_MS));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serialNumber()),
    signatureAlgorithm,
    fields.issuer,
    sequence(time(notBefore), time(notAfter)),
    fields.subject,
    fields.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  // ECDSA: Node writes a DER ECDSA-Sig-Value, as X.509 wants; RSA: PKCS#1 v1.5.
  const signature = sign('sha256', tbs, signingKey);
  return sequence(tbs, signatureAlgorithm, bitString(signature, 0));
}

function signatureAlgorithmFor(key: KeyObject): Buffer {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return sequence(oid(OID.ecdsaWithSha256));
    case 'rsa':
      return sequence(oid(OID.sha256WithRsaEncryption), tlv(0x05, Buffer.alloc(0)));
    default:
      throw new Error(`unsupported issuer key type ${key.asymmetricKeyType ?? '(none)'}: ECDSA or RSA only`);
  }
}

function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  serial[0] |= 0x01; // and no leading zero byte to strip
  return serial;
}

function distinguishedName(commonName: string, organizations: readonly string[]): Buffer {
  return sequence(
    ...organizations.map((o) => set(sequence(oid(OID.organizationName), utf8String(o)))),
    set(sequence(oid(OID.commonName), utf8String(commonName))),
  );
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = children(spkiDer, readTlv(spkiDer, 0));
  if (!subjectPublicKey || subjectPublicKey.tag !== 0x03) throw new Error('malformed SubjectPublicKeyInfo');
  return createHash('sha1').update(spkiDer.subarray(subjectPublicKey.contentStart + 1, subjectPublicKey.end)).digest();
}

// Reading DER, as much as finding an issuer's subject, public key and key identifier needs.
interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, offset: number): Tlv {
  const tag = der[offset];
  let lengthByte = der[offset + 1];
  if (tag === undefined || lengthByte === undefined) throw new Error('truncated DER');
  let contentStart = offset + 2;
  let contentLength = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4) throw new Error('unsupported DER length');
    contentLength = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = der[contentStart + i];
      if (lengthByte === undefined) throw new Error('truncated DER');
      contentLength = contentLength * 256 + lengthByte;
    }
    contentStart += count;
  }
  const end = contentStart + contentLength;
  if (end > der.length) throw new Error('truncated DER');
  return { tag, start: offset, contentStart, end };
}

function children(der: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const child = readTlv(der, at);
    out.push(child);
    at = child.end;
  }
  return out;
}

function tbsFields(certDer: Buffer): { subject: Buffer; spki: Buffer; subjectKeyIdentifier: Buffer | undefined } {
  const [tbs] = children(certDer, readTlv(certDer, 0));
  if (!tbs) throw new Error('malformed certificate');
  const fields = children(certDer, tbs);
  const first = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version is absent in v1 certificates
  const subject = fields[first + 4];
  const spki = fields[first + 5];
  if (!subject || !spki) throw new Error('malformed certificate');
  const bytes = (t: Tlv) => certDer.subarray(t.start, t.end);
  let subjectKeyIdentifier: Buffer | undefined;
  const extensions = fields.find((f) => f.tag === 0xa3);
  const skiOid = oid(OID.subjectKeyIdentifier);
  for (const ext of extensions ? children(certDer, children(certDer, extensions)[0]!) : []) {
    const parts = children(certDer, ext);
    if (!parts[0] || !bytes(parts[0]).equals(skiOid)) continue;
    const value = parts[parts.length - 1]!; // extnValue OCTET STRING, holding an OCTET STRING
    const inner = readTlv(certDer, value.contentStart);
    subjectKeyIdentifier = Buffer.from(certDer.subarray(inner.contentStart, inner.end));
  }
  return { subject: Buffer.from(bytes(subject)), spki: Buffer.from(bytes(spki)), subjectKeyIdentifier };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const integer = (bigEndian: Buffer) => tlv(0x02, bigEndian);
const octetString = (content: Buffer) => tlv(0x04, content);
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));
const explicit = (tagNumber: number, content: Buffer) => tlv(0xa0 | tagNumber, content);
const bitString = (content: Buffer, unusedBits: number) => tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), content]));
const boolean = (value: boolean) => tlv(0x01, Buffer.from([value ? 0xff : 0x00]));

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number);
  const bytes = [40 * first! + second!];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

// RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '');
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function generalName(host: string): Buffer {
  if (isIPv4(host)) return tlv(0x87, Buffer.from(host.split('.').map(Number)));
  if (isIPv6(host)) return tlv(0x87, ipv6Bytes(host));
  return tlv(0x82, Buffer.from(host, 'ascii')); // dNSName, IA5String
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const middle = Array<string>(8 - left.length - right.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...left, ...middle, ...right].forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
  return bytes;
}
