import { X509Certificate } from 'node:crypto';
import { ALL_SUITES } from '../enum/cipher-suites.js';
import type { KeyExchange, PeerCertificate, SmtpReply, Verification } from '../tls/observation.js';
import { describeCertificate } from '../tls/node-tls.js';
import { nameErrorOf } from './tool-output.js';

/**
 * Parser for `gnutls-cli --print-cert --insecure` output (GnuTLS 3.7/3.8): the session line
 * "- Description: (TLS1.3-X.509)-(ECDHE-SECP256R1)-(RSA-PSS-RSAE-SHA256)-(AES-256-GCM)", the
 * "- Status:" verification line (with --insecure gnutls-cli reports and goes on), the PEM chain,
 * "*** Fatal error" / "*** Received alert [N]" lines and the SMTP replies after "Simple Client
 * Mode". Names are turned into the ones every other lab client reports (TLSv1.3, OpenSSL and
 * IANA suite names, prime256v1), so a disagreement between GnuTLS and OpenSSL is about the
 * handshake, never about spelling.
 */

export interface ParsedGnutlsCli {
  readonly connected: boolean;
  /** TLSv1 … TLSv1.3, or null when no handshake completed. */
  readonly protocol: string | null;
  /** The description's parts as GnuTLS printed them: version, key exchange, signature, cipher, MAC (TLS <= 1.2 CBC). */
  readonly description: readonly string[] | null;
  readonly cipherIana: string | null;
  readonly cipherOpenssl: string | null;
  readonly keyExchange: KeyExchange | null;
  readonly signature: string | null;
  readonly resumed: boolean;
  /** The "- Status:" line's words after "The certificate is", e.g. "trusted." or "NOT trusted. The name in the certificate does not match the expected." */
  readonly status: string | null;
  readonly certificates: readonly Buffer[];
  readonly chainLength: number;
  readonly replies: readonly SmtpReply[];
  /** With --starttls (the lab's own dialogue): the replies before "*** Starting TLS handshake" and after it; null without that line. */
  readonly beforeTls: readonly SmtpReply[] | null;
  readonly afterTls: readonly SmtpReply[] | null;
  /** "lab-local=ADDR:PORT", the client's own socket as the lab's script read it with ss. */
  readonly local: { readonly address: string; readonly port: number } | null;
  /** "*** …" lines and "Could not …" lines, as printed. */
  readonly errors: readonly string[];
  readonly alert: number | null;
  readonly handshakeCompleted: boolean;
}

const VERSIONS: Readonly<Record<string, string>> = { 'TLS1.0': 'TLSv1', 'TLS1.1': 'TLSv1.1', 'TLS1.2': 'TLSv1.2', 'TLS1.3': 'TLSv1.3', 'SSL3.0': 'SSLv3' };

/** GnuTLS group names → the names OpenSSL and Node give the same groups. */
const GROUPS: Readonly<Record<string, { readonly type: string; readonly group: string; readonly bits: number }>> = {
  SECP256R1: { type: 'ECDH', group: 'prime256v1', bits: 256 },
  SECP384R1: { type: 'ECDH', group: 'secp384r1', bits: 384 },
  SECP521R1: { type: 'ECDH', group: 'secp521r1', bits: 521 },
  X25519: { type: 'ECDH', group: 'X25519', bits: 253 },
  X448: { type: 'ECDH', group: 'X448', bits: 448 },
  FFDHE2048: { type: 'DH', group: 'ffdhe2048', bits: 2048 },
  FFDHE3072: { type: 'DH', group: 'ffdhe3072', bits: 3072 },
  FFDHE4096: { type: 'DH', group: 'ffdhe4096', bits: 4096 },
  FFDHE6144: { type: 'DH', group: 'ffdhe6144', bits: 6144 },
  FFDHE8192: { type: 'DH', group: 'ffdhe8192', bits: 8192 },
};

/** GnuTLS cipher names → the IANA words, and for AEAD ciphers the PRF hash IANA appends. */
const CIPHERS: Readonly<Record<string, { readonly iana: string; readonly aeadMac: string | null }>> = {
  'AES-256-GCM': { iana: 'AES_256_GCM', aeadMac: 'SHA384' },
  'AES-128-GCM': { iana: 'AES_128_GCM', aeadMac: 'SHA256' },
  'CHACHA20-POLY1305': { iana: 'CHACHA20_POLY1305', aeadMac: 'SHA256' },
  'AES-128-CCM': { iana: 'AES_128_CCM', aeadMac: '' },
  'AES-256-CCM': { iana: 'AES_256_CCM', aeadMac: '' },
  'AES-128-CCM-8': { iana: 'AES_128_CCM_8', aeadMac: '' },
  'AES-256-CCM-8': { iana: 'AES_256_CCM_8', aeadMac: '' },
  'AES-256-CBC': { iana: 'AES_256_CBC', aeadMac: null },
  'AES-128-CBC': { iana: 'AES_128_CBC', aeadMac: null },
  'CAMELLIA-256-CBC': { iana: 'CAMELLIA_256_CBC', aeadMac: null },
  'CAMELLIA-128-CBC': { iana: 'CAMELLIA_128_CBC', aeadMac: null },
  '3DES-CBC': { iana: '3DES_EDE_CBC', aeadMac: null },
};
const MACS: Readonly<Record<string, string>> = { SHA1: 'SHA', SHA256: 'SHA256', SHA384: 'SHA384', MD5: 'MD5' };

