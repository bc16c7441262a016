import type { ClientName, TlsMode } from '../tls/observation.js';

/**
 * What each lab client can be asked to do and what it can see. Data only (no client library
 * is loaded by importing this), so the scenario loader can refuse, when a file loads, a check
 * that asks a client for something it cannot do or an expectation it could never observe.
 * An observation field a client cannot see is null in its observation; without this table a
 * check on it would fail the server for the client's blindness.
 */
export interface ClientCapabilities {
  /** Request options the client cannot honour ("stopAfter:banner" names one value of an option). */
  readonly cannotDo: readonly string[];
  /** Observation paths (and everything under them) the client never fills, in the modes given (all modes when none). */
  readonly cannotObserve: readonly { readonly path: string; readonly modes?: readonly TlsMode[]; readonly why: string }[];
}

/** What no client on node:tls (raw, nodemailer) can see of a handshake. */
const NODE_TLS_BLIND_SPOTS: ClientCapabilities['cannotObserve'] = [
  { path: 'tls.secureRenegotiation', why: 'node:tls does not expose the renegotiation_info extension' },
  { path: 'tls.compression', why: 'node:tls does not expose the compression method' },
];

export const CLIENT_CAPABILITIES: Readonly<Record<ClientName, ClientCapabilities>> = {
  raw: {
    cannotDo: ['tls.gnutlsPriority'],
    cannotObserve: NODE_TLS_BLIND_SPOTS,
  },
  nodemailer: {
    cannotDo: ['plaintextProbe', 'forceStarttls', 'stopAfter', 'injectAfterStarttls', 'renegotiate', 'resume', 'tls.gnutlsPriority'],
    cannotObserve: [
      ...NODE_TLS_BLIND_SPOTS,
      { path: 'probe', why: 'nodemailer sends no command of our choosing before TLS' },
      { path: 'injection', why: 'nodemailer cannot inject a command after STARTTLS' },
      { path: 'renegotiation', why: 'nodemailer cannot renegotiate' },
      { path: 'resumption', why: 'nodemailer opens one connection per check' },
    ],
  },
  openssl: {
    cannotDo: ['plaintextProbe', 'forceStarttls', 'message', 'auth', 'stopAfter:banner', 'stopAfter:ehlo', 'injectAfterStarttls', 'renegotiate', 'tls.gnutlsPriority'],
    cannotObserve: [
      { path: 'banner', modes: ['starttls', 'plain'], why: 's_client -starttls swallows the plaintext greeting' },
      { path: 'capabilities.beforeTls', why: 's_client -starttls does not print the EHLO reply before TLS' },
      { path: 'starttlsReply', why: 's_client -starttls does not print the STARTTLS reply' },
      { path: 'probe', why: 's_client sends no command of our choosing before TLS' },
      { path: 'injection', why: 's_client cannot inject a command after STARTTLS' },
      { path: 'renegotiation', why: 'the lab does not drive renegotiation through s_client' },
      { path: 'auth', why: 'the lab does not authenticate through s_client' },
      { path: 'delivery', why: 's_client sends no message' },
    ],
  },
  gnutls: {
    // OpenSSL's lists mean nothing to GnuTLS: a check gives the gnutls client a priority string (tls.gnutlsPriority) instead.
    cannotDo: ['mode:plain', 'plaintextProbe', 'forceStarttls', 'message', 'auth', 'stopAfter:banner', 'stopAfter:ehlo', 'injectAfterStarttls', 'renegotiate', 'resume', 'tls.ciphers', 'tls.ciphersuites', 'tls.groups', 'tls.securityLevel'],
    cannotObserve: [
      { path: 'probe', why: 'the gnutls client sends no command of our choosing before TLS' },
      { path: 'injection', why: 'the gnutls client cannot inject a command after STARTTLS' },
      { path: 'renegotiation', why: 'the lab does not drive renegotiation through gnutls-cli' },
      { path: 'resumption', why: 'the lab does not resume through gnutls-cli' },
      { path: 'auth', why: 'the lab does not authenticate through gnutls-cli' },
      { path: 'delivery', why: 'the gnutls client sends no message' },
      { path: 'tls.secureRenegotiation', why: 'gnutls-cli prints no renegotiation_info verdict' },
      { path: 'tls.compression', why: 'gnutls-cli prints no compression method' },
      { path: 'tls.cipher.bits', why: 'gnutls-cli prints no cipher strength' },
    ],
  },
};

/** Request options a client cannot honour; a check asking for one is refused when it loads. */
export const UNSUPPORTED: Readonly<Record<ClientName, readonly string[]>> = Object.fromEntries(
  Object.entries(CLIENT_CAPABILITIES).map(([name, c]) => [name, c.cannotDo]),
) as Record<ClientName, readonly string[]>;

/** Why `client` cannot observe `path` in `mode`, or null when it can. */
export function blindSpot(client: ClientName, path: string, mode: TlsMode): string | null {
  const hit = CLIENT_CAPABILITIES[client].cannotObserve.find((c) => (path === c.path || path.startsWith(`${c.path}.`)) && (!c.modes || c.modes.includes(mode)));
  return hit?.why ?? null;
}
