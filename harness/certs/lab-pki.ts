import { X509Certificate, createHash } from 'node:crypto';
import { generate } from 'selfsigned';
import { KeyPool } from './key-pool.js';

/**
 * The lab's certificates, made fresh for every run with selfsigned: one lab CA and leaf
 * certificates signed by it (or self-signed), RSA or ECDSA, with SANs and chosen validity.
 * Nothing here is written to disk; harness/certs/materialize.ts does that with mode 0600.
 */

export type KeySpec = 'rsa-2048' | 'rsa-3072' | 'rsa-4096' | 'ec-p256' | 'ec-p384';
export const KEY_SPECS: readonly KeySpec[] = ['rsa-2048', 'rsa-3072', 'rsa-4096', 'ec-p256', 'ec-p384'];

export interface CertPair {
  /** Leaf certificate PEM. */
  readonly cert: string;
  /** Private key PEM (PKCS#8). Never copied into a report. */
  readonly key: string;
  /** Issuer chain PEM (empty for self-signed and for the CA itself). */
  readonly chain: string;
  readonly sha256: string;
}

export interface LeafSpec {
  readonly commonName: string;
  readonly sans?: readonly string[];
  readonly key?: KeySpec;
  /** Days of validity from notBefore; negative-free. */
  readonly validDays?: number;
  /** Days before now for notBefore (use with a short validDays for an expired certificate). */
  readonly notBeforeDaysAgo?: number;
  readonly usage?: 'server' | 'client';
  /**
   * 'lab-ca' (default): issued by the lab root of the key's family. 'lab-intermediate': issued
   * by an intermediate CA under that root (the chain then needs the intermediate). 'self':
   * self-signed.
   */
  readonly issuer?: 'lab-ca' | 'lab-intermediate' | 'self';
  /**
   * Issue with the key of another certificate of the scenario (by name) instead of a new one:
   * a re-issued certificate for the same key, as a public-key pin must survive.
   */
  readonly keyFrom?: string;
}

function keyOptions(spec: KeySpec): { keyType: 'rsa' | 'ec'; keySize?: number; curve?: 'P-256' | 'P-384' } {
  switch (spec) {
    case 'rsa-2048':
      return { keyType: 'rsa', keySize: 2048 };
    case 'rsa-3072':
      return { keyType: 'rsa', keySize: 3072 };
    case 'rsa-4096':
      return { keyType: 'rsa', keySize: 4096 };
    case 'ec-p256':
      return { keyType: 'ec', curve: 'P-256' };
    case 'ec-p384':
      return { keyType: 'ec', curve: 'P-384' };
  }
}

function fingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