/**
 * The IANA suite name of a GnuTLS description. TLS 1.3 suites name only the cipher and hash;
 * before 1.3, the key exchange and the certificate's key type (from the signature) come first.
 */
export function ianaSuite(parts: readonly string[]): string | null {
  const [version, kx, ...rest] = parts;
  if (!version || !kx) return null;
  if (version.startsWith('TLS1.3')) {
    const c = CIPHERS[rest[rest.length - 1] ?? ''];
    if (!c) return null;
    return c.aeadMac === null ? null : `TLS_${c.iana}${c.aeadMac ? `_${c.aeadMac}` : ''}`;
  }
  // (RSA) has no signature part: (TLS1.2-X.509)-(RSA)-(AES-128-CBC)-(SHA1).
  const staticRsa = kx === 'RSA';
  const sig = staticRsa ? null : rest[0]!;
  const cipherName = staticRsa ? rest[0] : rest[1];
  const macName = staticRsa ? rest[1] : rest[2];
  const c = CIPHERS[cipherName ?? ''];
  if (!c) return null;
  const mac = c.aeadMac !== null ? c.aeadMac : MACS[macName ?? ''];
  if (mac === undefined) return null;
  const kxWord = staticRsa ? 'RSA' : kx.startsWith('ECDHE') ? 'ECDHE' : kx.startsWith('DHE') ? 'DHE' : null;
  if (!kxWord) return null;
  const au = staticRsa ? '' : sig!.startsWith('ECDSA') ? '_ECDSA' : sig!.startsWith('RSA') ? '_RSA' : null;
  if (au === null) return null;
  return `TLS_${kxWord}${au}_WITH_${c.iana}${mac ? `_${mac}` : ''}`;
}

/** The OpenSSL name of an IANA suite (TLS 1.3 names are the same in both), from the lab's suite table. */
export function opensslSuite(iana: string): string | null {
  if (/^TLS_(AES|CHACHA20)_/.test(iana)) return iana;
  return ALL_SUITES.find((s) => s.iana === iana)?.openssl ?? null;
}

/** A GnuTLS key exchange word ("ECDHE-X25519", "DHE-FFDHE4096") as the other clients name it; null for static RSA. */
export function keyExchangeOf(kx: string | undefined): KeyExchange | null {
  if (!kx || kx === 'RSA') return null;
  const group = /^(?:ECDHE|DHE)-(.+)$/.exec(kx)?.[1];
  const g = group ? GROUPS[group] : undefined;
  if (g) return { type: g.type, group: g.group, bits: g.bits };
  // A group this table does not know yet (a post-quantum hybrid, say): its GnuTLS name, no size.
  return group ? { type: kx.startsWith('DHE') ? 'DH' : 'ECDH', group, bits: null } : null;
}

