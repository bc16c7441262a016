import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { run } from '../core/exec.js';
import type { CertificateSpec } from '../scenario/types.js';

/**
 * The MTA-STS lab's web PKI: a CA and the policy host's certificates, made with openssl (its
 * default v3 extensions: Subject and Authority Key Identifier).
 *
 * Why not the lab CA: postfix-mta-sts-resolver fetches with Python's ssl default context, and
 * Python 3.13 (trixie) sets VERIFY_X509_STRICT there. The lab PKI's leaves carry no Authority
 * Key Identifier, and the fetch then fails ("certificate verify failed: Missing Authority Key
 * Identifier") — measured in this lab; the resolver answers NOTFOUND and Postfix falls back to
 * its own level without a word. So the policy host's certificates are issued here from the
 * scenario's certificate specs (names, validity, issuer), into the run's TLS folder, and the
 * resolver trusts this CA only.
 *
 * Files (in the run's certificate folder): sts-web-ca.crt/.key, and per scenario certificate
 * NAME: sts-web-NAME.crt (leaf, then the CA unless self-signed) and sts-web-NAME.key.
 */
export const WEB_CA = 'sts-web-ca';
const made = new Map<string, Promise<void>>();

async function openssl(args: string[], what: string): Promise<void> {
  const r = await run('openssl', args, { timeoutMs: 30_000 });
  if (r.code !== 0) throw new LabError('ESTS', `openssl could not make the MTA-STS web PKI (${what}, exit ${r.code})`, { detail: r.stderr.slice(-1500) });
}

/** The web CA in `dir`, made once per folder (the policy host and the resolver both need it). */
export function ensureWebCa(dir: string): Promise<void> {
  let p = made.get(dir);
  if (!p) {
    p = (async () => {
      if (fs.existsSync(path.join(dir, `${WEB_CA}.crt`))) return;
      await openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, `${WEB_CA}.key`), '-out', path.join(dir, `${WEB_CA}.crt`), '-days', '30', '-subj', '/O=smtp-tls-lab/CN=smtp-tls-lab MTA-STS web CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], 'web CA');
      fs.chmodSync(path.join(dir, `${WEB_CA}.key`), 0o600);
    })();
    made.set(dir, p);
  }
  return p;
}

/** sts-web-NAME.crt/.key for one scenario certificate: its names and issuer (lab-ca → the web CA). */
export async function issueWebCert(dir: string, spec: CertificateSpec): Promise<void> {
  await ensureWebCa(dir);
  const base = path.join(dir, `sts-web-${spec.name}`);
  const sans = (spec.sans ?? [spec.commonName]).map((n) => `DNS:${n}`).join(',');
  const days = spec.validDays ?? 365;
  if ((spec.notBeforeDaysAgo ?? 1) >= days) throw new LabError('ESCENARIO', `certificate ${spec.name}: an expired policy-host certificate cannot be made with the host's openssl (no -not_before before OpenSSL 3.4)`);
  const key = `${base}.key`;
  const csr = `${base}.csr`;
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${spec.commonName}`, '-addext', `subjectAltName=${sans}`], `request for ${spec.name}`);
  const ext = `${base}.ext`;
  fs.writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=${sans}\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n`);
  const signer = spec.issuer === 'self' ? ['-signkey', key] : ['-CA', path.join(dir, `${WEB_CA}.crt`), '-CAkey', path.join(dir, `${WEB_CA}.key`), '-CAcreateserial'];
  await openssl(['x509', '-req', '-in', csr, ...signer, '-days', String(days), '-sha256', '-extfile', ext, '-out', `${base}.leaf.crt`], `certificate ${spec.name}`);
  const leaf = fs.readFileSync(`${base}.leaf.crt`, 'utf8');
  fs.writeFileSync(`${base}.crt`, spec.issuer === 'self' ? leaf : leaf + fs.readFileSync(path.join(dir, `${WEB_CA}.crt`), 'utf8'));
  fs.chmodSync(key, 0o600);
  fs.rmSync(csr, { force: true });
  fs.rmSync(ext, { force: true });
}
