import { opensslSuite } from '../clients/gnutls-output.js';
import type { MtaSendRecord } from './mta-send-shape.js';
import type { OpensmtpdLogEvent } from './opensmtpd-log.js';

type Of<T extends OpensmtpdLogEvent['type']> = Extract<OpensmtpdLogEvent, { type: T }>;

/** OpenSMTPD's result word → the record's status. */
const STATUS: Readonly<Record<string, MtaSendRecord['status']>> = { Ok: 'sent', TempFail: 'deferred', PermFail: 'failed', Loop: 'failed' };

/** OpenSMTPD logs TLS 1.3 suites by their IANA names (TLS_AES_256_GCM_SHA384) and TLS 1.2 by OpenSSL's: the record uses OpenSSL's. */
function opensslName(cipher: string): string {
  return cipher.startsWith('TLS_') ? (opensslSuite(cipher) ?? cipher) : cipher;
}

/**
 * The record of the envelope `evpid` (null: its submission was never logged), from the events
 * of its check: the `mta delivery` line of the envelope, and the lines of the mta sessions that
 * tried it (connecting, tls, cert-check, error). OpenSMTPD logs no login and no certificate
 * subject: `authenticated` and `tls.peerDn` are null.
 */
export function opensmtpdSendRecord(node: string, relay: string, evpid: string | null, events: readonly OpensmtpdLogEvent[]): MtaSendRecord {
  const delivery = evpid ? (events.find((e): e is Of<'mta-delivery'> => e.type === 'mta-delivery' && e.evpid === evpid) ?? null) : null;
  // The sessions that tried this check's relay: every mta session that connected after the check
  // began (checks run one after another). A failed attempt is logged on its own session, and the
  // envelope's TempFail later on session 0000… (no route left), so the delivery line alone is not enough.
  const sessions = new Set(events.filter((e): e is Of<'mta-connecting'> => e.type === 'mta-connecting').map((e) => e.session));
  if (delivery && !/^0+$/.test(delivery.session)) sessions.add(delivery.session);
  const own = events.filter((e) => ('session' in e && sessions.has(e.session) && e.type.startsWith('mta-')) || (evpid !== null && 'evpid' in e && e.evpid === evpid));
  const connecting = own.find((e): e is Of<'mta-connecting'> => e.type === 'mta-connecting') ?? null;
  const tls = own.find((e): e is Of<'mta-tls'> => e.type === 'mta-tls') ?? null;
  const check = own.find((e): e is Of<'mta-cert-check'> => e.type === 'mta-cert-check') ?? null;
  const error = own.find((e): e is Of<'mta-error'> => e.type === 'mta-error') ?? null;
  const status = delivery ? (STATUS[delivery.result] ?? 'failed') : 'not-attempted';
  const reply = status === 'sent' ? (delivery?.stat ?? null) : null;
  return Object.freeze({
    node,
    kind: 'opensmtpd' as const,
    transport: relay,
    messageId: evpid,
    status,
    host: connecting ? Object.freeze({ name: connecting.host ?? connecting.address, address: connecting.address, port: connecting.port, continued: false }) : null,
    tls: tls ? Object.freeze({ protocol: tls.protocol, cipher: opensslName(tls.cipher), group: null, certificateVerified: check?.result ?? null, peerDn: null, loggedSuite: tls.cipher }) : null,
    authenticated: null,
    authenticator: null,
    reply,
    queueId: reply ? (/queued as ([0-9A-Za-z]+)/.exec(reply)?.[1] ?? null) : null,
    // The session's own error says why a TLS or connection failure happened; the delivery line's stat is the summary.
    reason: status === 'sent' ? null : (error?.reason ?? delivery?.stat ?? null),
    errno: null,
    lines: Object.freeze(own.map((e) => e.raw)),
  });
}
