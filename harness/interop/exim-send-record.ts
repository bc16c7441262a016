import type { Shape } from '../core/shape.js';
import type { EximLogEvent } from './exim-log.js';
import { eximSuiteName } from './exim-peer-record.js';

type Of<T extends EximLogEvent['type']> = Extract<EximLogEvent, { type: T }>;
type Attempt = Of<'delivered'> | Of<'deferred'> | Of<'failed'>;

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

function isAttempt(e: EximLogEvent, eximId: string): e is Attempt {
  return (e.type === 'delivered' || e.type === 'deferred' || e.type === 'failed') && e.eximId === eximId;
}

/** The record of the message `eximId` (null: never logged), from the events of its check. */
export function eximSendRecord(node: string, transport: string, eximId: string | null, events: readonly EximLogEvent[]): EximSendRecord {
  const own = eximId ? events.filter((e) => 'eximId' in e && e.eximId === eximId) : [];
  const attempt = eximId ? (events.find((e): e is Attempt => isAttempt(e, eximId)) ?? null) : null;
  const tls = attempt?.tls
    ? Object.freeze({
        protocol: attempt.tls.protocol,
        cipher: eximSuiteName(attempt.tls).openssl,
        group: eximSuiteName(attempt.tls).group,
        certificateVerified: attempt.certificateVerified,
        peerDn: attempt.peerDn,
        eximSuite: attempt.tls.suite,
      })
    : null;
  const reply = attempt?.type === 'delivered' ? attempt.confirmation : null;
  return Object.freeze({
    node,
    kind: 'exim' as const,
    transport,
    eximId,
    status: attempt === null ? 'not-attempted' : attempt.type === 'delivered' ? 'sent' : attempt.type,
    host: attempt?.host ? Object.freeze({ name: attempt.host.name, address: attempt.host.addr, port: attempt.host.port, continued: attempt.host.continued }) : null,
    tls,
    authenticated: attempt?.authenticator != null,
    authenticator: attempt?.authenticator ?? null,
    reply,
    queueId: reply ? (/queued as ([0-9A-Za-z]+)/.exec(reply)?.[1] ?? null) : null,
    reason: attempt && attempt.type !== 'delivered' ? attempt.reason : null,
    errno: attempt && attempt.type !== 'delivered' ? attempt.errno : null,
    lines: Object.freeze(own.map((e) => e.raw)),
  });
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
