import { randomBytes } from 'node:crypto';
import { asLabError } from '../../../core/errors.js';
import type { EximSendRecord } from '../../../interop/exim-send-record.js';
import type { PostfixLog } from '../../../postfix/log-stream.js';
import type { PostfixLogEvent } from '../../../postfix/log-parser.js';
import { inboundSmtpd, type InboundConnection } from '../../log-correlation.js';
import { expectationAssertions, logPresenceAssertions, serverLogAssertions } from '../../server-log.js';
import { postfixWords, refusedBy, type Conversation } from '../../conversation.js';
import { addEvents, type CheckRunner, type KindOutcome } from '../runner.js';
import type { MtaSendCheck } from './spec.js';

/** Postfix's side: the connection from the sender's address that opened after `since` (its port from Postfix's own connect line). */
function connectionOf(log: PostfixLog, address: string, since: number): InboundConnection | null {
  const connect = log.since(since).find((e): e is Extract<PostfixLogEvent, { type: 'connect' }> => e.type === 'connect' && e.peer.addr === address);
  return connect?.peer.port != null ? { address, port: connect.peer.port, since } : null;
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
    receiver: { node: session.postfix.node.name, kind: 'postfix', port: endpoint.port },
    outcome: record.status,
    refusedBy: refusedBy(record.status, record.status === 'sent' ? record.reply : record.reason, conn !== null),
    senderSays: record.status === 'sent' ? record.reply : record.reason,
    receiverSays: postfixWords(events),
  };
  out.tlsSurface.conversation = conversation;
};

/** For tests: the record a result carries. */
export function senderRecordOf(out: KindOutcome): EximSendRecord | null {
  return (out.tlsSurface.sender as EximSendRecord | undefined) ?? null;
}
