import crypto from 'node:crypto';
import { LabError } from '../core/errors.js';
import { EXT } from '../tls/codes.js';
import { GROUP, groupByCode, isEllipticCurveSuite, type ProbeVersion, VERSION_CODES, versionRank } from './cipher-suites.js';
import { mlKemEncapsulationKey } from './ml-kem-share.js';

export type { ProbeVersion } from './cipher-suites.js';

/**
 * A hand-built ClientHello, the way testssl.sh's "sockets" mode probes: we choose every byte
 * the server decides on (versions, suites, groups, key shares, extensions), send it after
 * STARTTLS, read the ServerHello or alert, and close. No handshake is ever completed, so no
 * TLS library on our side can refuse to offer something (SSLv3, export suites, RC4) or add
 * something we did not ask for.
 */

export interface ClientHelloSpec {
  /** Highest version offered; TLSv1.3 uses supported_versions (and legacy_version 0x0303). */
  readonly maxVersion: ProbeVersion;
  /** With TLSv1.3 offered, supported_versions lists maxVersion down to minVersion (default: maxVersion alone). No wire effect below TLS 1.3. */
  readonly minVersion?: ProbeVersion;
  /** IANA codes, in the client's preference order. */
  readonly ciphers: readonly number[];
  /** supported_groups (elliptic_curves) extension. Default DEFAULT_GROUPS when TLS 1.3 or an EC suite is offered; [] leaves the extension out. */
  readonly groups?: readonly number[];
  /** TLS 1.3 key_share entries; default none (empty key_share: the server answers HelloRetryRequest naming its choice). */
  readonly keyShareGroups?: readonly number[];
  readonly sni?: string;
  /** signature_algorithms (TLS 1.2+); default DEFAULT_SIGNATURE_ALGORITHMS. */
  readonly signatureAlgorithms?: readonly number[];
  /** Add TLS_FALLBACK_SCSV 0x5600 to the end of the cipher list. */
  readonly fallbackScsv?: boolean;
  /** Default true: an empty renegotiation_info extension; for SSLv3 the SCSV 0x00FF instead. */
  readonly renegotiationInfo?: boolean;
  /** Default true (not for SSLv3, which carries no extensions). */
  readonly extendedMasterSecret?: boolean;
  /** Empty session_ticket extension, default true. */
  readonly sessionTicket?: boolean;
  /** Default [0]; [1, 0] offers DEFLATE. */
  readonly compressionMethods?: readonly number[];
  /** Default true when any EC suite or EC group is offered. */
  readonly ecPointFormats?: boolean;
  /** legacy_session_id: default 'random' (32 bytes, RFC 8446 D.4 middlebox compatibility) when TLS 1.3 is offered, else 'empty'. */
  readonly sessionId?: 'empty' | 'random';
  /** The 32-byte client random; default fresh random bytes. */
  readonly random?: Buffer;
  /** Extensions appended as given, after the ones above (e.g. to test how a server treats an unknown one). */
  readonly extraExtensions?: readonly { readonly type: number; readonly data: Buffer }[];
}

export const TLS_FALLBACK_SCSV = 0x5600;
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/** Extension types: defined once in tls/codes.ts, beside the ClientHello reader. */
export { EXT } from '../tls/codes.js';

/** X25519, the NIST curves, X448, then every RFC 7919 group: what a modern client offers, plus FFDHE so a server's DHE choice shows. */
export const DEFAULT_GROUPS: readonly number[] = Object.freeze([
  GROUP.x25519,
  GROUP.secp256r1,
  GROUP.secp384r1,
  GROUP.secp521r1,
  GROUP.x448,
  GROUP.ffdhe2048,
  GROUP.ffdhe3072,
  GROUP.ffdhe4096,
  GROUP.ffdhe6144,
  GROUP.ffdhe8192,
]);

/** RSA-PSS, ECDSA, EdDSA, RSA PKCS#1 and the SHA-1/SHA-224 legacy schemes: a probe must not be refused for a signature it did not offer. */
export const DEFAULT_SIGNATURE_ALGORITHMS: readonly number[] = Object.freeze([
  0x0403, // ecdsa_secp256r1_sha256
  0x0503, // ecdsa_secp384r1_sha384
  0x0603, // ecdsa_secp521r1_sha512
  0x0807, // ed25519
  0x0808, // ed448
  0x0804, // rsa_pss_rsae_sha256
  0x0805, // rsa_pss_rsae_sha384
  0x0806, // rsa_pss_rsae_sha512
  0x0809, // rsa_pss_pss_sha256
  0x080a, // rsa_pss_pss_sha384
  0x080b, // rsa_pss_pss_sha512
  0x0401, // rsa_pkcs1_sha256
  0x0501, // rsa_pkcs1_sha384
  0x0601, // rsa_pkcs1_sha512
  0x0303, // ecdsa_sha224 (TLS 1.2 only)
  0x0301, // rsa_pkcs1_sha224 (TLS 1.2 only)
  0x0402, // dsa_sha256 (TLS 1.2 only)
  0x0302, // dsa_sha224
  0x0203, // ecdsa_sha1
  0x0201, // rsa_pkcs1_sha1
  0x0202, // dsa_sha1
]);

