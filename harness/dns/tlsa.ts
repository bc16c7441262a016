import { X509Certificate, createHash } from 'node:crypto';
import { LabError } from '../core/errors.js';

/**
 * TLSA record data (RFC 6698) for a certificate: usage (0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA,
 * 3 DANE-EE), selector (0 the whole certificate, 1 its SubjectPublicKeyInfo), matching type
 * (0 exact, 1 SHA-256, 2 SHA-512), over the DER encoding.
 */
export function tlsaData(certPem: string, usage: number, selector: number, mtype: number): string {
  if (![0, 1, 2, 3].includes(usage)) throw new LabError('EUSAGE', `TLSA usage ${usage} is not 0–3`);
  if (![0, 1].includes(selector)) throw new LabError('EUSAGE', `TLSA selector ${selector} is not 0 or 1`);
  if (![0, 1, 2].includes(mtype)) throw new LabError('EUSAGE', `TLSA matching type ${mtype} is not 0–2`);
  const x = new X509Certificate(certPem);
  const der = selector === 0 ? x.raw : x.publicKey.export({ type: 'spki', format: 'der' });
  const data = mtype === 0 ? der.toString('hex') : createHash(mtype === 1 ? 'sha256' : 'sha512').update(der).digest('hex');
  return `${usage} ${selector} ${mtype} ${data}`;
}

/** The whole record as a zone file line: `_PORT._tcp.HOST. IN TLSA u s m data`. */
export function tlsaRecord(certPem: string, o: { usage: number; selector: number; mtype: number; port: number; host: string }): string {
  return `_${o.port}._tcp.${o.host.replace(/\.$/, '')}. IN TLSA ${tlsaData(certPem, o.usage, o.selector, o.mtype)}`;
}
