import { randomBytes } from 'node:crypto';
import { asLabError } from '../../../core/errors.js';
import type { EximSendRecord } from '../../../interop/exim-send-record.js';
import type { PostfixLog } from '../../../postfix/log-stream.js';
import type { PostfixLogEvent } from '../../../postfix/log-parser.js';
import { inboundSmtpd, type InboundConnection } from '../../log-correlation.js';
import { expectationAssertions, logPresenceAssertions, serverLogAssertions } from '../../server-log.js';
import { addEvents, type CheckRunner, type KindOutcome } from '../runner.js';
import type { MtaSendCheck } from './spec.js';

/**
 * Who tried to talk to whom, and what each side's own log says about it: the sender's words
 * (its reply or its reason) and Postfix's (the last line of the connection that says what it
 * refused or lost, else its disconnect line). Kept in the result's tlsSurface.conversation,
 * which the report shows beside the verdict.
 */
export interface Conversation {
  readonly sender: { readonly node: string; readonly kind: string; readonly software: string | null };
  readonly receiver: { readonly node: string; readonly kind: 'postfix'; readonly service: string; readonly port: number };
  /** What the sender says became of the message. */
  readonly outcome: EximSendRecord['status'];
  /** Which side ended the attempt, as the two logs show it: null when the message went through. */
  readonly refusedBy: 'sender' | 'receiver' | 'network' | null;
  readonly senderSays: string | null;
  readonly receiverSays: string | null;
}

/** Postfix's side: the connection from the sender's address that opened after `since` (its port from Postfix's own connect line). */
function connectionOf(log: PostfixLog, address: string, since: number): InboundConnection | null {
  const connect = log.since(since).find((e): e is Extract<PostfixLogEvent, { type: 'connect' }> => e.type === 'connect' && e.peer.addr === address);
  return connect?.peer.port != null ? { address, port: connect.peer.port, since } : null;
}

/** Postfix's own words on the connection: a reject, a lost connection, a TLS problem, else the disconnect line. */
function receiverWords(events: readonly PostfixLogEvent[]): string | null {
  const telling = ['reject', 'tls-library-problem', 'tls-handshake-error', 'lost-connection', 'warning'];
  const hit = events.find((e) => telling.includes(e.type)) ?? [...events].reverse().find((e) => e.type === 'disconnect') ?? null;
  return hit ? hit.raw.replace(/^.*?: /, '') : null;
}

/**
 * Which side ended it, from the sender's words: a defer or failure that quotes the server's
 * reply, or a TLS alert the server sent, is the receiver's refusal; anything else Exim says
 * after a connection is its own decision (no AUTH offered while its transport requires it; a
 * certificate it would not accept, for which GnuTLS sends the alert Postfix then logs). No
 * connection in Postfix's log at all is the network's.
 */
function refusedBy(rec: EximSendRecord, connected: boolean): Conversation['refusedBy'] {
  if (rec.status === 'sent') return null;
  if (!connected) return 'network';
  if (rec.reason && /SMTP error from remote mail server|alert has been received|Connection reset|closed connection/i.test(rec.reason)) return 'receiver';
  return 'sender';
}

export const runMtaSend: CheckRunner<MtaSendCheck> = async (session, check, out) => {
  const exim = await session.node(check.from.node, 'exim');
  const endpoint = session.postfix.endpoint(check.service);
  const log = session.postfix.log;
  const since = log.size;
  let record: EximSendRecord;
  try {
    record = await exim.send({
      transport: check.from.transport,
      port: endpoint.port,
      from: check.message.from,
      to: check.message.to,
      subject: check.message.subject,
      messageId: `${check.id}.${randomBytes(6).toString('hex')}@smtp-tls-lab.lab.test`,
      timeoutMs: check.timeoutMs,
    });
  } catch (err) {
    out.labErrors.push(asLabError(err));
    return;
  }
  out.tlsSurface.sender = record;
  out.assertions.push(...expectationAssertions(`sender:${check.from.node}`, check.expect, record));
  // The attempt went to the port the check names (Exim logs the port it connected to).
  if (record.host && record.host.port !== null) {
    out.assertions.push({ subject: `sender:${check.from.node}`, path: 'host.port', expected: endpoint.port, observed: record.host.port, ok: record.host.port === endpoint.port });
  }
  const conn = connectionOf(log, exim.address, since);
  let events: PostfixLogEvent[] = [];
  if (conn) {
    await inboundSmtpd.waitForEnd(log, conn).catch(() => undefined);
    events = inboundSmtpd.events(log, conn);
    addEvents(out, events);
  }
  const judgesServer = check.serverLog.length + check.serverLogAbsent.length > 0 || check.serverLogCounts !== null;
  if (judgesServer && !conn) {
    out.assertions.push({ subject: 'server-log', path: 'connection', expected: `a connection from ${check.from.node} (${exim.address}) in Postfix's log`, observed: record.reason ?? record.status, ok: false });
  } else {
    out.assertions.push(...logPresenceAssertions('server-log', events, check.serverLog, check.serverLogAbsent, record));
    if (check.serverLogCounts) out.assertions.push(...serverLogAssertions({ serverLog: null, serverLogCounts: check.serverLogCounts }, events, record));
  }
  const conversation: Conversation = {
    sender: { node: check.from.node, kind: 'exim', software: exim.version },
    receiver: { node: session.postfix.node.name, kind: 'postfix', service: endpoint.service, port: endpoint.port },
    outcome: record.status,
    refusedBy: refusedBy(record, conn !== null),
    senderSays: record.status === 'sent' ? record.reply : record.reason,
    receiverSays: receiverWords(events),
  };
  out.tlsSurface.conversation = conversation;
};

/** For tests: the record a result carries. */
export function senderRecordOf(out: KindOutcome): EximSendRecord | null {
  return (out.tlsSurface.sender as EximSendRecord | undefined) ?? null;
}
