import { X509Certificate } from 'node:crypto';
import type { KeyExchange, PeerCertificate, SmtpReply, Verification } from '../tls/observation.js';
import { describeCertificate } from '../tls/node-tls.js';
import { nameErrorOf } from './tool-output.js';

/**
 * Parser for `openssl s_client` output (OpenSSL 3.0, without -brief): the lines
 * "New|Reused, TLSv1.3, Cipher is X", "Server Temp Key: X25519, 253 bits",
 * "Peer signature type: RSA-PSS", "Verify return code: N (text)", the certificate chain and
 * the SMTP lines that follow the handshake.
 */

/** OpenSSL's X509_V_ERR_* codes by number, named as Node names them, so both clients report alike. */
const X509_ERRORS: Readonly<Record<number, string>> = {
  2: 'UNABLE_TO_GET_ISSUER_CERT',
  4: 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  7: 'CERT_SIGNATURE_FAILURE',
  9: 'CERT_NOT_YET_VALID',
  10: 'CERT_HAS_EXPIRED',
  18: 'DEPTH_ZERO_SELF_SIGNED_CERT',
  19: 'SELF_SIGNED_CERT_IN_CHAIN',
  20: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  21: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  24: 'INVALID_CA',
  26: 'INVALID_PURPOSE',
  62: 'HOSTNAME_MISMATCH',
};

export interface ParsedSClient {
  readonly connected: boolean;
  readonly protocol: string | null;
  readonly cipher: string | null;
  readonly reused: boolean;
  readonly keyExchange: KeyExchange | null;
  readonly peerSignatureType: string | null;
  readonly verifyCode: number | null;
  readonly verifyText: string | null;
  readonly certificates: readonly Buffer[];
  readonly chainLength: number;
  readonly secureRenegotiation: boolean | null;
  readonly compression: string | null;
  /** SMTP replies after the handshake (banner for implicit TLS, then EHLO, QUIT). */
  readonly replies: readonly SmtpReply[];
  readonly errors: readonly string[];
  readonly alert: number | null;
}

function normaliseProtocol(p: string | undefined): string | null {
  if (!p || p === '(NONE)') return null;
  return p === 'TLSv1.0' ? 'TLSv1' : p;
}

/**
 * s_client's words when the EHLO reply has no STARTTLS: "Didn't find STARTTLS in server response,
 * trying anyway..." (so OpenSSL 3.0.20 prints it; a case-sensitive match missed it, and the
 * lab reported the handshake it then tried as ETLS "wrong version number" where gnutls-cli, on the
 * same server, was reported ENOSTARTTLS).
 */
export const NO_STARTTLS = /didn't find starttls/i;

