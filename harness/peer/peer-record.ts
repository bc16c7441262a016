import type { Shape } from '../core/shape.js';
import type { HelloView } from './hello-view.js';

/**
 * What a receiving peer recorded of the connections a lab Postfix made to it: immutable
 * records, kept apart from the peer that fills them and the checks that judge them. The
 * capturing peer (smtp-server, on the host) fills every field it can see; a receiving Postfix
 * fills what its smtpd log says, and leaves null what a log cannot show (the ClientHello).
 * Type-only imports: the loader reads the shapes below without loading any server.
 */

export interface PeerClientCertificate {
  readonly subject: string;
  readonly issuer: string;
  /** SHA-256 of the certificate, colon-separated upper-case hex (as Node and Postfix print it). */
  readonly sha256: string;
  /** SHA-256 of the certificate's public key (SubjectPublicKeyInfo), same format. */
  readonly spkiSha256: string;
}

export interface PeerTls {
  readonly protocol: string | null;
  /** OpenSSL name of the negotiated suite. */
  readonly cipher: string | null;
  /** Key exchange group the peer chose (X25519, P-256 …), or 'DHE-<bits>' for finite-field DHE; null when not seen. */
  readonly group: string | null;
  /** The server name the client asked for (SNI), or null when it sent none. */
  readonly sni: string | null;
  /** The session was resumed (ticket or session id). */
  readonly resumed: boolean | null;
  /** The client certificate presented, or null when none was (or none was asked for). */
  readonly clientCertificate: PeerClientCertificate | null;
}

export interface PeerMessage {
  readonly mailFrom: string | null;
  readonly rcptTo: readonly string[];
  /** The first Received: header, unfolded (what the sending MTA wrote about this hop). */
  readonly receivedHeader: string | null;
  readonly subject: string | null;
  /** The Message-ID header, without the angle brackets. */
  readonly messageId: string | null;
  readonly bytes: number;
  /** Received inside TLS. */
  readonly overTls: boolean;
}

/** Bytes after STARTTLS that were not a ClientHello the lab can read: a finding, with what arrived. */
export interface PeerHelloProblem {
  readonly reason: string;
  /** The first bytes, hex. */
  readonly firstBytes: string;
}

export interface PeerConnection {
  /** 0, 1 … in the order the connections arrived. */
  readonly index: number;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  /** EHLO/HELO/LHLO as sent, and the name in it. */
  readonly greeting: string | null;
  readonly ehlo: string | null;
  /** The client sent STARTTLS. */
  readonly starttls: boolean;
  /** The handshake completed; null when there was none or it failed. */
  readonly tls: PeerTls | null;
  /** Why the handshake failed (the TLS library's words), or null. */
  readonly handshakeError: string | null;
  /** What the client offered in its ClientHello; null when none arrived, or when the peer cannot see it (a Postfix peer). */
  readonly clientHello: HelloView | null;
  readonly helloProblem: PeerHelloProblem | null;
  readonly messages: readonly PeerMessage[];
  /** The connection has ended. */
  readonly closed: boolean;
}

export interface PeerRecord {
  /** The node's name in the scenario. */
  readonly node: string;
  /** 'capturing' (smtp-server on the host) or 'postfix' (a receiving lab Postfix, from its smtpd log). */
  readonly kind: 'capturing' | 'postfix';
  readonly connections: readonly PeerConnection[];
  /** Every message the peer accepted, over all connections, in order. */
  readonly messages: readonly PeerMessage[];
}

export const HELLO_VIEW_SHAPE: Shape<HelloView> = {
  legacyVersion: 'leaf',
  versions: 'list',
  cipherSuites: 'list',
  cipherSuiteCount: 'leaf',
  cipherSuiteCodes: 'list',
  groups: 'list',
  keyShares: 'list',
  signatureAlgorithms: 'list',
  sni: 'leaf',
  alpn: 'list',
  extensions: 'list',
  compressionMethods: 'list',
  bytes: 'leaf',
  records: 'leaf',
};

const MESSAGE_SHAPE: Shape<PeerMessage> = { mailFrom: 'leaf', rcptTo: 'list', receivedHeader: 'leaf', subject: 'leaf', messageId: 'leaf', bytes: 'leaf', overTls: 'leaf' };

export const PEER_CONNECTION_SHAPE: Shape<PeerConnection> = {
  index: 'leaf',
  remoteAddress: 'leaf',
  remotePort: 'leaf',
  greeting: 'leaf',
  ehlo: 'leaf',
  starttls: 'leaf',
  tls: {
    protocol: 'leaf',
    cipher: 'leaf',
    group: 'leaf',
    sni: 'leaf',
    resumed: 'leaf',
    clientCertificate: { subject: 'leaf', issuer: 'leaf', sha256: 'leaf', spkiSha256: 'leaf' },
  },
  handshakeError: 'leaf',
  clientHello: HELLO_VIEW_SHAPE,
  helloProblem: { reason: 'leaf', firstBytes: 'leaf' },
  messages: { list: MESSAGE_SHAPE },
  closed: 'leaf',
};

export const PEER_RECORD_SHAPE: Shape<PeerRecord> = {
  node: 'leaf',
  kind: 'leaf',
  connections: { list: PEER_CONNECTION_SHAPE },
  messages: { list: MESSAGE_SHAPE },
};
