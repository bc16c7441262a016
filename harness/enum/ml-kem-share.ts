import crypto from 'node:crypto';

/**
 * Key shares for the post-quantum groups, built without an ML-KEM implementation (Node 20's
 * OpenSSL 3.0 has none). A client's ML-KEM share is an encapsulation key (FIPS 203 section 7.2):
 * k polynomials of 256 coefficients modulo q = 3329, 12 bits each (ByteEncode12), then the
 * 32-byte seed rho. The server checks only its length and that every coefficient is below q
 * (the "modulus check"), then encapsulates to it. A key whose coefficients are uniform below q
 * passes both and looks like any real key (a real t = A·s + e is pseudorandom too); nobody holds
 * its decapsulation key, which the probe never needs: it reads the ServerHello and closes.
 */

const Q = 3329;

/** ML-KEM parameter sets by k: 2 → ML-KEM-512, 3 → 768, 4 → 1024. */
export type MlKemRank = 2 | 3 | 4;

/** Encapsulation key length: 384·k + 32 (800, 1184, 1568 bytes). */
export const encapsulationKeyBytes = (k: MlKemRank) => 384 * k + 32;

/** Coefficients uniform in [0, q), by rejection from 16-bit random values. */
function coefficients(count: number): Uint16Array {
  const out = new Uint16Array(count);
  let filled = 0;
  while (filled < count) {
    const r = crypto.randomBytes(2 * (count - filled) + 64);
    for (let i = 0; i + 1 < r.length && filled < count; i += 2) {
      const v = r.readUInt16LE(i) & 0x0fff; // 12 bits: 4096 values, 3329 of them accepted
      if (v < Q) out[filled++] = v;
    }
  }
  return out;
}

/** ByteEncode12 (FIPS 203 algorithm 5): two coefficients in three bytes, little-endian bit order. */
export function byteEncode12(c: Uint16Array): Buffer {
  if (c.length % 2 !== 0) throw new RangeError('byteEncode12 takes an even number of coefficients');
  const out = Buffer.alloc((c.length * 3) / 2);
  for (let i = 0, o = 0; i < c.length; i += 2, o += 3) {
    const a = c[i]!;
    const b = c[i + 1]!;
    out[o] = a & 0xff;
    out[o + 1] = (a >> 8) | ((b & 0x0f) << 4);
    out[o + 2] = b >> 4;
  }
  return out;
}

/** ByteDecode12, for the modulus check (and the tests). */
export function byteDecode12(b: Buffer): Uint16Array {
  const out = new Uint16Array((b.length / 3) * 2);
  for (let i = 0, o = 0; i + 2 < b.length; i += 3, o += 2) {
    out[o] = b[i]! | ((b[i + 1]! & 0x0f) << 8);
    out[o + 1] = (b[i + 1]! >> 4) | (b[i + 2]! << 4);
  }
  return out;
}

/** A fresh encapsulation key that passes FIPS 203's input checks (length, every coefficient < q). */
export function mlKemEncapsulationKey(k: MlKemRank): Buffer {
  return Buffer.concat([byteEncode12(coefficients(256 * k)), crypto.randomBytes(32)]);
}

/** FIPS 203 section 7.2's modulus check: what a server does with the share before encapsulating. */
export function passesModulusCheck(ek: Buffer, k: MlKemRank): boolean {
  if (ek.length !== encapsulationKeyBytes(k)) return false;
  const t = ek.subarray(0, 384 * k);
  return byteDecode12(t).every((x) => x < Q) && byteEncode12(byteDecode12(t)).equals(t);
}
