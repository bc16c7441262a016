import { byCode, groupByCode } from '../enum/cipher-suites.js';
import { isGrease, TLS_VERSION_NAMES } from '../tls/codes.js';
import type { OfferedHello } from '../tls/client-hello-reader.js';

/**
 * What a client OFFERED in its ClientHello, named the way Postfix settings and logs name
 * things (OpenSSL suite names, OpenSSL group names, TLSv1.2 …), for expectations such as
 * "clientHello.versions": { "excludes": "TLSv1" }. GREASE values are left out of the named
 * lists (they are noise by design); the codes keep them.
 */
export interface HelloView {
  /** legacy_version in the hello ('TLSv1.2' from any TLS 1.3 client). */
  readonly legacyVersion: string;
  /** Versions offered, newest first: supported_versions when sent, else legacy_version and below. */
  readonly versions: readonly string[];
  /** Suites in the client's order, OpenSSL names (IANA name, or 0x…, when OpenSSL has none); SCSVs included. */
  readonly cipherSuites: readonly string[];
  readonly cipherSuiteCount: number;
  /** Suite codes as sent, GREASE included. */
  readonly cipherSuiteCodes: readonly number[];
  readonly groups: readonly string[];
  readonly keyShares: readonly string[];
  readonly signatureAlgorithms: readonly string[];
  /** server_name (SNI), or null when none was sent. */
  readonly sni: string | null;
  readonly alpn: readonly string[];
  /** Extension names in the order sent. */
  readonly extensions: readonly string[];
  readonly compressionMethods: readonly number[];
  /** The hello's size on the wire (record headers included) and the records it took. */
  readonly bytes: number;
  readonly records: number;
}


const hex4 = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;

export function versionName(code: number): string {
  return TLS_VERSION_NAMES[code] ?? hex4(code);
}

export function suiteName(code: number): string {
  if (code === 0x00ff) return 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV';
  if (code === 0x5600) return 'TLS_FALLBACK_SCSV';
  const s = byCode(code);
  return s ? (s.openssl ?? s.iana) : hex4(code);
}

export function groupName(code: number): string {
  const g = groupByCode(code);
  return g ? (g.openssl ?? g.iana) : hex4(code);
}

/** IANA "TLS SignatureScheme" names of the schemes OpenSSL clients send. */
const SIGNATURE_SCHEMES: Readonly<Record<number, string>> = {
  0x0201: 'rsa_pkcs1_sha1',
  0x0202: 'dsa_sha1',
  0x0203: 'ecdsa_sha1',
  0x0301: 'rsa_pkcs1_sha224',
  0x0302: 'dsa_sha224',
  0x0303: 'ecdsa_sha224',
  0x0401: 'rsa_pkcs1_sha256',
  0x0402: 'dsa_sha256',
  0x0403: 'ecdsa_secp256r1_sha256',
  0x0420: 'rsa_pkcs1_sha256_legacy',
  0x0501: 'rsa_pkcs1_sha384',
  0x0502: 'dsa_sha384',
  0x0503: 'ecdsa_secp384r1_sha384',
  0x0601: 'rsa_pkcs1_sha512',
  0x0602: 'dsa_sha512',
  0x0603: 'ecdsa_secp521r1_sha512',
  0x0804: 'rsa_pss_rsae_sha256',
  0x0805: 'rsa_pss_rsae_sha384',
  0x0806: 'rsa_pss_rsae_sha512',
  0x0807: 'ed25519',
  0x0808: 'ed448',
  0x0809: 'rsa_pss_pss_sha256',
  0x080a: 'rsa_pss_pss_sha384',
  0x080b: 'rsa_pss_pss_sha512',
  0x081a: 'ecdsa_brainpoolP256r1tls13_sha256',
  0x081b: 'ecdsa_brainpoolP384r1tls13_sha384',
  0x081c: 'ecdsa_brainpoolP512r1tls13_sha512',
};

/** IANA "TLS ExtensionType Values" names of the extensions OpenSSL and GnuTLS clients send. */
const EXTENSIONS: Readonly<Record<number, string>> = {
  0: 'server_name',
  1: 'max_fragment_length',
  5: 'status_request',
  10: 'supported_groups',
  11: 'ec_point_formats',
  13: 'signature_algorithms',
  15: 'heartbeat',
  16: 'application_layer_protocol_negotiation',
  18: 'signed_certificate_timestamp',
  19: 'client_certificate_type',
  20: 'server_certificate_type',
  21: 'padding',
  22: 'encrypt_then_mac',
  23: 'extended_master_secret',
  27: 'compress_certificate',
  28: 'record_size_limit',
  35: 'session_ticket',
  41: 'pre_shared_key',
  42: 'early_data',
  43: 'supported_versions',
  44: 'cookie',
  45: 'psk_key_exchange_modes',
  49: 'post_handshake_auth',
  50: 'signature_algorithms_cert',
  51: 'key_share',
  0xff01: 'renegotiation_info',
};

const named = (codes: readonly number[] | null, name: (c: number) => string) => (codes ?? []).filter((c) => !isGrease(c)).map(name);

/** The named view of a hello the reader parsed. */
export function helloView(h: OfferedHello): HelloView {
  const versions = h.supportedVersions
    ? named(h.supportedVersions, versionName)
    : // Without supported_versions a client offers legacy_version and everything below it (down to the oldest it still speaks, which the hello does not say).
      [versionName(h.legacyVersion)];
  return Object.freeze({
    legacyVersion: versionName(h.legacyVersion),
    versions: Object.freeze(versions),
    cipherSuites: Object.freeze(named(h.cipherSuites, suiteName)),
    cipherSuiteCount: h.cipherSuites.filter((c) => !isGrease(c)).length,
    cipherSuiteCodes: Object.freeze([...h.cipherSuites]),
    groups: Object.freeze(named(h.supportedGroups, groupName)),
    keyShares: Object.freeze(named(h.keyShareGroups, groupName)),
    signatureAlgorithms: Object.freeze(named(h.signatureAlgorithms, (c) => SIGNATURE_SCHEMES[c] ?? hex4(c))),
    sni: h.serverName,
    alpn: Object.freeze([...(h.alpn ?? [])]),
    extensions: Object.freeze(named(h.extensions, (c) => EXTENSIONS[c] ?? hex4(c))),
    compressionMethods: Object.freeze([...h.compressionMethods]),
    bytes: h.bytes,
    records: h.records,
  });
}
