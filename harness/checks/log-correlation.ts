import type { PostfixLog } from '../postfix/log-stream.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';

/**
 * Pairs Postfix log events with one client connection. smtpd logs the client port
 * (smtpd_client_port_logging = yes in the lab base), and one smtpd process serves one
 * connection at a time, so the events of a connection are those of that smtpd process from
 * "connect from ...:port" to "disconnect from ...:port", plus every line about the queue ids
 * that connection created.
 */
export function connectionEvents(events: readonly PostfixLogEvent[], port: number): PostfixLogEvent[] {
  const start = events.findIndex((e) => e.type === 'connect' && e.peer.port === port);
  if (start < 0) return [];
  const { program, pid } = events[start]!;
  const out: PostfixLogEvent[] = [];
  const queueIds = new Set<string>();
  for (let i = start; i < events.length; i++) {
    const e = events[i]!;
    if (e.program === program && e.pid === pid) {
      out.push(e);
      if (e.type === 'queue-client') queueIds.add(e.queueId);
      if (e.type === 'disconnect' && e.peer.port === port) break;
    }
  }
  const queued = events.filter((e) => !out.includes(e) && queueIds.size > 0 && [...queueIds].some((q) => e.raw.includes(`: ${q}: `)));
  return [...out, ...queued];
}

/** Wait until Postfix has logged the end of the connection from this client port. */
export async function waitForConnectionEnd(log: PostfixLog, port: number, timeoutMs = 10_000): Promise<void> {
  await log.waitFor(`postfix-disconnect (client port ${port})`, (e) => (e.type === 'disconnect' || e.type === 'lost-connection') && e.peer.port === port, timeoutMs);
  // "lost connection" comes just before "disconnect"; wait for the disconnect line too.
  await log.waitFor(`postfix-disconnect (client port ${port})`, (e) => e.type === 'disconnect' && e.peer.port === port, timeoutMs);
}

/** Wait until a delivery agent has logged the outcome for this queue id. */
export function waitForDelivery(log: PostfixLog, queueId: string, timeoutMs = 20_000): Promise<PostfixLogEvent> {
  return log.waitFor(`postfix-delivery (queue id ${queueId})`, (e) => e.type === 'delivery' && e.queueId === queueId, timeoutMs);
}

/** The first Received: header of a message, unfolded. */
export function firstReceivedHeader(message: string): string | null {
  const m = /^Received:[^\n]*(?:\n[ \t][^\n]*)*/im.exec(message.replace(/\r\n/g, '\n'));
  return m ? m[0].replace(/\n[ \t]+/g, ' ') : null;
}
