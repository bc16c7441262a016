import fs from 'node:fs';
import { LabError } from '../core/errors.js';
import { tlsaRecord } from '../dns/tlsa.js';

/**
 * `smtp-tls-lab tlsa --cert FILE [--usage 3 --selector 1 --mtype 1] [--port 25 --host NAME]`:
 * the TLSA record for a certificate (the first one in FILE: a leaf, or a CA for usage 2),
 * as the lab's zones publish it.
 */
export function tlsaCommand(o: { readonly cert: string; readonly usage: number; readonly selector: number; readonly mtype: number; readonly port: number; readonly host: string; readonly out: (l: string) => void }): number {
  let text: string;
  try {
    text = fs.readFileSync(o.cert, 'utf8');
  } catch (err) {
    throw new LabError('EUSAGE', `tlsa: cannot read --cert ${o.cert}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(text)?.[0];
  if (!pem) throw new LabError('EUSAGE', `tlsa: ${o.cert} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, { detail: 'remedy: give the certificate file (PEM), not the key' });
  if (!/^[a-z0-9.-]+$/i.test(o.host)) throw new LabError('EUSAGE', `tlsa: --host ${o.host} is not a host name`);
  o.out(tlsaRecord(pem, o));
  return 0;
}
