import type { LabErrorRecord } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { CertificateInfo } from './certificate.js';

/**
 * What one client saw in one connection. Every client (the raw STARTTLS client, nodemailer,
 * openssl s_client) returns this same record, so checks state expectations once for all of
 * them, and two clients that disagree about the same handshake are a finding. Records are
 * frozen and JSON-safe: no Buffers, no sockets, no private keys, no session secrets.
 */
export const OBSERVATION_SCHEMA = 'smtp-tls-lab/observation@1';

export type ClientName = 'raw' | 'nodemailer' | 'openssl' | 'gnutls';
export type TlsMode = 'starttls' | 'implicit' | 'plain';

export interface SmtpReply {
  readonly code: number;
  readonly lines: readonly string[];
}

export interface TranscriptEntry {
  /** Milliseconds since the observation started. */
  readonly t: number;
  /** C = client sent, S = server sent, * = a note from the client (TLS events, timeouts). */
  readonly dir: 'C' | 'S' | '*';
  readonly text: string;
}

export interface KeyExchange {
  /** 'ECDH' or 'DH', as OpenSSL names the ephemeral key type, or 'KEM' (an ML-KEM or hybrid group, named by s_client 3.5+). */
  readonly type: string;
  /** Group or curve name (X25519, prime256v1, ffdhe4096 ...) when the client can tell. */
  readonly group: string | null;
  readonly bits: number | null;
}

/**
 * The certificate the server sent, as every client describes it (tls/certificate.ts reads the
 * DER once for all of them), with the number of certificates the server sent.
 */
export type PeerCertificate = Pick<CertificateInfo, 'subject' | 'commonName' | 'sans' | 'issuer' | 'notBefore' | 'notAfter' | 'sha256' | 'keyType' | 'keyBits' | 'curve'> & {
  /** Certificates the server sent, leaf first. */
  readonly chainLength: number;
};

export interface Verification {
  /** Chain and (when a name was given) name both verified against the client's trust store. */
  readonly verified: boolean;
  /** OpenSSL's verification error code name (e.g. DEPTH_ZERO_SELF_SIGNED_CERT), or null when the chain verified. */
  readonly chainError: string | null;
  /** The name checked against the certificate, or null when none was checked. */
  readonly name: string | null;
  readonly nameError: string | null;
}

export interface TlsDetails {
  readonly protocol: string;
  readonly cipher: { readonly openssl: string; readonly iana: string | null; readonly bits: number | null };
  readonly keyExchange: KeyExchange | null;
  readonly peerCertificate: PeerCertificate | null;
  readonly verification: Verification;
  readonly sessionReused: boolean;
  /** RFC 5746 secure renegotiation offered by the server, when the client can tell (openssl); null otherwise. */
  readonly secureRenegotiation: boolean | null;
  /** Compression in use, when the client can tell (openssl: "NONE"); null otherwise. */
  readonly compression: string | null;
  /**
   * Server name the client sent (SNI), or null. A request value, not the server's answer:
   * expectations may not name it (the certificate the server chose is the answer).
   */
  readonly sniSent: string | null;
}

export interface Delivery {
  readonly accepted: boolean;
  readonly reply: SmtpReply | null;
  readonly queueId: string | null;
}

export interface TlsObservation {
  readonly schema: typeof OBSERVATION_SCHEMA;
  readonly client: ClientName;
  readonly target: { readonly host: string; readonly port: number; readonly mode: TlsMode };
  readonly startedAt: string;
  readonly durationMs: number;
  /** The client's own address and TCP port: Postfix logs both, which pairs log events with this connection. */
  readonly localAddress: string | null;
  readonly localPort: number | null;
  readonly banner: SmtpReply | null;
  readonly capabilities: { readonly beforeTls: readonly string[] | null; readonly afterTls: readonly string[] | null };
  readonly starttlsReply: SmtpReply | null;
  /** A command sent before TLS on purpose (e.g. MAIL FROM, to see it refused) and its reply. */
  readonly probe: { readonly command: string; readonly reply: SmtpReply } | null;
  /** STARTTLS injection test: the command sent with STARTTLS, and whether the server answered it inside TLS. */
  readonly injection: { readonly command: string; readonly survived: boolean; readonly firstReplyInTls: SmtpReply } | null;
  /** Client-initiated renegotiation, when the check asked for one. */
  readonly renegotiation: { readonly accepted: boolean; readonly error: string | null; readonly connectionClosed: boolean } | null;
  /** Session resumption, when the check asked for it: this observation is the second connection, offering the first's session. */
  readonly resumption: { readonly firstConnectionGotSession: boolean; readonly offered: boolean } | null;
  readonly tls: TlsDetails | null;
  /** The AUTH command the client really sent and the server's final reply to it, from the transcript; null when no AUTH was sent. */
  readonly auth: { readonly mechanism: string; readonly reply: SmtpReply } | null;
  readonly delivery: Delivery | null;
  readonly transcript: readonly TranscriptEntry[];
  readonly error: LabErrorRecord | null;
}

const REPLY = { code: 'leaf', lines: 'list' } as const;

/**
 * The observation's one schema: every path an expectation may name comes from here, and the
 * compiler holds it to the TlsObservation type (a key added to the type and not here, or the
 * other way round, does not compile).
 */
export const OBSERVATION_SHAPE: Shape<TlsObservation> = {
  schema: 'leaf',
  client: 'leaf',
  target: { host: 'leaf', port: 'leaf', mode: 'leaf' },
  startedAt: 'leaf',
  durationMs: 'leaf',
  localAddress: 'leaf',
  localPort: 'leaf',
  banner: REPLY,
  capabilities: { beforeTls: 'list', afterTls: 'list' },
  starttlsReply: REPLY,
  probe: { command: 'leaf', reply: REPLY },
  injection: { command: 'leaf', survived: 'leaf', firstReplyInTls: REPLY },
  renegotiation: { accepted: 'leaf', error: 'leaf', connectionClosed: 'leaf' },
  resumption: { firstConnectionGotSession: 'leaf', offered: 'leaf' },
  tls: {
    protocol: 'leaf',
    cipher: { openssl: 'leaf', iana: 'leaf', bits: 'leaf' },
    keyExchange: { type: 'leaf', group: 'leaf', bits: 'leaf' },
    peerCertificate: {
      subject: 'leaf',
      commonName: 'leaf',
      sans: 'list',
      issuer: 'leaf',
      notBefore: 'leaf',
      notAfter: 'leaf',
      sha256: 'leaf',
      keyType: 'leaf',
      keyBits: 'leaf',
      curve: 'leaf',
      chainLength: 'leaf',
    },
    verification: { verified: 'leaf', chainError: 'leaf', name: 'leaf', nameError: 'leaf' },
    sessionReused: 'leaf',
    secureRenegotiation: 'leaf',
    compression: 'leaf',
    sniSent: 'leaf',
  },
  auth: { mechanism: 'leaf', reply: REPLY },
  delivery: { accepted: 'leaf', reply: REPLY, queueId: 'leaf' },
  transcript: { list: { t: 'leaf', dir: 'leaf', text: 'leaf' } },
  error: { code: 'leaf', stage: 'leaf', message: 'leaf', detail: 'leaf' },
};

/**
 * Paths that echo what the client was asked to do, or bookkeeping, rather than what the
 * server did: an expectation on them could never fail because of the server.
 */
export const REQUEST_ECHO_PATHS: readonly string[] = ['schema', 'client', 'target', 'startedAt', 'durationMs', 'localAddress', 'localPort', 'tls.sniSent'];
