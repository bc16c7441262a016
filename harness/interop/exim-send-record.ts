import type { EximLogEvent } from './exim-log.js';
import { eximSuiteName } from './exim-peer-record.js';
import type { MtaSendRecord } from './mta-send-shape.js';

export type { MtaSendRecord } from './mta-send-shape.js';

type Of<T extends EximLogEvent['type']> = Extract<EximLogEvent, { type: T }>;
type Attempt = Of<'delivered'> | Of<'deferred'> | Of<'failed'>;

function isAttempt(e: EximLogEvent, eximId: string): e is Attempt {
  return (e.type === 'delivered' || e.type === 'deferred' || e.type === 'failed') && e.eximId === eximId;
}

/** The record of the message `eximId` (null: never logged), from the events of its check. */
export function eximSendRecord(node: string, transport: string, eximId: string | null, events: readonly EximLogEvent[]): MtaSendRecord {
  const own = eximId ? events.filter((e) => 'eximId' in e && e.eximId === eximId) : [];
  const attempt = eximId ? (events.find((e): e is Attempt => isAttempt(e, eximId)) ?? null) : null;
  const tls = attempt?.tls
    ? Object.freeze({
        protocol: attempt.tls.protocol,
        cipher: eximSuiteName(attempt.tls).openssl,
        group: eximSuiteName(attempt.tls).group,
        certificateVerified: attempt.certificateVerified,
        peerDn: attempt.peerDn,
        loggedSuite: attempt.tls.suite,
      })
    : null;
  const reply = attempt?.type === 'delivered' ? attempt.confirmation : null;
  return Object.freeze({
    node,
    kind: 'exim' as const,
    transport,
    messageId: eximId,
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
