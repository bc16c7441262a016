import { generateKeyPair } from 'node:crypto';
import type { KeySpec } from './lab-pki.js';

/** A fresh key pair as selfsigned takes it: PKCS#8 and SPKI PEM. */
export interface KeyPairPem {
  readonly privateKey: string;
  readonly publicKey: string;
}

function makeKey(spec: KeySpec): Promise<KeyPairPem> {
  const encoding = { publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } } as const;
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, publicKey: string, privateKey: string) => (err ? reject(err) : resolve({ privateKey, publicKey }));
    if (spec.startsWith('rsa-')) generateKeyPair('rsa', { modulusLength: Number(spec.slice(4)), publicExponent: 0x10001, ...encoding }, done);
    else generateKeyPair('ec', { namedCurve: spec === 'ec-p384' ? 'P-384' : 'P-256', ...encoding }, done);
  });
}

/**
 * Keys made ahead of need. An RSA key takes 0.1–1.5 s to find (random primes; more on a
 * busy machine), which was most of a scenario's certificate step. Each key is used once, for
 * one certificate; after a key of a size is taken, the next one of that size is already being
 * made on libuv's thread pool, off the caller's path. EC keys take about a millisecond and are
 * made when asked. Keys live only in this process's memory until materialize.ts writes one
 * (0600) for its scenario, and are never reused.
 */
export class KeyPool {
  private readonly ahead = new Map<KeySpec, Promise<KeyPairPem>[]>();

  /** How many keys of each RSA size to keep in the making. */
  constructor(private readonly depth = 2) {}

  /** A fresh key of the spec, never handed out before. */
  take(spec: KeySpec): Promise<KeyPairPem> {
    if (!spec.startsWith('rsa-')) return makeKey(spec);
    const queue = this.ahead.get(spec) ?? [];
    this.ahead.set(spec, queue);
    const key = queue.shift() ?? makeKey(spec);
    this.fill(spec);
    return key;
  }

  /** Start making keys of the spec now, for takes that come later. */
  fill(spec: KeySpec): void {
    if (!spec.startsWith('rsa-')) return;
    const queue = this.ahead.get(spec) ?? [];
    this.ahead.set(spec, queue);
    while (queue.length < this.depth) {
      const p = makeKey(spec);
      // A key made ahead and never taken must not surface as an unhandled rejection.
      p.catch(() => undefined);
      queue.push(p);
    }
  }
}