/** Largest handshake fragment in one record (2^14, RFC 8446 section 5.1). */
export const MAX_FRAGMENT = 16_384;
/** We never build a hello this big; a caller asking for one has a bug (a handshake message length is 24 bits, servers refuse far less). */
const MAX_HELLO_BODY = 64 * 1024;

const u8 = (n: number) => Buffer.from([n & 0xff]);
const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const vec8 = (b: Buffer) => Buffer.concat([u8(b.length), b]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const list16 = (ns: readonly number[]) => Buffer.concat(ns.map(u16));
const ext = (type: number, data: Buffer) => Buffer.concat([u16(type), vec16(data)]);

function fail(message: string): never {
  throw new LabError('EINTERNAL', `ClientHello: ${message}`);
}

function checkCodes(what: string, codes: readonly number[], max: number): void {
  for (const c of codes) if (!Number.isInteger(c) || c < 0 || c > max) fail(`${what} holds ${c}, not a ${max === 0xff ? 'one' : 'two'}-byte code`);
}

/**
 * A valid public key for a TLS 1.3 key_share (RFC 8446 section 4.2.8.2): X25519/X448 raw keys,
 * NIST curves as uncompressed points. The private half is dropped: we never finish a handshake.
 * ML-KEM shares are encapsulation keys (ml-kem-share.ts); a hybrid share is the two halves in
 * the order draft-ietf-tls-ecdhe-mlkem gives: X25519MLKEM768 = ML-KEM-768 key ‖ X25519 key
 * (1216 bytes), SecP256r1MLKEM768 = P-256 point ‖ ML-KEM-768 key (1249), SecP384r1MLKEM1024 =
 * P-384 point ‖ ML-KEM-1024 key (1665).
 */
export function keyShareFor(group: number): Buffer {
  switch (group) {
    case GROUP.mlkem512:
      return mlKemEncapsulationKey(2);
    case GROUP.mlkem768:
      return mlKemEncapsulationKey(3);
    case GROUP.mlkem1024:
      return mlKemEncapsulationKey(4);
    case GROUP.x25519mlkem768:
      return Buffer.concat([mlKemEncapsulationKey(3), keyShareFor(GROUP.x25519)]);
    case GROUP.secp256r1mlkem768:
      return Buffer.concat([keyShareFor(GROUP.secp256r1), mlKemEncapsulationKey(3)]);
    case GROUP.secp384r1mlkem1024:
      return Buffer.concat([keyShareFor(GROUP.secp384r1), mlKemEncapsulationKey(4)]);
    case GROUP.x25519:
    case GROUP.x448: {
      const { publicKey } = group === GROUP.x25519 ? crypto.generateKeyPairSync('x25519') : crypto.generateKeyPairSync('x448');
      const jwk = publicKey.export({ format: 'jwk' });
      return Buffer.from(jwk.x!, 'base64url');
    }
    case GROUP.secp256r1:
      return crypto.createECDH('prime256v1').generateKeys();
    case GROUP.secp384r1:
      return crypto.createECDH('secp384r1').generateKeys();
    case GROUP.secp521r1:
      return crypto.createECDH('secp521r1').generateKeys();
    default:
      // FFDHE shares need the RFC 7919 primes, which node:crypto does not ship; offer the group
      // in supported_groups with no share and the server's HelloRetryRequest names it instead.
      return fail(`no key share generator for group ${group} (${groupByCode(group)?.iana ?? 'unknown'}); leave it out of keyShareGroups`);
  }
}

function serverName(host: string): Buffer {
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(host)) fail(`SNI must be an ASCII host name, got ${JSON.stringify(host)}`);
  const name = Buffer.concat([u8(0), vec16(Buffer.from(host, 'ascii'))]); // name_type host_name(0)
  return vec16(name);
}

/** The supported_versions list (client form): maxVersion down to minVersion, newest first. */
function versionList(max: ProbeVersion, min: ProbeVersion): number[] {
  const all: ProbeVersion[] = ['TLSv1.3', 'TLSv1.2', 'TLSv1.1', 'TLSv1', 'SSLv3'];
  return all.filter((v) => versionRank(v) <= versionRank(max) && versionRank(v) >= versionRank(min)).map((v) => VERSION_CODES[v]);
}

