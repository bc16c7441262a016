import type { AwaitableLines } from '../core/awaitable-lines.js';
import { ianaSuite, keyExchangeOf, opensslSuite } from '../clients/gnutls-output.js';
import type { PeerConnection, PeerMessage, PeerTls } from '../peer/peer-record.js';
import type { EximLogEvent, EximTls } from './exim-log.js';
import { settle, settleClosed, type InteropPeerRecord } from './interop-peer-record.js';

type Of<T extends EximLogEvent['type']> = Extract<EximLogEvent, { type: T }>;

/** Exim's suite words (GnuTLS's, joined by _ and __) → the OpenSSL name every other record uses; Exim's own words when the lab cannot name it. */
export function eximSuiteName(tls: EximTls): { readonly openssl: string; readonly group: string | null } {
  const parts = tls.suite.split('__').map((p) => p.replace(/_/g, '-'));
  const version = tls.protocol.replace('TLSv', 'TLS').replace(/^TLS1$/, 'TLS1.0');
  // TLS 1.3: "ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM" (key exchange, signature, cipher).
  const iana = ianaSuite([version, ...parts]);
  const openssl = (iana && opensslSuite(iana)) ?? tls.suite;
  return { openssl, group: keyExchangeOf(parts[0])?.group ?? null };
}

/**
 * A receiving Exim's record of what reached it since `marker`, from its main log alone: one
 * connection per "SMTP connection from" line (by address and port), its messages from the
 * `<=` lines of that address and port (X= gives the TLS the message came over, CV= the client
 * certificate, SNI= the name asked for), and its TLS error line. What Exim does not log is
 * null or false: a TLS session that carried no message (Exim logs TLS only on `<=` lines), the
 * EHLO verb, the ClientHello.
 */
export async function eximPeerRecord(node: string, log: AwaitableLines<EximLogEvent>, marker: number, expectMessageId: string | null, delivered: (eximId: string) => Promise<string | null>): Promise<InteropPeerRecord> {
  if (expectMessageId) await settle(log, `message ${expectMessageId} logged by ${node}`, (e) => e.type === 'received' && e.messageId === expectMessageId, marker);
  const key = (p: { addr: string; port: number | null }) => `${p.addr}:${p.port}`;
  await settleClosed(log, `connections to ${node} closed`, (e) => (e.type === 'connect' ? key(e.peer) : null), (e) => (e.type === 'closed' ? key(e.peer) : null), marker);
  const events = log.since(marker);
  const sameSocket = (a: { addr: string; port: number | null }, b: { addr: string; port: number | null }) => a.addr === b.addr && a.port === b.port;
  const connections: PeerConnection[] = [];
  for (const start of events.filter((e): e is Of<'connect'> => e.type === 'connect')) {
    const own = events.slice(events.indexOf(start) + 1);
    const closed = own.find((e): e is Of<'closed'> => e.type === 'closed' && sameSocket(e.peer, start.peer)) ?? null;
    const upTo = closed ? own.slice(0, own.indexOf(closed)) : own;
    const failed = upTo.find((e): e is Of<'tls-error'> => e.type === 'tls-error' && sameSocket(e.peer, start.peer)) ?? null;
    const received = upTo.filter((e): e is Of<'received'> => e.type === 'received' && e.peer !== null && sameSocket(e.peer, start.peer));
    const messages: PeerMessage[] = [];
    for (const r of received) {
      // Local delivery into the lab Maildir ("=>" then "Completed"): bounded, and the record says what was there.
      await settle(log, `local delivery of ${r.eximId} in ${node}`, (e) => e.type === 'completed' && e.eximId === r.eximId, marker);
      const text = await delivered(r.eximId);
      const header = (name: string) => (text ? (new RegExp(`^${name}:[ \\t]*(.*)$`, 'im').exec(text.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' '))?.[1]?.trim() ?? null) : null);
      messages.push(
        Object.freeze({
          mailFrom: r.from === '<>' ? '' : r.from,
          rcptTo: Object.freeze([...r.recipients]),
          receivedHeader: header('Received'),
          subject: header('Subject'),
          messageId: r.messageId,
          bytes: r.size ?? 0,
          overTls: r.tls !== null,
        }),
      );
    }
    const withTls = received.find((r) => r.tls !== null) ?? null;
    let tls: PeerTls | null = null;
    if (withTls?.tls) {
      const name = eximSuiteName(withTls.tls);
      tls = Object.freeze({ protocol: withTls.tls.protocol, cipher: name.openssl, group: name.group, sni: withTls.sni, resumed: null, clientCertificate: null });
    }
    const helo = closed?.peer.helo ?? failed?.peer.helo ?? received[0]?.peer?.helo ?? null;
    connections.push(
      Object.freeze({
        index: connections.length,
        remoteAddress: start.peer.addr,
        remotePort: start.peer.port,
        greeting: null,
        ehlo: helo,
        // Known only when a message came over TLS or the handshake failed: Exim logs no STARTTLS of its own.
        starttls: tls !== null || failed !== null,
        tls,
        handshakeError: failed ? `${failed.where}: ${failed.reason}` : null,
        clientHello: null,
        helloProblem: null,
        messages: Object.freeze(messages),
        closed: closed !== null,
      }),
    );
  }
  return Object.freeze({ node, kind: 'exim' as const, connections: Object.freeze(connections), messages: Object.freeze(connections.flatMap((c) => c.messages)) });
}
