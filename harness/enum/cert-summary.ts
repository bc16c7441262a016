import crypto from 'node:crypto';
import { type CertificateInfo, describeDer } from '../tls/certificate.js';

export { type CertificateInfo, describeDer, signatureAlgorithmOf } from '../tls/certificate.js';

/**
 * The probe's certificate summary of a chain as the server sent it (a TLS <= 1.2 Certificate
 * message, or node:tls's peer chain after a TLS 1.3 handshake). Each certificate is described
 * by tls/certificate.ts (describeDer), which the lab clients' observations use too.
 */

export interface CertificateSummary extends CertificateInfo {
  /** Where the chain came from. */
  readonly source: 'certificate-message' | 'node-tls-handshake';
  /** Certificates the server sent, leaf first. */
  readonly chainLength: number;
  /** Was the leaf valid at probe time (notBefore <= now <= notAfter)? */
  readonly validNow: boolean;
  readonly chain: readonly CertificateInfo[];
}

/** Summary of a chain as sent (leaf first). Unparseable entries are kept as placeholders so the chain length stays true. */
export function summarizeChain(ders: readonly Buffer[], source: CertificateSummary['source'], now = new Date()): CertificateSummary | null {
  if (ders.length === 0) return null;
  const chain = ders.map((d): CertificateInfo => {
    try {
      return describeDer(d);
    } catch {
      const sha = crypto.createHash('sha256').update(d).digest('hex').toUpperCase().match(/../g)!.join(':');
      return { subject: '(unparseable certificate)', commonName: null, issuer: '', sans: [], notBefore: '', notAfter: '', sha256: sha, keyType: null, keyBits: null, curve: null, signatureAlgorithm: 'unknown', selfIssued: false, serial: '' };
    }
  });
  const leaf = chain[0]!;
  const validNow = leaf.notBefore !== '' && new Date(leaf.notBefore) <= now && now <= new Date(leaf.notAfter);
  return { ...leaf, source, chainLength: chain.length, validNow, chain };
}