function extensions(spec: ClientHelloSpec, tls13: boolean, groups: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  if (spec.sni !== undefined) out.push(ext(EXT.serverName, serverName(spec.sni)));
  const ecOffered = spec.ciphers.some(isEllipticCurveSuite) || groups.some((c) => groupByCode(c)?.kind !== 'ffdhe');
  if (spec.ecPointFormats ?? ecOffered) out.push(ext(EXT.ecPointFormats, vec8(u8(0)))); // uncompressed only (RFC 8422 5.1.2)
  if (groups.length > 0) out.push(ext(EXT.supportedGroups, vec16(list16(groups))));
  if (spec.sessionTicket ?? true) out.push(ext(EXT.sessionTicket, Buffer.alloc(0)));
  if (spec.extendedMasterSecret ?? true) out.push(ext(EXT.extendedMasterSecret, Buffer.alloc(0)));
  if (versionRank(spec.maxVersion) >= versionRank('TLSv1.2')) {
    const sigs = spec.signatureAlgorithms ?? DEFAULT_SIGNATURE_ALGORITHMS;
    checkCodes('signatureAlgorithms', sigs, 0xffff);
    if (sigs.length === 0) fail('signatureAlgorithms is empty (TLS 1.2+ requires at least one)');
    out.push(ext(EXT.signatureAlgorithms, vec16(list16(sigs))));
  }
  if (tls13) {
    const min = spec.minVersion ?? spec.maxVersion;
    out.push(ext(EXT.supportedVersions, vec8(list16(versionList(spec.maxVersion, min)))));
    out.push(ext(EXT.pskKeyExchangeModes, vec8(u8(1)))); // psk_dhe_ke
    const shares = (spec.keyShareGroups ?? []).map((grp) => {
      if (!groups.includes(grp)) fail(`key share for group ${grp} which is not in supported_groups`);
      return Buffer.concat([u16(grp), vec16(keyShareFor(grp))]);
    });
    out.push(ext(EXT.keyShare, vec16(Buffer.concat(shares))));
  }
  if (spec.renegotiationInfo ?? true) out.push(ext(EXT.renegotiationInfo, vec8(Buffer.alloc(0))));
  for (const e of spec.extraExtensions ?? []) {
    checkCodes('extraExtensions type', [e.type], 0xffff);
    out.push(ext(e.type, e.data));
  }
  return out;
}

/** The ClientHello handshake message (type 1, with its 4-byte header), without record framing. */
export function buildClientHelloMessage(spec: ClientHelloSpec): Buffer {
  const sslv3 = spec.maxVersion === 'SSLv3';
  const tls13 = spec.maxVersion === 'TLSv1.3';
  const min = spec.minVersion ?? spec.maxVersion;
  if (versionRank(min) > versionRank(spec.maxVersion)) fail(`minVersion ${min} is above maxVersion ${spec.maxVersion}`);
  if (spec.ciphers.length === 0) fail('no cipher suites to offer');
  checkCodes('ciphers', spec.ciphers, 0xffff);
  const compression = spec.compressionMethods ?? [0];
  checkCodes('compressionMethods', compression, 0xff);
  if (compression.length === 0) fail('compressionMethods is empty (null compression must be offered)');
  const random = spec.random ?? crypto.randomBytes(32);
  if (random.length !== 32) fail(`random must be 32 bytes, got ${random.length}`);
  const sessionId = (spec.sessionId ?? (tls13 ? 'random' : 'empty')) === 'random' ? crypto.randomBytes(32) : Buffer.alloc(0);

  const ciphers = [...spec.ciphers];
  if (sslv3 && (spec.renegotiationInfo ?? true)) ciphers.push(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
  if (spec.fallbackScsv) ciphers.push(TLS_FALLBACK_SCSV);

  const ecDefault = tls13 || spec.ciphers.some(isEllipticCurveSuite);
  const groups = spec.groups ?? (ecDefault && !sslv3 ? DEFAULT_GROUPS : []);
  checkCodes('groups', groups, 0xffff);
  if (tls13 && groups.length === 0 && (spec.keyShareGroups?.length ?? 0) > 0) fail('key shares need supported_groups');

  const parts = [
    u16(tls13 ? VERSION_CODES['TLSv1.2'] : VERSION_CODES[spec.maxVersion]), // legacy_version (RFC 8446 4.1.2)
    random,
    vec8(sessionId),
    vec16(list16(ciphers)),
    vec8(Buffer.from(compression)),
  ];
  // SSLv3 hellos carry no extensions: SSLv3-only servers predate them and some choke on the block.
  if (!sslv3) parts.push(vec16(Buffer.concat(extensions(spec, tls13, groups))));
  const body = Buffer.concat(parts);
  if (body.length > MAX_HELLO_BODY) fail(`hello body of ${body.length} bytes exceeds ${MAX_HELLO_BODY}`);
  return Buffer.concat([u8(1), u24(body.length), body]);
}

/**
 * One or more complete TLS records (content type 22) holding the ClientHello. Record version
 * 0x0301 (0x0300 for SSLv3), as real clients send; a hello over 2^14 bytes is split.
 */
export function buildClientHello(spec: ClientHelloSpec): Buffer {
  const msg = buildClientHelloMessage(spec);
  const recordVersion = spec.maxVersion === 'SSLv3' ? 0x0300 : 0x0301;
  const records: Buffer[] = [];
  for (let off = 0; off < msg.length; off += MAX_FRAGMENT) {
    const frag = msg.subarray(off, off + MAX_FRAGMENT);
    records.push(u8(22), u16(recordVersion), u16(frag.length), frag);
  }
  return Buffer.concat(records);
}
