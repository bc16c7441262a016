import type tls from 'node:tls';
import { type CertificateSummary, summarizeChain } from '../cert-summary.js';
import { NAMED_GROUPS } from '../cipher-suites.js';
import type { ChainOutcome } from './suites.js';

/**
 * The certificate: from the Certificate message of the highest legacy version's first answer,
 * else of any legacy pick that carried one, else (TLS 1.3 only: the message is encrypted)
 * from the probe's complete node:tls handshake.
 */

export function certificateFromMessages(legacyTopCerts: readonly Buffer[] | null, chains: readonly ChainOutcome[]): CertificateSummary | null {
  const certs =
    (legacyTopCerts && legacyTopCerts.length > 0 ? legacyTopCerts : null) ??
    chains.flatMap((c) => c.picks).find((pk) => pk.answer.certificates && pk.answer.certificates.length > 0)?.answer.certificates ??
    null;
  return certs ? summarizeChain([...certs], 'certificate-message') : null;
}

/** The named curve of an ECDSA leaf certificate, as a group code (it must stay offered when enumerating TLS 1.2 groups). */
export function certificateCurve(leafDer: Buffer | undefined): number | null {
  if (!leafDer) return null;
  const summary = summarizeChain([leafDer], 'certificate-message');
  const curve = summary?.curve ? NAMED_GROUPS.find((g) => g.openssl === summary.curve || g.aliases.includes(summary.curve!) || g.iana === summary.curve) : undefined;
  return curve?.code ?? null;
}

/** The chain the server sent, as node:tls saw it (DER, leaf first). */
export function peerChainDer(sock: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cur: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cur && cur.raw && !seen.has(cur.fingerprint256) && out.length < 16) {
    seen.add(cur.fingerprint256);
    out.push(cur.raw);
    cur = cur.issuerCertificate;
  }
  return out;
}

export function certificateFromHandshake(chain: readonly Buffer[]): CertificateSummary | null {
  return chain.length > 0 ? summarizeChain([...chain], 'node-tls-handshake') : null;
}