export function parseSClient(text: string): ParsedSClient {
  const lines = text.split(/\r?\n/);
  /** OpenSSL 1.1.1 names the NIST curves P-256/P-384/P-521 where 3.x (and the other clients) say prime256v1/secp384r1/secp521r1. */
  const NIST_TO_OPENSSL: Readonly<Record<string, string>> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
  const m = (re: RegExp) => {
    for (const l of lines) {
      const x = re.exec(l);
      if (x) return x;
    }
    return null;
  };
  const session = m(/^(New|Reused), (\S+), Cipher is (\S+)/);
  // OpenSSL 3.5+ prints "Peer Temp Key:"; earlier versions "Server Temp Key:".
  const temp = m(/^(?:Server|Peer) Temp Key: (.*)$/);
  let keyExchange: KeyExchange | null = null;
  if (temp) {
    const parts = temp[1]!.split(/,\s*/);
    const bits = Number(/(\d+) bits/.exec(temp[1]!)?.[1] ?? NaN);
    if (parts[0] === 'DH') keyExchange = { type: 'DH', group: null, bits: Number.isFinite(bits) ? bits : null };
    else if (parts[0] === 'ECDH') keyExchange = { type: 'ECDH', group: parts[1] ? (NIST_TO_OPENSSL[parts[1]] ?? parts[1]) : null, bits: Number.isFinite(bits) ? bits : null };
    else keyExchange = { type: 'ECDH', group: parts[0] ?? null, bits: Number.isFinite(bits) ? bits : null };
  }
  // OpenSSL 3.5+ prints no "Peer Temp Key" for a KEM or hybrid group (X25519MLKEM768), only
  // "Negotiated TLS1.3 group:" ("<NULL>" when no handshake was made).
  const negotiated = m(/^Negotiated TLS1\.3 group: (\S+)$/);
  if (!keyExchange && negotiated && negotiated[1] !== '<NULL>') keyExchange = { type: 'KEM', group: negotiated[1]!, bits: null };
  const verify = m(/^\s*Verify return code: (\d+) \((.*)\)/);
  const pems = [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((x) => x[0]);
  const certificates = pems.map((p) => Buffer.from(new X509Certificate(p).raw));
  const chainStart = lines.findIndex((l) => l === 'Certificate chain');
  let chainLength = 0;
  if (chainStart >= 0) for (let i = chainStart + 1; i < lines.length && lines[i] !== '---'; i++) if (/^\s*\d+ s:/.test(lines[i]!)) chainLength++;
  const reneg = m(/^Secure Renegotiation IS (NOT )?supported/);
  const replies: SmtpReply[] = [];
  let cur: string[] = [];
  for (const l of lines) {
    const r = /^(\d{3})([ -])(.*)$/.exec(l);
    if (!r) continue;
    cur.push(r[3]!);
    if (r[2] === ' ') {
      replies.push({ code: Number(r[1]), lines: cur });
      cur = [];
    }
  }
  const errors = lines.filter((l) => NO_STARTTLS.test(l) || /:error:|connect:errno|Connection refused|no peer certificate|write:errno|read:errno|SSL_CONF_cmd/.test(l));
  const alert = Number(m(/SSL alert number (\d+)/)?.[1] ?? NaN);
  return {
    connected: lines.some((l) => l.startsWith('CONNECTED(')),
    // "New, TLSv1.0, Cipher is X" shows the *cipher's* version; the negotiated protocol is
    // in the SSL-Session block ("Protocol  : TLSv1.1"). Names follow Postfix and Node: TLSv1.
    // A refused handshake still prints the version it tried, so it counts only with a cipher.
    protocol: session?.[3] && session[3] !== '(NONE)' ? normaliseProtocol(m(/^\s+Protocol\s+: (\S+)/)?.[1] ?? session[2]) : null,
    cipher: session?.[3] === '(NONE)' ? null : (session?.[3] ?? null),
    reused: session?.[1] === 'Reused',
    keyExchange,
    peerSignatureType: m(/^Peer signature type: (\S+)/)?.[1] ?? null,
    verifyCode: verify ? Number(verify[1]) : null,
    verifyText: verify?.[2] ?? null,
    certificates,
    chainLength,
    secureRenegotiation: reneg ? !reneg[1] : null,
    compression: m(/^Compression: (.*)$/)?.[1] ?? null,
    replies,
    errors,
    alert: Number.isFinite(alert) ? alert : null,
  };
}

export function peerCertificateOf(p: ParsedSClient): PeerCertificate | null {
  return p.certificates[0] ? describeCertificate(p.certificates[0], Math.max(p.chainLength, 1)) : null;
}

export function verificationOf(p: ParsedSClient, verifyName: string | undefined): Verification {
  const chainError = p.verifyCode === null ? 'NO_CERTIFICATE' : p.verifyCode === 0 ? null : (X509_ERRORS[p.verifyCode] ?? `X509_V_ERR_${p.verifyCode}`);
  let nameError: string | null = null;
  if (verifyName && p.certificates[0]) nameError = nameErrorOf(p.certificates[0], verifyName);
  return { verified: chainError === null && nameError === null && p.certificates.length > 0, chainError, name: verifyName ?? null, nameError };
}