export function parseGnutlsCli(text: string): ParsedGnutlsCli {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  const description = lines.map((l) => /^- Description: (.*)$/.exec(l)?.[1]).find((d) => d !== undefined) ?? null;
  const parts = description ? [...description.matchAll(/\(([^)]*)\)/g)].map((m) => m[1]!) : null;
  // The first part is "TLS1.3-X.509": the version and the certificate type.
  const version = parts?.[0]?.replace(/-X\.509$/, '') ?? null;
  const fullParts = parts ? [version!, ...parts.slice(1)] : null;
  const iana = fullParts ? ianaSuite(fullParts) : null;
  const certificates: Buffer[] = [];
  const pem = /-----BEGIN CERTIFICATE-----\n([\s\S]*?)\n-----END CERTIFICATE-----/g;
  for (const m of text.replace(/\r/g, '').matchAll(pem)) certificates.push(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  const listed = lines.map((l) => /^- Got a certificate list of (\d+) certificates?\./.exec(l)?.[1]).find((x) => x !== undefined);
  const repliesIn = (from: number, to: number): SmtpReply[] => {
    const out: SmtpReply[] = [];
    let cur: string[] = [];
    for (const l of from >= 0 ? lines.slice(from, to) : []) {
      const r = /^(\d{3})([ -])(.*)$/.exec(l);
      if (!r) continue;
      cur.push(l);
      if (r[2] === ' ') {
        out.push({ code: Number(r[1]), lines: cur });
        cur = [];
      }
    }
    return out;
  };
  const simple = lines.findIndex((l) => l.startsWith('- Simple Client Mode'));
  const replies = repliesIn(simple >= 0 ? simple + 1 : -1, lines.length);
  const starting = lines.findIndex((l) => l === '*** Starting TLS handshake');
  const local = /^lab-local=(\d+\.\d+\.\d+\.\d+):(\d+)$/m.exec(text);
  const errors = lines.filter((l) => l.startsWith('*** ') || /^(Could not|Cannot|Error|Failure)/.test(l));
  const alert = lines.map((l) => /^\*\*\* Received alert \[(\d+)\]/.exec(l)?.[1]).find((x) => x !== undefined);
  const status = lines.map((l) => /^- Status: The certificate is (.*?)\s*$/.exec(l)?.[1]).find((x) => x !== undefined) ?? null;
  // gnutls-cli --starttls prints no "Handshake was completed": there the session line without a fatal error is the sign.
  const handshakeCompleted = lines.some((l) => l === '- Handshake was completed') || (description !== null && !errors.some((e) => /^\*\*\* (Fatal error|Handshake has failed)/.test(e)));
  return {
    connected: lines.some((l) => /^Connecting to '.*'\.\.\.$/.test(l)) && !lines.some((l) => /^(Cannot connect|Could not connect)/.test(l)),
    protocol: handshakeCompleted && version ? (VERSIONS[version] ?? version) : null,
    description: fullParts,
    cipherIana: handshakeCompleted ? iana : null,
    cipherOpenssl: handshakeCompleted && iana ? opensslSuite(iana) : null,
    keyExchange: handshakeCompleted ? keyExchangeOf(fullParts?.[1]) : null,
    signature: handshakeCompleted && fullParts && fullParts[1] !== 'RSA' ? (fullParts[2] ?? null) : null,
    resumed: lines.some((l) => /^\*\*\* This is a resumed session/.test(l)),
    status,
    certificates,
    chainLength: listed !== undefined ? Number(listed) : certificates.length,
    replies,
    beforeTls: starting >= 0 && simple >= 0 ? repliesIn(simple + 1, starting) : null,
    afterTls: starting >= 0 ? repliesIn(starting + 1, lines.length) : null,
    local: local ? { address: local[1]!, port: Number(local[2]) } : null,
    errors,
    alert: alert !== undefined ? Number(alert) : null,
    handshakeCompleted,
  };
}

export function peerCertificateOfGnutls(p: ParsedGnutlsCli): PeerCertificate | null {
  return p.certificates[0] ? describeCertificate(p.certificates[0], Math.max(p.chainLength, 1)) : null;
}

/**
 * GnuTLS's verdict in the words the other clients use: the chain part of "- Status:" as
 * OpenSSL's error name, the name checked by the lab itself on the leaf (as for s_client), so
 * the chain and the name are judged apart as in every other client.
 */
export function verificationOfGnutls(p: ParsedGnutlsCli, verifyName: string | undefined): Verification {
  const s = p.status;
  let chainError: string | null;
  if (s === null) chainError = 'NO_CERTIFICATE';
  else if (/^trusted/.test(s)) chainError = null;
  // OpenSSL's names for the same chains: a lone self-signed leaf, a chain ending in a root the client does not trust, or no issuer at all.
  else if (/issuer is unknown/.test(s)) chainError = p.certificates[0] && p.certificates.length === 1 && selfIssued(p.certificates[0]) ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : p.certificates.slice(1).some(selfIssued) ? 'SELF_SIGNED_CERT_IN_CHAIN' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY';
  else if (/expired/.test(s)) chainError = 'CERT_HAS_EXPIRED';
  else if (/not activated/.test(s)) chainError = 'CERT_NOT_YET_VALID';
  else if (/does not match the expected/.test(s) && !/issuer|expired|activated|signature|revoked|insecure/.test(s.replace(/The name in the certificate does not match the expected\.?/, ''))) chainError = null;
  else chainError = `GNUTLS: ${s}`;
  let nameError: string | null = null;
  if (verifyName && p.certificates[0]) nameError = nameErrorOf(p.certificates[0], verifyName);
  return { verified: chainError === null && nameError === null && p.certificates.length > 0, chainError, name: verifyName ?? null, nameError };
}

function selfIssued(der: Buffer): boolean {
  const x = new X509Certificate(der);
  return x.subject === x.issuer;
}
