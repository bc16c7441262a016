/**
 * How a scenario configures a capturing peer (a node of kind "smtp-peer"): data only, read by
 * the scenario loader, used by harness/peer/smtp-peer.ts.
 */

export const PEER_TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type PeerTlsVersion = (typeof PEER_TLS_VERSIONS)[number];

export interface SmtpPeerSpec {
  /** TCP port on the scenario network's gateway address (default 25). */
  readonly port: number;
  /** 'smtp' (EHLO) or 'lmtp' (LHLO, as Postfix's lmtp(8) speaks it). */
  readonly protocol: 'smtp' | 'lmtp';
  /** STARTTLS advertised after EHLO (default true). */
  readonly starttls: boolean;
  /** Name of the scenario certificate the peer presents; required when STARTTLS is offered. */
  readonly certificate: string | null;
  /** Send the issuing CA certificates after the leaf (default true); false: the leaf alone (a chain missing its intermediate). */
  readonly sendChain: boolean;
  readonly tls: {
    readonly minVersion: PeerTlsVersion;
    readonly maxVersion: PeerTlsVersion;
    /** OpenSSL cipher string for TLS 1.2 and below (default: OpenSSL's DEFAULT at security level 0, so old versions can be spoken). */
    readonly ciphers: string | null;
    /** TLS 1.3 suites (OpenSSL names, ':'-separated), or null for OpenSSL's default. */
    readonly ciphersuites: string | null;
    /** Key exchange groups, OpenSSL names ':'-separated ("X25519:P-256"), or null for the default. */
    readonly groups: string | null;
    /** Ask the client for a certificate (any is accepted; the peer records it). */
    readonly requestClientCertificate: boolean;
  };
  /** The name in the peer's 220 greeting and EHLO reply (default: the node's first hostname). */
  readonly greetingName: string | null;
}

export const DEFAULT_PEER_SPEC: SmtpPeerSpec = {
  port: 25,
  protocol: 'smtp',
  starttls: true,
  certificate: null,
  sendChain: true,
  tls: { minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: null, ciphersuites: null, groups: null, requestClientCertificate: false },
  greetingName: null,
};
