import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';

/**
 * What the container clients' output readers share (s_client, gnutls-cli): the transcript
 * without certificate bodies, and the host-name check of the leaf done the way Node does it
 * for its own clients, so every client judges a name by the same rule.
 */

/**
 * A tool's output as transcript lines: empty lines and the script's `lab-exit=` line left out,
 * each PEM body as one `<certificate>` line (the certificate is kept as a parsed field), every
 * other line through `keep` (return null to leave it out, or the line as it should stand).
 */
export function transcriptWithoutPem(text: string, keep: (line: string) => string | null): string[] {
  const out: string[] = [];
  let inPem = false;
  for (const l of text.split('\n')) {
    if (!l || l.startsWith('lab-exit=')) continue;
    if (l.includes('-----BEGIN ')) {
      inPem = true;
      out.push('<certificate>');
      continue;
    }
    if (inPem) {
      if (l.includes('-----END ')) inPem = false;
      continue;
    }
    const kept = keep(l);
    if (kept !== null) out.push(kept);
  }
  return out;
}

/** Why the leaf (DER) does not match `verifyName` by Node's rule (CN and subjectAltName), or null when it does. */
export function nameErrorOf(leaf: Buffer, verifyName: string): string | null {
  const x = new X509Certificate(leaf);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1];
  const fake = { subject: cn ? { CN: cn } : {}, subjectaltname: x.subjectAltName ?? '' } as unknown as tls.PeerCertificate;
  return tls.checkServerIdentity(verifyName, fake)?.message ?? null;
}
