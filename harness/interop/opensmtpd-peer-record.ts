import type { AwaitableLines } from '../core/awaitable-lines.js';
import type { PeerConnection, PeerMessage } from '../peer/peer-record.js';
import type { OpensmtpdLogEvent } from './opensmtpd-log.js';
import { settle, settleClosed, type InteropPeerRecord } from './interop-peer-record.js';

type Of<T extends OpensmtpdLogEvent['type']> = Extract<OpensmtpdLogEvent, { type: T }>;

const header = (text: string | null, name: string) => (text ? (new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? null) : null);

/**
 * A receiving OpenSMTPD's record of what reached it since `marker`, from its log: one
 * connection per session id, its TLS from the session's `smtp tls ciphers=` line (OpenSSL's
 * names), its messages from `smtp message` and `smtp envelope`, and a handshake that failed
 * from the reason of its disconnect (`io-error: …`) when no TLS line came first. OpenSMTPD
 * logs neither the client's port nor its EHLO nor the Message-ID header: the Message-ID and
 * Received: header come from the delivered file in the lab Maildir (`delivered(msgid)`), and
 * with `expectMessageId` the record waits (bounded) for a delivery to be logged first.
 */
export async function opensmtpdPeerRecord(node: string, log: AwaitableLines<OpensmtpdLogEvent>, marker: number, expectMessageId: string | null, delivered: (msgid: string) => Promise<string | null>): Promise<InteropPeerRecord> {
  if (expectMessageId) await settle(log, `a delivery logged by ${node}`, (e) => e.type === 'delivery', marker);
  await settleClosed(log, `sessions of ${node} closed`, (e) => (e.type === 'connect' ? e.session : null), (e) => (e.type === 'disconnect' ? e.session : null), marker);
  const events = log.since(marker);
  const connections: PeerConnection[] = [];
  for (const start of events.filter((e): e is Of<'connect'> => e.type === 'connect')) {
    const own = events.filter((e) => 'session' in e && e.session === start.session);
    const tlsLine = own.find((e): e is Of<'tls'> => e.type === 'tls') ?? null;
    const gone = own.find((e): e is Of<'disconnect'> => e.type === 'disconnect') ?? null;
    const messages: PeerMessage[] = [];
    for (const msg of own.filter((e): e is Of<'message'> => e.type === 'message')) {
      const envelopes = own.filter((e): e is Of<'envelope'> => e.type === 'envelope' && e.evpid.startsWith(msg.msgid));
      await settle(log, `local delivery of ${msg.msgid} in ${node}`, (e) => e.type === 'delivery' && e.evpid.startsWith(msg.msgid), marker);
      const text = await delivered(msg.msgid);
      messages.push(
        Object.freeze({
          mailFrom: envelopes[0]?.from ?? null,
          rcptTo: Object.freeze(envelopes.map((e) => e.to)),
          receivedHeader: header(text, 'Received'),
          subject: header(text, 'Subject'),
          messageId: header(text, 'Message-ID')?.replace(/^<|>$/g, '') ?? null,
          bytes: msg.size ?? 0,
          overTls: tlsLine !== null,
        }),
      );
    }
    const failed = !tlsLine && gone && /^io-error: /.test(gone.reason) ? gone.reason : null;
    connections.push(
      Object.freeze({
        index: connections.length,
        remoteAddress: start.address,
        remotePort: null,
        greeting: null,
        ehlo: null,
        starttls: tlsLine !== null || failed !== null,
        tls: tlsLine ? Object.freeze({ protocol: tlsLine.protocol, cipher: tlsLine.cipher, group: null, sni: null, resumed: null, clientCertificate: null }) : null,
        handshakeError: failed,
        clientHello: null,
        helloProblem: null,
        messages: Object.freeze(messages),
        closed: gone !== null,
      }),
    );
  }
  return Object.freeze({ node, kind: 'opensmtpd' as const, connections: Object.freeze(connections), messages: Object.freeze(connections.flatMap((c) => c.messages)) });
}