function sanEntries(names: readonly string[]): { type: 2 | 7; value?: string; ip?: string }[] {
  return names.map((n) => (/^[0-9.]+$/.test(n) || n.includes(':') ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
}

const DAY_MS = 86_400_000;

/**
 * selfsigned 5.5 imports the issuing CA's key with the *leaf's* key type, so one CA can only
 * sign leaves of its own family. The lab therefore has two roots, one RSA and one ECDSA, and
 * trust bundles hold both.
 */
export class LabPki {
  private readonly intermediates = new Map<'rsa' | 'ec', Promise<CertPair>>();
  /** Leaf keys, made ahead (each used once): RSA key generation was most of a scenario's certificate step. */
  private readonly keys = new KeyPool();

  private constructor(
    readonly rsaCa: CertPair,
    readonly ecCa: CertPair,
  ) {}

  /** The intermediate CA of a key family, made on first use and signed by that family's root. */
  private intermediate(family: 'rsa' | 'ec'): Promise<CertPair> {
    let p = this.intermediates.get(family);
    if (!p) {
      const root = family === 'rsa' ? this.rsaCa : this.ecCa;
      p = makeCa(`smtp-tls-lab ${family === 'rsa' ? 'RSA' : 'ECDSA'} Intermediate CA`, family === 'rsa' ? 'rsa-2048' : 'ec-p256', root);
      this.intermediates.set(family, p);
    }
    return p;
  }

  /** Both lab roots, PEM, for a client's or server's CAfile. */
  get trustBundle(): string {
    return `${this.rsaCa.cert.trim()}\n${this.ecCa.cert.trim()}\n`;
  }

  private static runPki: Promise<LabPki> | null = null;

  /** The lab roots of this run: made once per process and shared by every scenario in it. */
  static forRun(): Promise<LabPki> {
    LabPki.runPki ??= LabPki.create().then((pki) => {
      // The catalogue's most common leaf key; the first scenarios then find one made.
      pki.keys.fill('rsa-2048');
      return pki;
    });
    return LabPki.runPki;
  }

  /** Fresh lab roots, valid for a year. */
  static async create(): Promise<LabPki> {
    const [rsaCa, ecCa] = await Promise.all([makeRoot('smtp-tls-lab RSA CA', 'rsa-2048'), makeRoot('smtp-tls-lab ECDSA CA', 'ec-p256')]);
    return new LabPki(rsaCa, ecCa);
  }

  /** A leaf certificate, issued by the lab CA of its key family unless spec.issuer is 'self'. */
  async issue(spec: LeafSpec, reuse?: CertPair): Promise<CertPair> {
    const now = Date.now();
    const key = spec.key ?? 'ec-p256';
    const family = key.startsWith('rsa') ? 'rsa' : 'ec';
    const root = family === 'rsa' ? this.rsaCa : this.ecCa;
    const ca = spec.issuer === 'lab-intermediate' ? await this.intermediate(family) : root;
    const notBefore = new Date(now - (spec.notBeforeDaysAgo ?? 1) * DAY_MS);
    const notAfter = new Date(notBefore.getTime() + (spec.validDays ?? 365) * DAY_MS);
    const usage = spec.usage ?? 'server';
    const selfSigned = spec.issuer === 'self';
    const keyPair = reuse ? { privateKey: reuse.key, publicKey: new X509Certificate(reuse.cert).publicKey.export({ type: 'spki', format: 'pem' }).toString() } : await this.keys.take(key);
    const pems = await generate([{ name: 'commonName', value: spec.commonName }], {
      ...keyOptions(key),
      keyPair,
      algorithm: 'sha256',
      notBeforeDate: notBefore,
      notAfterDate: notAfter,
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: key.startsWith('rsa'), critical: true },
        { name: 'extKeyUsage', serverAuth: usage === 'server', clientAuth: usage === 'client' },
        { name: 'subjectAltName', altNames: sanEntries(spec.sans ?? [spec.commonName]) },
      ],
      ...(selfSigned ? {} : { ca: { key: ca.key, cert: ca.cert } }),
    });
    // The chain a server sends: the issuing CA (and, for an intermediate, nothing above it:
    // the root is the client's trust anchor).
    return { cert: pems.cert, key: pems.private, chain: selfSigned ? '' : ca.cert, sha256: fingerprint(pems.cert) };
  }
}

async function makeRoot(commonName: string, key: KeySpec): Promise<CertPair> {
  return makeCa(commonName, key, null);
}

/** A CA certificate: self-signed root when `issuer` is null, else an intermediate signed by `issuer`. */
async function makeCa(commonName: string, key: KeySpec, issuer: CertPair | null): Promise<CertPair> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'smtp-tls-lab' }], {
    ...keyOptions(key),
    algorithm: 'sha256',
    notBeforeDate: new Date(now - DAY_MS),
    notAfterDate: new Date(now + 365 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
    ...(issuer ? { ca: { key: issuer.key, cert: issuer.cert } } : {}),
  });
  return { cert: pems.cert, key: pems.private, chain: issuer ? issuer.cert : '', sha256: fingerprint(pems.cert) };
}

/** SHA-256 of a certificate's DER SubjectPublicKeyInfo: what a DANE "3 1 1" TLSA record holds. */
export function spkiSha256(certPem: string): string {
  const spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}
