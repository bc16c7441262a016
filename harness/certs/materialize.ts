import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabPki, type CertPair, type LeafSpec } from './lab-pki.js';

/**
 * Writes a scenario's certificates into a fresh temporary directory for one run: each key
 * with mode 0600, the directory 0700. The directory is bind-mounted read-only into the
 * container and removed when the scenario ends. Keys never leave it.
 *
 * For a certificate named N the directory holds:
 *   N.crt        leaf followed by its issuing lab CA (what smtpd_tls_cert_file wants)
 *   N.leaf.crt   the leaf alone (for "chain missing" scenarios)
 *   N.key        the private key
 * and lab-ca.crt, the lab's trust bundle (for smtpd_tls_CAfile).
 */
export function certificateFiles(name: string): string[] {
  return [`${name}.crt`, `${name}.leaf.crt`, `${name}.key`];
}

export interface MaterializedCerts {
  readonly dir: string;
  readonly pki: LabPki;
  readonly pairs: ReadonlyMap<string, CertPair>;
  remove(): void;
}

export async function materializeCertificates(label: string, specs: readonly (LeafSpec & { name: string })[], extraFiles: Readonly<Record<string, string>> = {}): Promise<MaterializedCerts> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `smtp-tls-lab-${label}-`));
  fs.chmodSync(dir, 0o700);
  const pki = await LabPki.forRun();
  const pairs = new Map<string, CertPair>();
  try {
    // Issued side by side (each key is made on libuv's thread pool), written in order.
    const fresh = specs.filter((s) => !s.keyFrom);
    const made = new Map((await Promise.all(fresh.map((spec) => pki.issue(spec)))).map((p, i) => [fresh[i]!.name, p] as const));
    // Certificates that reuse another's key come after it (the loader refuses chains and unknown names).
    for (const spec of specs.filter((s) => s.keyFrom)) made.set(spec.name, await pki.issue(spec, made.get(spec.keyFrom!)));
    const issued = specs.map((s) => made.get(s.name)!);
    for (const [i, spec] of specs.entries()) {
      const pair = issued[i]!;
      pairs.set(spec.name, pair);
      fs.writeFileSync(path.join(dir, `${spec.name}.crt`), pair.cert.trim() + '\n' + (pair.chain ? pair.chain.trim() + '\n' : ''), { mode: 0o644 });
      fs.writeFileSync(path.join(dir, `${spec.name}.leaf.crt`), pair.cert, { mode: 0o644 });
      fs.writeFileSync(path.join(dir, `${spec.name}.key`), pair.key, { mode: 0o600 });
    }
    fs.writeFileSync(path.join(dir, 'lab-ca.crt'), pki.trustBundle, { mode: 0o644 });
    for (const [name, content] of Object.entries(extraFiles)) fs.writeFileSync(path.join(dir, name), content, { mode: 0o600 });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { dir, pki, pairs, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
