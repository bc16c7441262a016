/**
 * TLS code points the lab's codecs name (IANA "TLS Parameters"): record content types,
 * handshake message types, extension types and protocol versions. Below both the ClientHello
 * builder and answer reader (enum/) and the ClientHello reader (tls/), so all of them spell a
 * code once.
 */

export const CONTENT_TYPE = Object.freeze({ changeCipherSpec: 20, alert: 21, handshake: 22, applicationData: 23 });

export const HANDSHAKE_TYPE = Object.freeze({
  helloRequest: 0,
  clientHello: 1,
  serverHello: 2,
  newSessionTicket: 4,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  certificateStatus: 22,
});

/** Extension types (IANA "TLS ExtensionType Values") the builder and the readers name. */
export const EXT = Object.freeze({
  serverName: 0,
  statusRequest: 5,
  supportedGroups: 10,
  ecPointFormats: 11,
  signatureAlgorithms: 13,
  alpn: 16,
  encryptThenMac: 22,
  extendedMasterSecret: 23,
  sessionTicket: 35,
  supportedVersions: 43,
  pskKeyExchangeModes: 45,
  keyShare: 51,
  renegotiationInfo: 0xff01,
});

/** Protocol version codes as they appear on the wire (legacy_version, supported_versions). */
export const TLS_VERSION_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0x0300: 'SSLv3',
  0x0301: 'TLSv1',
  0x0302: 'TLSv1.1',
  0x0303: 'TLSv1.2',
  0x0304: 'TLSv1.3',
});

/** RFC 8701 GREASE values (0x0A0A, 0x1A1A … 0xFAFA): a client offers them so servers learn to ignore the unknown. */
export function isGrease(code: number): boolean {
  return (code & 0x0f0f) === 0x0a0a && code >> 8 === (code & 0xff);
}
