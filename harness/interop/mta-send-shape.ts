import type { Shape } from '../core/shape.js';

/*
 * A sending MTA's record (Exim or OpenSMTPD) and its shape, data only: the scenario loader
 * checks an mta-send check's expect paths against the shape without loading the log readers
 * behind the record.
 */

/**
 * What a sending MTA says about one message it sent to the Postfix under test, from its own
 * log alone: Exim's `<=` line of the submission and the `=>`, `==` or `**` line of the attempt;
 * OpenSMTPD's `smtp envelope` line and its `mta` session lines (connecting, tls, cert-check,
 * delivery). Immutable; the mta-send check judges it and the report shows it. What an MTA does
 * not log is null (OpenSMTPD logs no login: `authenticated` is null).
 */
export interface MtaSendRecord {
  readonly node: string;
  readonly kind: 'exim' | 'opensmtpd';
  /** The scenario's transport (Exim) or relay (OpenSMTPD) the message was sent through. */
  readonly transport: string;
  /** The MTA's id of the message (Exim's message id, OpenSMTPD's envelope id), or null when the submission itself was not logged. */
  readonly messageId: string | null;
  /** sent (=>), deferred (==), failed (**), or not-attempted (no attempt line came within the bound). */
  readonly status: 'sent' | 'deferred' | 'failed' | 'not-attempted';
  /** The host Exim logged for the attempt (null when it never connected: a defer before or without a connection). */
  readonly host: { readonly name: string; readonly address: string; readonly port: number | null; readonly continued: boolean } | null;
  /** The TLS Exim logged (X=), in OpenSSL's names, or null: no TLS on this delivery. */
  readonly tls: {
    readonly protocol: string;
    readonly cipher: string;
    readonly group: string | null;
    /** Whether the MTA verified Postfix's certificate, in its own words: Exim's CV=yes/no/dane, OpenSMTPD's cert-check result (valid, unverified, failure …). */
    readonly certificateVerified: string | null;
    /** The subject of Postfix's certificate as the MTA logged it (Exim's DN=); null when it logs none. */
    readonly peerDn: string | null;
    /** The MTA's own words for the suite (Exim: GnuTLS's words; OpenSMTPD: the OpenSSL name). */
    readonly loggedSuite: string;
  } | null;
  /** Whether the MTA logged in (Exim: A= on the delivery line, and with which authenticator); null when its log does not say (OpenSMTPD). */
  readonly authenticated: boolean | null;
  readonly authenticator: string | null;
  /** Postfix's reply to the end of data ("250 2.0.0 Ok: … queued as ID"): Exim's C=, OpenSMTPD's stat=. */
  readonly reply: string | null;
  /** The Postfix queue id in that reply, when there is one. */
  readonly queueId: string | null;
  /** Why it was not sent: the MTA's words, or the server's reply as it quotes it. */
  readonly reason: string | null;
  /** Exim's errno of a defer ("defer (-42)"); null otherwise. */
  readonly errno: number | null;
  /** Every line of the MTA's log about the message, as written. */
  readonly lines: readonly string[];
}

/** The record's shape: an mta-send check's expect paths are checked against it when the scenario loads. */
export const MTA_SEND_RECORD_SHAPE: Shape<MtaSendRecord> = {
  node: 'leaf',
  kind: 'leaf',
  transport: 'leaf',
  messageId: 'leaf',
  status: 'leaf',
  host: { name: 'leaf', address: 'leaf', port: 'leaf', continued: 'leaf' },
  tls: { protocol: 'leaf', cipher: 'leaf', group: 'leaf', certificateVerified: 'leaf', peerDn: 'leaf', loggedSuite: 'leaf' },
  authenticated: 'leaf',
  authenticator: 'leaf',
  reply: 'leaf',
  queueId: 'leaf',
  reason: 'leaf',
  errno: 'leaf',
  lines: 'list',
};

/** What the mta-send check asks a sending MTA node (Exim or OpenSMTPD) to send. */
export interface MtaSendRequest {
  /** The scenario's transport (Exim) or relay (OpenSMTPD). */
  readonly transport: string;
  /** The port of the check's service on the Postfix under test. */
  readonly port: number;
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly messageId: string;
  readonly timeoutMs?: number;
}

/** An address or Message-ID the lab passes to a shell inside the MTA's container: nothing a shell could read as more. */
export const SHELL_SAFE_ADDRESS = /^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$/;
