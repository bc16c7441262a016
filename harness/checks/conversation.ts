import type { PeerRecord } from '../peer/peer-record.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { DeliveryAttempt } from './kinds/delivery/observation.js';
import type { Conversation } from './result.js';

export type { Conversation } from './result.js';

/*
 * How the runners make a check's Conversation (checks/result.ts): the rule for refusedBy, and
 * each side's own words.
 */


// In the sender's words, 'SSL alert number N' is an alert the sender received: the receiver ended the handshake.
// A reason that is itself an SMTP reply (OpenSMTPD's stat="530 5.7.0 …") is the receiver's words too.
const QUOTES_RECEIVER = /^[45]\d\d[ -]|SMTP error from remote mail server|host \S+ said: |alert has been received|refused to talk to me|SSL alert number \d+/i;
const SENDERS_OWN = /certificate verification failed|certificate check failed|not verified|not trusted|TLS is required|did not advertise AUTH|Invalid TLS protocol list|aborting TLS session|no matching DANE|hostname mismatch/i;

/** The rule above, from the sender's words and whether the receiver saw a connection at all. */
export function refusedBy(outcome: string, senderSays: string | null, receiverSawIt: boolean): Conversation['refusedBy'] {
  if (outcome === 'sent') return null;
  if (!receiverSawIt) return 'network';
  if (senderSays && QUOTES_RECEIVER.test(senderSays)) return 'receiver';
  if (senderSays && SENDERS_OWN.test(senderSays)) return 'sender';
  return 'handshake';
}

/** Postfix's own words on one smtpd connection: a reject, a TLS problem, a lost connection or a warning, else its disconnect line. */
export function postfixWords(events: readonly PostfixLogEvent[]): string | null {
  const telling = ['reject', 'tls-library-problem', 'tls-handshake-error', 'tls-verify-failed', 'lost-connection', 'warning'];
  const hit = events.find((e) => telling.includes(e.type)) ?? [...events].reverse().find((e) => e.type === 'disconnect') ?? null;
  return hit ? hit.raw.replace(/^.*?\]: /, '') : null;
}

/** A receiving node's own words about the connections of one check (its record, read from its own log). */
function peerWords(peer: PeerRecord): string | null {
  const failed = peer.connections.find((c) => c.handshakeError);
  if (failed) return `TLS handshake failed: ${failed.handshakeError}`;
  if (peer.messages.length) {
    const c = peer.connections.find((x) => x.messages.length) ?? null;
    return `accepted ${peer.messages.length} message(s)${c?.tls ? ` over ${c.tls.protocol} ${c.tls.cipher}` : ' in clear'}`;
  }
  if (peer.connections.length) return `${peer.connections.length} connection(s), no message${peer.connections.some((c) => c.closed) ? ' (closed)' : ''}${peer.connections.some((c) => c.tls) ? '' : ', no TLS in its log'}`;
  return null;
}

/**
 * The conversations of one delivery check: the sending Postfix and each receiving node its
 * recipients were relayed to (the relay's host name is one of the node's), from the sender's
 * outcome lines, its warnings for the message, and the node's own record.
 */
export function deliveryConversations(
  sender: { readonly node: string; readonly software: string | null },
  deliveries: readonly DeliveryAttempt[],
  peers: Readonly<Record<string, PeerRecord>>,
  hostnamesOf: (node: string) => readonly string[],
  senderEvents: readonly PostfixLogEvent[],
): Conversation[] {
  const warnings = senderEvents.filter((e) => e.type === 'warning' || e.type === 'tls-library-problem' || e.type === 'tls-verify-failed').map((e) => e.raw.replace(/^.*?\]: /, ''));
  const out: Conversation[] = [];
  for (const d of deliveries) {
    const host = d.relay?.replace(/\[.*$/, '') ?? null;
    const node = Object.keys(peers).find((n) => host !== null && hostnamesOf(n).includes(host));
    if (!node) continue;
    const peer = peers[node]!;
    const port = d.relay ? Number(/\]:(\d+)$/.exec(d.relay)?.[1] ?? NaN) : NaN;
    // The verify failure is also a line of the sender's log: said once.
    const own = [...new Set([d.reason, ...(d.verifyFailure && warnings.some((w) => w.includes(d.verifyFailure!)) ? [] : [d.verifyFailure]), ...warnings])].filter((x): x is string => Boolean(x));
    const senderSays = d.status === 'sent' ? d.reason : own.join(' | ') || null;
    out.push(
      Object.freeze({
        sender: { node: sender.node, kind: 'postfix', software: sender.software },
        receiver: { node, kind: peer.kind, port: Number.isFinite(port) ? port : null },
        outcome: d.status ?? 'not-logged',
        refusedBy: refusedBy(d.status ?? 'not-logged', senderSays, peer.connections.length > 0),
        senderSays,
        receiverSays: peerWords(peer),
      }),
    );
  }
  return out;
}
