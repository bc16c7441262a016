import { X509Certificate } from 'node:crypto';

/**
 * A certificate described from DER bytes as the server sent them (a TLS <= 1.2 Certificate
 * message, or node:tls's peer chain). node:crypto's X509Certificate gives names, dates and the
 * key; the signature algorithm is read from the DER itself (Certificate ::= SEQUENCE {
 * tbsCertificate, signatureAlgorithm, signatureValue }, RFC 5280 4.1), because Node 20 does
 * not expose it. Below both the clients' observations (tls/node-tls.ts) and the probe's
 * certificate summary (enum/cert-summary.ts), so neither depends on the other.
 */

export interface CertificateInfo {
  readonly subject: string;
  readonly commonName: string | null;
  readonly issuer: string;
  readonly sans: readonly string[];
  readonly notBefore: string;
  readonly notAfter: string;
  /** SHA-256 of the DER, colon-separated hex as OpenSSL prints fingerprints. */
  readonly sha256: string;
  readonly keyType: string | null;
  readonly keyBits: number | null;
  readonly curve: string | null;
  /** OpenSSL's long name of the signature algorithm (sha256WithRSAEncryption, ecdsa-with-SHA256 …) or the dotted OID. */
  readonly signatureAlgorithm: string;
  readonly selfIssued: boolean;
  readonly serial: string;
}

const SIGNATURE_OIDS: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.10': 'rsassaPss',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.113549.1.1.14': 'sha224WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10045.4.3.1': 'ecdsa-with-SHA224',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.2.840.10040.4.3': 'dsaWithSHA1',
  '2.16.840.1.101.3.4.3.2': 'dsa_with_SHA256',
  '1.3.101.112': 'ED25519',
  '1.3.101.113': 'ED448',
};

const CURVE_BITS: Readonly<Record<string, number>> = { prime256v1: 256, secp384r1: 384, secp521r1: 521, secp256k1: 256, 'P-256': 256, 'P-384': 384, 'P-521': 521 };

/** One DER TLV header: tag, content offset and length. Throws on anything malformed or out of bounds. */
function tlv(buf: Buffer, off: number): { tag: number; start: number; end: number } {
  if (off + 2 > buf.length) throw new Error('DER: truncated header');
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > buf.length) throw new Error('DER: bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('DER: length past the end');
  return { tag, start, end: start + len };
}

function oidText(b: Buffer): string {
  if (b.length === 0) return '';
  const first = b[0]!;
  const parts: number[] = [Math.floor(first / 40), first % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

/** The outer signatureAlgorithm of a DER certificate, by OpenSSL's name where known. */
export function signatureAlgorithmOf(der: Buffer): string {
  try {
    const cert = tlv(der, 0);
    const tbs = tlv(der, cert.start);
    const alg = tlv(der, tbs.end);
    const oid = tlv(der, alg.start);
    if (cert.tag !== 0x30 || tbs.tag !== 0x30 || alg.tag !== 0x30 || oid.tag !== 0x06) return 'unknown';
    const dotted = oidText(der.subarray(oid.start, oid.end));
    return SIGNATURE_OIDS[dotted] ?? dotted;
  } catch {
    return 'unknown';
  }
}

export function describeDer(der: Buffer): CertificateInfo {
  const x = new X509Certificate(der);
  const details = x.publicKey.asymmetricKeyDetails ?? {};
  const curve = details.namedCurve ?? null;
  const keyType = x.publicKey.asymmetricKeyType ?? null;
  let keyBits = details.modulusLength ?? (curve ? (CURVE_BITS[curve] ?? null) : null);
  if (keyType === 'ed25519') keyBits = 253;
  if (keyType === 'ed448') keyBits = 456;
  return {
    subject: x.subject.replace(/\n/g, ', '),
    commonName: /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? null,
    issuer: x.issuer.replace(/\n/g, ', '),
    sans: (x.subjectAltName ?? '').split(/,\s*/).filter(Boolean),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    sha256: x.fingerprint256,
    keyType,
    keyBits,
    curve,
    signatureAlgorithm: signatureAlgorithmOf(der),
    selfIssued: x.subject === x.issuer,
    serial: x.serialNumber,
  };
}

