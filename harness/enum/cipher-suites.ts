import fs from 'node:fs';
import { LabError } from '../core/errors.js';

/**
 * The lab's TLS registry tables: protocol versions, cipher suites and named groups.
 *
 * Cipher suites come from two places, and every entry says which (`source`):
 * - 'openssl': data/cipher-suites.json, generated from `openssl ciphers -V -stdname` run in the
 *   lab image, i.e. exactly what the OpenSSL under test knows (data/README.md has the commands).
 * - 'iana': classic suites the lab's OpenSSL 3 does not build (RC4, export, DES, 3DES, IDEA,
 *   SEED, static DH/ECDH), taken from the public IANA TLS Cipher Suites registry by code and
 *   name. A probe still offers them: a server with an older or differently built library may
 *   accept them, and finding that is the point. Their kx/au/enc/mac are derived from the IANA
 *   name in OpenSSL's vocabulary (deriveFromIanaName), not reported by any OpenSSL.
 */

export type ProbeVersion = 'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** Oldest first. */
export const PROBE_VERSIONS: readonly ProbeVersion[] = Object.freeze(['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);

/** The two-byte protocol version on the wire (ProtocolVersion, RFC 8446 section 4.1.2). */
export const VERSION_CODES: Readonly<Record<ProbeVersion, number>> = Object.freeze({
  SSLv3: 0x0300,
  TLSv1: 0x0301,
  'TLSv1.1': 0x0302,
  'TLSv1.2': 0x0303,
  'TLSv1.3': 0x0304,
});

export function versionFromCode(code: number): ProbeVersion | null {
  for (const v of PROBE_VERSIONS) if (VERSION_CODES[v] === code) return v;
  return null;
}

export function versionRank(v: ProbeVersion): number {
  return PROBE_VERSIONS.indexOf(v);
}

/** OpenSSL's "min version" column: the oldest protocol a suite can be negotiated with (TLSv1.1 adds no suites). */
export type SuiteMinVersion = 'SSLv3' | 'TLSv1' | 'TLSv1.2' | 'TLSv1.3';

export interface CipherSuite {
  /** IANA code, e.g. 0xC02F. */
  readonly code: number;
  /** The code as OpenSSL prints it: "0xC0,0x2F". */
  readonly hex: string;
  /** OpenSSL's name, or null when the lab's OpenSSL 3 does not know the suite. */
  readonly openssl: string | null;
  /** IANA name (as OpenSSL's -stdname prints it for 'openssl' entries). */
  readonly iana: string;
  readonly minVersion: SuiteMinVersion;
  /** Key exchange, authentication, encryption and MAC in OpenSSL's words (Kx=, Au=, Enc=, Mac=). */
  readonly kx: string;
  readonly au: string;
  readonly enc: string;
  /** Symmetric key bits from Enc=…(bits); 0 for NULL encryption. */
  readonly bits: number;
  readonly mac: string;
  readonly source: 'openssl' | 'iana';
}

/** How the key is agreed, as far as a ClientHello builder and a ServerKeyExchange parser care. */
export type KeyExchangeKind = 'tls13' | 'rsa' | 'rsa-export' | 'dh-static' | 'dhe' | 'ecdh-static' | 'ecdhe' | 'psk' | 'dhe-psk' | 'ecdhe-psk' | 'rsa-psk' | 'srp';

const DATA_FILE = new URL('./data/cipher-suites.json', import.meta.url);

/**
 * IANA registry entries (code, name, oldest version) for suites the lab's OpenSSL does not
 * list. Versions follow OpenSSL's convention for the same families: non-EC SHA-1/MD5 suites
 * SSLv3, EC suites TLSv1 (they need TLS extensions), SHA-256/384 and GCM suites TLSv1.2.
 */
const IANA_ONLY: readonly (readonly [number, string, SuiteMinVersion])[] = [
  [0x0003, 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', 'SSLv3'],
  [0x0004, 'TLS_RSA_WITH_RC4_128_MD5', 'SSLv3'],
  [0x0005, 'TLS_RSA_WITH_RC4_128_SHA', 'SSLv3'],
  [0x0006, 'TLS_RSA_EXPORT_WITH_RC2_CBC_40_MD5', 'SSLv3'],
  [0x0007, 'TLS_RSA_WITH_IDEA_CBC_SHA', 'SSLv3'],
  [0x0008, 'TLS_RSA_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x0009, 'TLS_RSA_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x000b, 'TLS_DH_DSS_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x000c, 'TLS_DH_DSS_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x000d, 'TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x000e, 'TLS_DH_RSA_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x000f, 'TLS_DH_RSA_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x0010, 'TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0011, 'TLS_DHE_DSS_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x0012, 'TLS_DHE_DSS_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x0013, 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0014, 'TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x0015, 'TLS_DHE_RSA_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x0016, 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0017, 'TLS_DH_anon_EXPORT_WITH_RC4_40_MD5', 'SSLv3'],
  [0x0018, 'TLS_DH_anon_WITH_RC4_128_MD5', 'SSLv3'],
  [0x0019, 'TLS_DH_anon_EXPORT_WITH_DES40_CBC_SHA', 'SSLv3'],
  [0x001a, 'TLS_DH_anon_WITH_DES_CBC_SHA', 'SSLv3'],
  [0x001b, 'TLS_DH_anon_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0030, 'TLS_DH_DSS_WITH_AES_128_CBC_SHA', 'SSLv3'],
  [0x0031, 'TLS_DH_RSA_WITH_AES_128_CBC_SHA', 'SSLv3'],
  [0x0036, 'TLS_DH_DSS_WITH_AES_256_CBC_SHA', 'SSLv3'],
  [0x0037, 'TLS_DH_RSA_WITH_AES_256_CBC_SHA', 'SSLv3'],
  [0x003e, 'TLS_DH_DSS_WITH_AES_128_CBC_SHA256', 'TLSv1.2'],
  [0x003f, 'TLS_DH_RSA_WITH_AES_128_CBC_SHA256', 'TLSv1.2'],
  [0x0042, 'TLS_DH_DSS_WITH_CAMELLIA_128_CBC_SHA', 'SSLv3'],
  [0x0043, 'TLS_DH_RSA_WITH_CAMELLIA_128_CBC_SHA', 'SSLv3'],
  [0x0068, 'TLS_DH_DSS_WITH_AES_256_CBC_SHA256', 'TLSv1.2'],
  [0x0069, 'TLS_DH_RSA_WITH_AES_256_CBC_SHA256', 'TLSv1.2'],
  [0x0085, 'TLS_DH_DSS_WITH_CAMELLIA_256_CBC_SHA', 'SSLv3'],
  [0x0086, 'TLS_DH_RSA_WITH_CAMELLIA_256_CBC_SHA', 'SSLv3'],
  [0x008a, 'TLS_PSK_WITH_RC4_128_SHA', 'SSLv3'],
  [0x008b, 'TLS_PSK_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x008e, 'TLS_DHE_PSK_WITH_RC4_128_SHA', 'SSLv3'],
  [0x008f, 'TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0092, 'TLS_RSA_PSK_WITH_RC4_128_SHA', 'SSLv3'],
  [0x0093, 'TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0x0096, 'TLS_RSA_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x0097, 'TLS_DH_DSS_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x0098, 'TLS_DH_RSA_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x0099, 'TLS_DHE_DSS_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x009a, 'TLS_DHE_RSA_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x009b, 'TLS_DH_anon_WITH_SEED_CBC_SHA', 'SSLv3'],
  [0x00a0, 'TLS_DH_RSA_WITH_AES_128_GCM_SHA256', 'TLSv1.2'],
  [0x00a1, 'TLS_DH_RSA_WITH_AES_256_GCM_SHA384', 'TLSv1.2'],
  [0x00a4, 'TLS_DH_DSS_WITH_AES_128_GCM_SHA256', 'TLSv1.2'],
  [0x00a5, 'TLS_DH_DSS_WITH_AES_256_GCM_SHA384', 'TLSv1.2'],
  [0xc001, 'TLS_ECDH_ECDSA_WITH_NULL_SHA', 'TLSv1'],
  [0xc002, 'TLS_ECDH_ECDSA_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc003, 'TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
  [0xc004, 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA', 'TLSv1'],
  [0xc005, 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA', 'TLSv1'],
  [0xc007, 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc008, 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
  [0xc00b, 'TLS_ECDH_RSA_WITH_NULL_SHA', 'TLSv1'],
  [0xc00c, 'TLS_ECDH_RSA_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc00d, 'TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
  [0xc00e, 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA', 'TLSv1'],
  [0xc00f, 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA', 'TLSv1'],
  [0xc011, 'TLS_ECDHE_RSA_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc012, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
  [0xc016, 'TLS_ECDH_anon_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc017, 'TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
  [0xc01a, 'TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0xc01b, 'TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0xc01c, 'TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA', 'SSLv3'],
  [0xc025, 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256', 'TLSv1.2'],
  [0xc026, 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384', 'TLSv1.2'],
  [0xc029, 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256', 'TLSv1.2'],
  [0xc02a, 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384', 'TLSv1.2'],
  [0xc02d, 'TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256', 'TLSv1.2'],
  [0xc02e, 'TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384', 'TLSv1.2'],
  [0xc031, 'TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256', 'TLSv1.2'],
  [0xc032, 'TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384', 'TLSv1.2'],
  [0xc033, 'TLS_ECDHE_PSK_WITH_RC4_128_SHA', 'TLSv1'],
  [0xc034, 'TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA', 'TLSv1'],
];

/** IANA key-exchange/authentication part → OpenSSL's Kx= and Au= words. Export suites get "(512)" like OpenSSL 1.0 printed. */
const KX_AU: Readonly<Record<string, readonly [string, string]>> = {
  RSA: ['RSA', 'RSA'],
  RSA_EXPORT: ['RSA(512)', 'RSA'],
  DH_DSS: ['DH/DSS', 'DH'],
  DH_DSS_EXPORT: ['DH/DSS(512)', 'DH'],
  DH_RSA: ['DH/RSA', 'DH'],
  DH_RSA_EXPORT: ['DH/RSA(512)', 'DH'],
  DHE_DSS: ['DH', 'DSS'],
  DHE_DSS_EXPORT: ['DH(512)', 'DSS'],
  DHE_RSA: ['DH', 'RSA'],
  DHE_RSA_EXPORT: ['DH(512)', 'RSA'],
  DH_anon: ['DH', 'None'],
  DH_anon_EXPORT: ['DH(512)', 'None'],
  ECDH_ECDSA: ['ECDH/ECDSA', 'ECDH'],
  ECDH_RSA: ['ECDH/RSA', 'ECDH'],
  ECDHE_ECDSA: ['ECDH', 'ECDSA'],
  ECDHE_RSA: ['ECDH', 'RSA'],
  ECDH_anon: ['ECDH', 'None'],
  PSK: ['PSK', 'PSK'],
  DHE_PSK: ['DHEPSK', 'PSK'],
  RSA_PSK: ['RSAPSK', 'RSA'],
  ECDHE_PSK: ['ECDHEPSK', 'PSK'],
  SRP_SHA: ['SRP', 'SRP'],
  SRP_SHA_RSA: ['SRP', 'RSA'],
  SRP_SHA_DSS: ['SRP', 'DSS'],
};

const ENC: Readonly<Record<string, readonly [string, number]>> = {
  NULL: ['None', 0],
  RC4_40: ['RC4(40)', 40],
  RC4_128: ['RC4(128)', 128],
  RC2_CBC_40: ['RC2(40)', 40],
  IDEA_CBC: ['IDEA(128)', 128],
  DES40_CBC: ['DES(40)', 40],
  DES_CBC: ['DES(56)', 56],
  '3DES_EDE_CBC': ['3DES(168)', 168],
  SEED_CBC: ['SEED(128)', 128],
  AES_128_CBC: ['AES(128)', 128],
  AES_256_CBC: ['AES(256)', 256],
  AES_128_GCM: ['AESGCM(128)', 128],
  AES_256_GCM: ['AESGCM(256)', 256],
  CAMELLIA_128_CBC: ['Camellia(128)', 128],
  CAMELLIA_256_CBC: ['Camellia(256)', 256],
};

const MAC: Readonly<Record<string, string>> = { MD5: 'MD5', SHA: 'SHA1', SHA256: 'SHA256', SHA384: 'SHA384' };

/** kx/au/enc/bits/mac of an IANA-only suite, from its name TLS_<KX>_WITH_<ENC>_<MAC>. */
export function deriveFromIanaName(name: string): Pick<CipherSuite, 'kx' | 'au' | 'enc' | 'bits' | 'mac'> {
  const m = /^TLS_(.+)_WITH_(.+)_(MD5|SHA|SHA256|SHA384)$/.exec(name);
  const kxau = m ? KX_AU[m[1]!] : undefined;
  const enc = m ? ENC[m[2]!] : undefined;
  if (!m || !kxau || !enc) throw new LabError('EINTERNAL', `cannot derive kx/au/enc/mac from the IANA name ${name}`);
  const aead = m[2]!.endsWith('_GCM');
  return { kx: kxau[0], au: kxau[1], enc: enc[0], bits: enc[1], mac: aead ? 'AEAD' : MAC[m[3]!]! };
}

function hexOf(code: number): string {
  const h = (b: number) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return `${h(code >> 8)},${h(code & 0xff)}`;
}

const MIN_VERSIONS = new Set<string>(['SSLv3', 'TLSv1', 'TLSv1.2', 'TLSv1.3']);

/** Read and check the generated table: a hand-edited or truncated file fails here, not in a probe. */
function loadOpenSslSuites(): CipherSuite[] {
  const raw = JSON.parse(fs.readFileSync(DATA_FILE, 'utf8')) as { schema?: unknown; suites?: unknown };
  if (raw.schema !== 'smtp-tls-lab/cipher-suites@1' || !Array.isArray(raw.suites)) {
    throw new LabError('EINTERNAL', `${DATA_FILE.pathname}: not a smtp-tls-lab/cipher-suites@1 table`);
  }
  return raw.suites.map((s: Record<string, unknown>, i: number) => {
    const ok =
      typeof s.code === 'number' &&
      s.hex === hexOf(s.code) &&
      typeof s.openssl === 'string' &&
      typeof s.iana === 'string' &&
      typeof s.minVersion === 'string' &&
      MIN_VERSIONS.has(s.minVersion) &&
      typeof s.kx === 'string' &&
      typeof s.au === 'string' &&
      typeof s.enc === 'string' &&
      typeof s.bits === 'number' &&
      typeof s.mac === 'string';
    if (!ok) throw new LabError('EINTERNAL', `${DATA_FILE.pathname}: suites[${i}] is malformed: ${JSON.stringify(s)}`);
    return {
      code: s.code as number,
      hex: s.hex as string,
      openssl: s.openssl as string,
      iana: s.iana as string,
      minVersion: s.minVersion as SuiteMinVersion,
      kx: s.kx as string,
      au: s.au as string,
      enc: s.enc as string,
      bits: s.bits as number,
      mac: s.mac as string,
      source: 'openssl' as const,
    };
  });
}

function buildTable(): readonly CipherSuite[] {
  const fromOpenSsl = loadOpenSslSuites();
  const known = new Set(fromOpenSsl.map((s) => s.code));
  const fromIana: CipherSuite[] = IANA_ONLY.filter(([code]) => !known.has(code)).map(([code, iana, minVersion]) => ({
    code,
    hex: hexOf(code),
    openssl: null,
    iana,
    minVersion,
    ...deriveFromIanaName(iana),
    source: 'iana' as const,
  }));
  const all = [...fromOpenSsl, ...fromIana].sort((a, b) => a.code - b.code);
  return Object.freeze(all.map((s) => Object.freeze(s)));
}

/** Every suite the lab knows, by code. */
export const ALL_SUITES: readonly CipherSuite[] = buildTable();

const BY_CODE = new Map(ALL_SUITES.map((s) => [s.code, s]));
const BY_OPENSSL = new Map(ALL_SUITES.filter((s) => s.openssl !== null).map((s) => [s.openssl!, s]));
const BY_IANA = new Map(ALL_SUITES.map((s) => [s.iana, s]));

export function byCode(code: number): CipherSuite | undefined {
  return BY_CODE.get(code);
}

export function byOpenSslName(name: string): CipherSuite | undefined {
  return BY_OPENSSL.get(name);
}

export function byIanaName(name: string): CipherSuite | undefined {
  return BY_IANA.get(name);
}

/** The TLS 1.3 suites (0x1301..0x1305), in code order. */
export const TLS13_SUITES: readonly CipherSuite[] = Object.freeze(ALL_SUITES.filter((s) => s.minVersion === 'TLSv1.3'));

const ALLOWED_MIN: Readonly<Record<ProbeVersion, ReadonlySet<SuiteMinVersion>>> = {
  SSLv3: new Set(['SSLv3']),
  TLSv1: new Set(['SSLv3', 'TLSv1']),
  'TLSv1.1': new Set(['SSLv3', 'TLSv1']),
  'TLSv1.2': new Set(['SSLv3', 'TLSv1', 'TLSv1.2']),
  'TLSv1.3': new Set(['TLSv1.3']),
};

/**
 * Codes a server may select when `version` is negotiated, in code order: what a probe offers
 * to enumerate that version. TLS 1.3 has its own five suites; TLS 1.2 takes every older suite
 * too. A client offering TLS 1.3 and 1.2 together sends suitesFor('TLSv1.3') + suitesFor('TLSv1.2').
 */
export function suitesFor(version: ProbeVersion): readonly number[] {
  const allowed = ALLOWED_MIN[version];
  return ALL_SUITES.filter((s) => allowed.has(s.minVersion)).map((s) => s.code);
}

/** The key exchange of a suite, from its IANA name (OpenSSL's Kx= does not tell DHE from static DH). */
export function keyExchangeOf(code: number): KeyExchangeKind | null {
  const s = BY_CODE.get(code);
  if (!s) return null;
  if (s.minVersion === 'TLSv1.3') return 'tls13';
  const kx = /^TLS_(.+?)_WITH_/.exec(s.iana)?.[1] ?? '';
  if (kx === 'PSK_DHE') return 'dhe-psk'; // 0xC0AA/0xC0AB are registered as TLS_PSK_DHE_WITH_…
  if (kx === 'RSA') return 'rsa';
  if (kx === 'RSA_EXPORT') return 'rsa-export';
  if (/^DH_(DSS|RSA)(_EXPORT)?$/.test(kx)) return 'dh-static';
  if (/^(DHE_(DSS|RSA)|DH_anon)(_EXPORT)?$/.test(kx)) return 'dhe';
  if (/^ECDH_(ECDSA|RSA)$/.test(kx)) return 'ecdh-static';
  if (/^(ECDHE_(ECDSA|RSA)|ECDH_anon)$/.test(kx)) return 'ecdhe';
  if (kx === 'PSK') return 'psk';
  if (kx === 'DHE_PSK') return 'dhe-psk';
  if (kx === 'ECDHE_PSK') return 'ecdhe-psk';
  if (kx === 'RSA_PSK') return 'rsa-psk';
  if (kx.startsWith('SRP_')) return 'srp';
  return null;
}

/** True for suites that use elliptic curves (and so want ec_point_formats/supported_groups in TLS <= 1.2). */
export function isEllipticCurveSuite(code: number): boolean {
  const k = keyExchangeOf(code);
  return k === 'ecdhe' || k === 'ecdh-static' || k === 'ecdhe-psk' || (BY_CODE.get(code)?.au === 'ECDSA');
}

// ---------------------------------------------------------------------------------------------
// Named groups (IANA "TLS Supported Groups", formerly EC Named Curve).

export interface NamedGroup {
  readonly code: number;
  /** IANA description. */
  readonly iana: string;
  /** The name OpenSSL 3.0 accepts in a groups/curves list (-groups, SSL_CTX_set1_groups_list), or null when it has none. */
  readonly openssl: string | null;
  /** Other names OpenSSL accepts or prints for the same group (NIST names, X9.62 names). */
  readonly aliases: readonly string[];
  /** 'hybrid': ML-KEM combined with an ECDH share (draft-ietf-tls-ecdhe-mlkem); 'kem': ML-KEM alone (draft-ietf-tls-mlkem). Both are TLS 1.3 only. */
  readonly kind: GroupKind;
  /**
   * Key size as OpenSSL reports it ("Server Temp Key: X25519, 253 bits"). OpenSSL reports none
   * for ML-KEM and hybrid groups, so for those it is the security strength of the ML-KEM
   * parameter set (FIPS 203 categories 1, 3, 5: 128, 192, 256 bits).
   */
  readonly bits: number;
}

export type GroupKind = 'ecdhe' | 'ffdhe' | 'hybrid' | 'kem';

const g = (code: number, iana: string, openssl: string | null, aliases: string[], kind: GroupKind, bits: number): NamedGroup =>
  Object.freeze({ code, iana, openssl, aliases: Object.freeze(aliases), kind, bits });

export const NAMED_GROUPS: readonly NamedGroup[] = Object.freeze([
  g(1, 'sect163k1', 'sect163k1', ['K-163'], 'ecdhe', 163),
  g(2, 'sect163r1', 'sect163r1', [], 'ecdhe', 163),
  g(3, 'sect163r2', 'sect163r2', ['B-163'], 'ecdhe', 163),
  g(4, 'sect193r1', 'sect193r1', [], 'ecdhe', 193),
  g(5, 'sect193r2', 'sect193r2', [], 'ecdhe', 193),
  g(6, 'sect233k1', 'sect233k1', ['K-233'], 'ecdhe', 233),
  g(7, 'sect233r1', 'sect233r1', ['B-233'], 'ecdhe', 233),
  g(8, 'sect239k1', 'sect239k1', [], 'ecdhe', 239),
  g(9, 'sect283k1', 'sect283k1', ['K-283'], 'ecdhe', 283),
  g(10, 'sect283r1', 'sect283r1', ['B-283'], 'ecdhe', 283),
  g(11, 'sect409k1', 'sect409k1', ['K-409'], 'ecdhe', 409),
  g(12, 'sect409r1', 'sect409r1', ['B-409'], 'ecdhe', 409),
  g(13, 'sect571k1', 'sect571k1', ['K-571'], 'ecdhe', 571),
  g(14, 'sect571r1', 'sect571r1', ['B-571'], 'ecdhe', 571),
  g(15, 'secp160k1', 'secp160k1', [], 'ecdhe', 160),
  g(16, 'secp160r1', 'secp160r1', [], 'ecdhe', 160),
  g(17, 'secp160r2', 'secp160r2', [], 'ecdhe', 160),
  g(18, 'secp192k1', 'secp192k1', [], 'ecdhe', 192),
  g(19, 'secp192r1', 'prime192v1', ['P-192', 'secp192r1'], 'ecdhe', 192),
  g(20, 'secp224k1', 'secp224k1', [], 'ecdhe', 224),
  g(21, 'secp224r1', 'secp224r1', ['P-224'], 'ecdhe', 224),
  g(22, 'secp256k1', 'secp256k1', [], 'ecdhe', 256),
  g(23, 'secp256r1', 'prime256v1', ['P-256', 'secp256r1'], 'ecdhe', 256),
  g(24, 'secp384r1', 'secp384r1', ['P-384'], 'ecdhe', 384),
  g(25, 'secp521r1', 'secp521r1', ['P-521'], 'ecdhe', 521),
  g(26, 'brainpoolP256r1', 'brainpoolP256r1', [], 'ecdhe', 256),
  g(27, 'brainpoolP384r1', 'brainpoolP384r1', [], 'ecdhe', 384),
  g(28, 'brainpoolP512r1', 'brainpoolP512r1', [], 'ecdhe', 512),
  g(29, 'x25519', 'X25519', ['x25519'], 'ecdhe', 253),
  g(30, 'x448', 'X448', ['x448'], 'ecdhe', 448),
  // RFC 8734 TLS 1.3 brainpool codes: OpenSSL 3.0 (the lab's) has no name for them.
  g(31, 'brainpoolP256r1tls13', null, [], 'ecdhe', 256),
  g(32, 'brainpoolP384r1tls13', null, [], 'ecdhe', 384),
  g(33, 'brainpoolP512r1tls13', null, [], 'ecdhe', 512),
  g(256, 'ffdhe2048', 'ffdhe2048', [], 'ffdhe', 2048),
  g(257, 'ffdhe3072', 'ffdhe3072', [], 'ffdhe', 3072),
  g(258, 'ffdhe4096', 'ffdhe4096', [], 'ffdhe', 4096),
  g(259, 'ffdhe6144', 'ffdhe6144', [], 'ffdhe', 6144),
  g(260, 'ffdhe8192', 'ffdhe8192', [], 'ffdhe', 8192),
  // Post-quantum (TLS 1.3 only). OpenSSL 3.5+ names them exactly as IANA does (`openssl list
  // -tls-groups` on trixie), but the lab's OpenSSL 3.0 (Node 20) has no name for them, so
  // `openssl` is null as for the RFC 8734 codes: node:tls never offers or negotiates them.
  g(0x0200, 'MLKEM512', null, [], 'kem', 128),
  g(0x0201, 'MLKEM768', null, [], 'kem', 192),
  g(0x0202, 'MLKEM1024', null, [], 'kem', 256),
  g(0x11eb, 'SecP256r1MLKEM768', null, [], 'hybrid', 192),
  g(0x11ec, 'X25519MLKEM768', null, [], 'hybrid', 192),
  g(0x11ed, 'SecP384r1MLKEM1024', null, [], 'hybrid', 256),
]);

/** Codes of the groups most servers use, for readable call sites. */
export const GROUP = Object.freeze({
  x25519: 29,
  x448: 30,
  secp256r1: 23,
  secp384r1: 24,
  secp521r1: 25,
  ffdhe2048: 256,
  ffdhe3072: 257,
  ffdhe4096: 258,
  ffdhe6144: 259,
  ffdhe8192: 260,
  mlkem512: 0x0200,
  mlkem768: 0x0201,
  mlkem1024: 0x0202,
  secp256r1mlkem768: 0x11eb,
  x25519mlkem768: 0x11ec,
  secp384r1mlkem1024: 0x11ed,
});

const GROUP_BY_CODE = new Map(NAMED_GROUPS.map((x) => [x.code, x]));
const GROUP_BY_NAME = new Map<string, NamedGroup>();
for (const x of NAMED_GROUPS) for (const n of [x.iana, x.openssl, ...x.aliases]) if (n) GROUP_BY_NAME.set(n.toLowerCase(), x);

export function groupByCode(code: number): NamedGroup | undefined {
  return GROUP_BY_CODE.get(code);
}

/** By IANA, OpenSSL or NIST name, case-insensitive: 'X25519', 'prime256v1', 'P-256', 'secp256r1' and 'ffdhe4096' all work. */
export function groupByName(name: string): NamedGroup | undefined {
  return GROUP_BY_NAME.get(name.toLowerCase());
}
