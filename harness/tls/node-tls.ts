import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TlsDetails, Verification } from './observation.js';
import { describeDer } from './certificate.js';

/** TLS options every lab client understands; each client maps them to its own knobs. */
export interface TlsClientOptions {
  readonly minVersion?: tls.SecureVersion;
  readonly maxVersion?: tls.SecureVersion;
  /** OpenSSL cipher string for TLS 1.2 and below. */
  readonly ciphers?: string;
  /** TLS 1.3 suites, colon separated (TLS_AES_128_GCM_SHA256:...). */
  readonly ciphersuites?: string;
  /** Key exchange groups, colon separated (X25519:P-256:ffdhe4096). */
  readonly groups?: string;
  /** OpenSSL security level for the client; 0 lets it offer TLS 1.0/1.1 and legacy ciphers. */
  readonly securityLevel?: 0 | 1 | 2 | 3;
  /** SNI to send. */
  readonly servername?: string;
  /** Trust store (PEM). Without it the system roots are used, which know no lab CA. */
  readonly ca?: string;
  /** Name to verify the server certificate against. */
  readonly verifyName?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly session?: Buffer;
}

export function toNodeTlsOptions(o: TlsClientOptions): tls.ConnectionOptions {
  const parts: string[] = [];
  if (o.ciphers) parts.push(o.ciphers);
  if (o.ciphersuites) parts.push(o.ciphersuites);
  let ciphers = parts.join(':') || undefined;
  if (o.securityLevel !== undefined) ciphers = `${ciphers ?? 'DEFAULT'}:@SECLEVEL=${o.securityLevel}`;
  return {
    // The lab records verification itself; refusing here would hide what the server sent.
    rejectUnauthorized: false,
    // Node folds a host name mismatch into `authorized`; the lab checks names itself
    // (verifyName), so that chain and name results stay apart in the observation.
    checkServerIdentity: () => undefined,
    ...(o.minVersion ? { minVersion: o.minVersion } : {}),
    ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
    ...(ciphers ? { ciphers } : {}),
    ...(o.groups ? { ecdhCurve: o.groups } : {}),
    ...(o.servername ? { servername: o.servername } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.cert ? { cert: o.cert } : {}),
    ...(o.key ? { key: o.key } : {}),
    ...(o.session ? { session: o.session } : {}),
  };
}

/** A short, stable message for a TLS error: OpenSSL's reason text, not its file and line. */
export function tlsErrorMessage(e: Error & { code?: string; reason?: string }): string {
  const reason = e.reason ?? /:([^:]+):[^:]*:\d*:?(?:SSL alert number \d+)?\s*$/.exec(e.message)?.[1];
  const alert = /SSL alert number (\d+)/.exec(e.message)?.[1];
  const code = e.code ? ` (${e.code})` : '';
  if (reason) return `TLS handshake failed: ${reason}${alert ? `, alert ${alert}` : ''}${code}`;
  return `TLS handshake failed: ${e.message}${code}`;
}

/**
 * Certificates the server sent. Node only exposes the verified path, which ends in the
 * client's own trust anchor when verification succeeds; a self-signed certificate found in
 * the client's trust store is therefore not counted (s_client's "Certificate chain" agrees).
 */
function chainLength(cert: tls.DetailedPeerCertificate, trusted: ReadonlySet<string>): number {
  let n = 1;
  let cur = cert;
  while (cur.issuerCertificate && cur.issuerCertificate !== cur && n < 16) {
    cur = cur.issuerCertificate;
    const selfSigned = cur.issuerCertificate === cur || cur.subject?.CN === cur.issuer?.CN;
    if (selfSigned && trusted.has(cur.fingerprint256)) break;
    n++;
  }
  return n;
}

function trustAnchors(ca: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const pem of ca?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) out.add(new X509Certificate(pem).fingerprint256);
  return out;
}

/** The observation's view of a certificate: describeDer's fields, with keyBits as the RSA modulus length only. */
export function describeCertificate(raw: Buffer, chain: number): PeerCertificate {
  const d = describeDer(raw);
  return {
    subject: d.subject,
    commonName: d.commonName,
    sans: d.sans,
    issuer: d.issuer,
    notBefore: d.notBefore,
    notAfter: d.notAfter,
    sha256: d.sha256,
    keyType: d.keyType,
    keyBits: d.keyType === 'rsa' || d.keyType === 'rsa-pss' ? d.keyBits : null,
    curve: d.curve,
    chainLength: chain,
  };
}

export function describeTlsSocket(sock: tls.TLSSocket, o: TlsClientOptions): TlsDetails {
  const cipher = sock.getCipher();
  const eph = sock.getEphemeralKeyInfo() as { type?: string; name?: string; size?: number } | null;
  const peer = sock.getPeerCertificate(true);
  const hasPeer = peer && Object.keys(peer).length > 0 && peer.raw;
  const certificate = hasPeer ? describeCertificate(peer.raw, chainLength(peer, trustAnchors(o.ca))) : null;
  let nameError: string | null = null;
  if (o.verifyName && hasPeer) nameError = tls.checkServerIdentity(o.verifyName, peer)?.message ?? null;
  const chainError = sock.authorized ? null : String(sock.authorizationError ?? 'NO_CERTIFICATE');
  const verification: Verification = {
    verified: chainError === null && nameError === null && certificate !== null,
    chainError,
    name: o.verifyName ?? null,
    nameError,
  };
  return {
    protocol: sock.getProtocol() ?? 'unknown',
    cipher: { openssl: cipher.name, iana: cipher.standardName ?? null, bits: null },
    keyExchange: eph && eph.type ? { type: eph.type, group: eph.name ?? null, bits: eph.size ?? null } : null,
    peerCertificate: certificate,
    verification,
    sessionReused: sock.isSessionReused(),
    secureRenegotiation: null,
    compression: null,
    sniSent: o.servername ?? null,
  };
}
