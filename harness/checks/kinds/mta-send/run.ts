import { randomBytes } from 'node:crypto';
import { LabError, asLabError } from '../../../core/errors.js';
import type { MtaSendRecord, MtaSendRequest } from '../../../interop/mta-send-shape.js';
import type { PostfixLog } from '../../../postfix/log-stream.js';
import type { PostfixLogEvent } from '../../../postfix/log-parser.js';
import { inboundSmtpd, type InboundConnection } from '../../log-correlation.js';
import { expectationAssertions, logPresenceAssertions, serverLogAssertions } from '../../server-log.js';
import { postfixWords, refusedBy, type Conversation } from '../../conversation.js';
import { addEvents, type CheckRunner } from '../runner.js';
import type { MtaSendCheck } from './spec.js';

/** Postfix's side: the connection from the sender's address that opened after `since` (its port from Postfix's own connect line). */
function connectionOf(log: PostfixLog, address: string, since: number): InboundConnection | null {
  const connect = log.since(since).find((e): e is Extract<PostfixLogEvent, { type: 'connect' }> => e.type === 'connect' && e.peer.addr === address);
  return connect?.peer.port != null ? { address, port: connect.peer.port, since } : null;
}

/** A sending MTA node as the check uses it: its address, its software, and send(). */
interface SendingMta {
  readonly address: string;
  readonly version: string | null;
  send(req: MtaSendRequest): Promise<MtaSendRecord>;
}

/**
 * How long Postfix's side of the connection may take to end after the attempt: OpenSMTPD keeps
 * an idle session open about 10 s before it sends QUIT, Exim closes at once.
 */
const END_WAIT_MS: Readonly<Record<string, number>> = { exim: 10_000, opensmtpd: 20_000 };

export const runMtaSend: CheckRunner<MtaSendCheck> = async (session, check, out) => {
  const kind = session.topology.spec(check.from.node).kind;
  if (kind !== 'exim' && kind !== 'opensmtpd') throw new LabError('ESCENARIO', `node ${check.from.node} is a ${kind} node, not a sending MTA (exim, opensmtpd)`);
  const mta: SendingMta = kind === 'exim' ? await session.node(check.from.node, 'exim') : await session.node(check.from.node, 'opensmtpd');
  const endpoint = session.postfix.endpoint(check.service);
  const log = session.postfix.log;
  const since = log.size;
  let record: MtaSendRecord;
  try {
    record = await mta.send({
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
  const conn = connectionOf(log, mta.address, since);
  let events: PostfixLogEvent[] = [];
  if (conn) {
    await inboundSmtpd.waitForEnd(log, conn, END_WAIT_MS[kind]).catch(() => undefined);
    events = inboundSmtpd.events(log, conn);
    addEvents(out, events);
  }
  const judgesServer = check.serverLog.length + check.serverLogAbsent.length > 0 || check.serverLogCounts !== null;
  if (judgesServer && !conn) {
    out.assertions.push({ subject: 'server-log', path: 'connection', expected: `a connection from ${check.from.node} (${mta.address}) in Postfix's log`, observed: record.reason ?? record.status, ok: false });
  } else {
    out.assertions.push(...logPresenceAssertions('server-log', events, check.serverLog, check.serverLogAbsent, record));
    if (check.serverLogCounts) out.assertions.push(...serverLogAssertions({ serverLog: null, serverLogCounts: check.serverLogCounts }, events, record));
  }
  const senderSays = record.status === 'sent' ? record.reply : record.reason;
  const conversation: Conversation = {
    sender: { node: check.from.node, kind, software: mta.version },
    receiver: { node: session.postfix.node.name, kind: 'postfix', port: endpoint.port },
    outcome: record.status,
    refusedBy: refusedBy(record.status, senderSays, conn !== null),
    senderSays,
    receiverSays: postfixWords(events),
  };
  out.tlsSurface.conversation = conversation;
};

