import type { PostfixLogEvent, PostfixLogEventOf } from '../postfix/log-parser.js';
import type { StartedPostfixContainer } from '../postfix/postfix-container.js';
import type { PeerConnection, PeerMessage, PeerRecord } from './peer-record.js';

/** How long a receiving Postfix may take to put an accepted message into its Maildir. */
const LOCAL_DELIVERY_MS = 10_000;

const header = (text: string, name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? null;

/**
 * A receiving lab Postfix's record of what reached it since `marker`, read from its smtpd log
 * and its Maildir: one connection per `connect from` of smtpd, with the TLS its summary line
 * names, and one message per queue id the connection created (Received:, Subject and
 * Message-ID from the delivered file). What a log cannot show (the ClientHello, the EHLO name
 * at log level 0) is null.
 */
export async function postfixPeerRecord(node: string, postfix: StartedPostfixContainer, marker: number, expectMessageId: string | null = null): Promise<PeerRecord> {
  // The receiver's log arrives through its container's output stream, which can lag behind the
  // sender's "status=sent": when a message is known to have gone here, wait for its line first.
  if (expectMessageId) {
    await postfix.log
      .waitFor(`message ${expectMessageId} logged by ${node}`, (e) => e.type === 'queue-message-id' && e.messageId === expectMessageId, LOCAL_DELIVERY_MS, marker)
      .catch(() => null);
  }
  const events = postfix.log.since(marker);
  const connections: PeerConnection[] = [];
  for (const start of events.filter((e): e is PostfixLogEventOf<'connect'> => e.type === 'connect' && e.program === 'postfix/smtpd')) {
    const own: PostfixLogEvent[] = [];
    for (const e of events.slice(events.indexOf(start))) {
      if (e.program !== start.program || e.pid !== start.pid) continue;
      own.push(e);
      if (e.type === 'disconnect') break;
    }
    const tls = own.find((e): e is PostfixLogEventOf<'tls-established'> => e.type === 'tls-established' && e.direction === 'from') ?? null;
    const cert = own.find((e): e is PostfixLogEventOf<'tls-peer-certificate'> => e.type === 'tls-peer-certificate') ?? null;
    const failed = own.find((e) => e.type === 'tls-handshake-error' || e.type === 'tls-library-problem') ?? null;
    const messages: PeerMessage[] = [];
    for (const q of own.filter((e): e is PostfixLogEventOf<'queue-client'> => e.type === 'queue-client')) {
      const delivered = await postfix.log
        .waitFor(`local delivery of ${q.queueId} in ${node}`, (e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery' && e.queueId === q.queueId, LOCAL_DELIVERY_MS, marker)
        .catch(() => null);
      const text = delivered?.status === 'sent' ? await postfix.deliveredMessage(q.queueId) : null;
      const all = postfix.log.since(marker);
      const from = all.find((e): e is PostfixLogEventOf<'queue-from'> => e.type === 'queue-from' && e.queueId === q.queueId);
      messages.push(
        Object.freeze({
          mailFrom: from?.from ?? null,
          rcptTo: Object.freeze(all.filter((e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery' && e.queueId === q.queueId).map((e) => e.to)),
          receivedHeader: text ? header(text, 'Received') : null,
          subject: text ? header(text, 'Subject') : null,
          messageId: all.find((e): e is PostfixLogEventOf<'queue-message-id'> => e.type === 'queue-message-id' && e.queueId === q.queueId)?.messageId ?? null,
          bytes: from?.size ?? 0,
          overTls: tls !== null,
        }),
      );
    }
    connections.push(
      Object.freeze({
        index: connections.length,
        remoteAddress: start.peer.addr,
        remotePort: start.peer.port,
        greeting: null,
        ehlo: null,
        starttls: tls !== null || failed !== null,
        tls: tls
          ? Object.freeze({
              protocol: tls.protocol,
              cipher: tls.cipher,
              group: tls.keyExchange ? (tls.keyExchange.curve ?? tls.keyExchange.name) : null,
              sni: tls.sni,
              resumed: tls.reused,
              clientCertificate: cert ? Object.freeze({ subject: `CN=${cert.subjectCN}`, issuer: cert.issuer, sha256: cert.fingerprint, spkiSha256: cert.pkeyFingerprint ?? '' }) : null,
            })
          : null,
        handshakeError: !tls && failed ? failed.raw : null,
        clientHello: null,
        helloProblem: null,
        messages: Object.freeze(messages),
        closed: own.some((e) => e.type === 'disconnect'),
      }),
    );
  }
  return Object.freeze({ node, kind: 'postfix' as const, connections: Object.freeze(connections), messages: Object.freeze(connections.flatMap((c) => c.messages)) });
}
