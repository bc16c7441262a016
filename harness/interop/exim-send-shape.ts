import type { Shape } from '../core/shape.js';

/*
 * The sending Exim's record and its shape, data only: the scenario loader checks an mta-send
 * check's expect paths against the shape without loading the log readers behind the record.
 */

/**
 * What a sending Exim says about one message it sent to the Postfix under test, from its own
 * main log alone (the `<=` line of the submission and the `=>`, `==` or `**` line of the
 * attempt). Immutable; the mta-send check judges it and the report shows it.
 */
export interface EximSendRecord {
  readonly node: string;
  readonly kind: 'exim';
  /** The scenario's transport name the message was sent through. */
  readonly transport: string;
  /** Exim's message id, or null when the submission itself was not logged. */
  readonly eximId: string | null;
  /** sent (=>), deferred (==), failed (**), or not-attempted (no attempt line came within the bound). */
  readonly status: 'sent' | 'deferred' | 'failed' | 'not-attempted';
  /** The host Exim logged for the attempt (null when it never connected: a defer before or without a connection). */
  readonly host: { readonly name: string; readonly address: string; readonly port: number | null; readonly continued: boolean } | null;
  /** The TLS Exim logged (X=), in OpenSSL's names, or null: no TLS on this delivery. */
  readonly tls: {
    readonly protocol: string;
    readonly cipher: string;
    readonly group: string | null;
    /** CV=yes/no/dane as Exim logged it: whether Exim verified Postfix's certificate. */
    readonly certificateVerified: string | null;
    /** DN=: the subject of Postfix's certificate as Exim saw it. */
    readonly peerDn: string | null;
    /** Exim's own words for the suite (GnuTLS's). */
    readonly eximSuite: string;
  } | null;
  /** Whether Exim logged in (A= on the delivery line), and with which authenticator. */
  readonly authenticated: boolean;
  readonly authenticator: string | null;
  /** C=: Postfix's reply to the end of data ("250 2.0.0 Ok: … queued as ID"). */
  readonly reply: string | null;
  /** The Postfix queue id in that reply, when there is one. */
  readonly queueId: string | null;
  /** Why it was not sent: Exim's words, or the server's reply as Exim quotes it. */
  readonly reason: string | null;
  /** Exim's errno of a defer ("defer (-42)"). */
  readonly errno: number | null;
  /** Every line of Exim's log about the message, as written. */
  readonly lines: readonly string[];
}

/** The record's shape: an mta-send check's expect paths are checked against it when the scenario loads. */
export const EXIM_SEND_RECORD_SHAPE: Shape<EximSendRecord> = {
  node: 'leaf',
  kind: 'leaf',
  transport: 'leaf',
  eximId: 'leaf',
  status: 'leaf',
  host: { name: 'leaf', address: 'leaf', port: 'leaf', continued: 'leaf' },
  tls: { protocol: 'leaf', cipher: 'leaf', group: 'leaf', certificateVerified: 'leaf', peerDn: 'leaf', eximSuite: 'leaf' },
  authenticated: 'leaf',
  authenticator: 'leaf',
  reply: 'leaf',
  queueId: 'leaf',
  reason: 'leaf',
  errno: 'leaf',
  lines: 'list',
};
