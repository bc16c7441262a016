import type { PostfixLog } from '../postfix/log-stream.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';

/**
 * Which of Postfix's log events belong to one check's connection. A strategy per kind of
 * connection: inbound checks pair smtpd's `connect from …[addr]:port`; outbound checks (the
 * sending Postfix) will pair by queue id, because smtp(8) logs the server's port, not its own.
 */
export interface LogCorrelation<Ref> {
  readonly name: string;
  /** Wait until Postfix has logged the end of this connection. */
  waitForEnd(log: PostfixLog, ref: Ref, timeoutMs?: number): Promise<void>;
  /** The connection's own events, in order. */
  events(log: PostfixLog, ref: Ref): PostfixLogEvent[];
}

/** A client connection into smtpd: its address and port as Postfix logs them, and the log position before it opened. */
export interface InboundConnection {
  readonly address: string | null;
  readonly port: number;
  /** `log.size` taken before the client connected: only later lines can be about this connection. */
  readonly since: number;
}

/** Node reports IPv4 peers on dual-stack sockets as ::ffff:a.b.c.d; Postfix logs a.b.c.d. */
function sameAddress(logged: string, client: string | null): boolean {
  return client === null || logged === client.replace(/^::ffff:/, '');
}

function isThisPeer(e: PostfixLogEvent, c: InboundConnection): boolean {
  return 'peer' in e && e.peer.port === c.port && sameAddress(e.peer.addr, c.address);
}

/**
 * smtpd logs the client's address and port (smtpd_client_port_logging = yes in the lab base),
 * and one smtpd process serves one connection at a time, so a connection's events are those
 * of that smtpd process from its `connect from` line to its `disconnect from` line, plus
 * every line about the queue ids the connection created. Ports alone are not enough: the
 * openssl client's ports overlap the host's ephemeral range, so both address and port must
 * match, and only lines logged after the connection opened.
 */
export const inboundSmtpd: LogCorrelation<InboundConnection> = {
  name: 'smtpd connect/disconnect by client address and port',
  async waitForEnd(log, c, timeoutMs = 10_000) {
    const name = `postfix-disconnect (client ${c.address ?? '?'}:${c.port})`;
    // "lost connection" comes just before "disconnect"; the disconnect line ends the connection.
    await log.waitFor(name, (e) => e.type === 'disconnect' && isThisPeer(e, c), timeoutMs, c.since);
  },
  events(log, c) {
    const events = log.since(c.since);
    const start = events.findIndex((e) => e.type === 'connect' && isThisPeer(e, c));
    if (start < 0) return [];
    const { program, pid } = events[start]!;
    const out: PostfixLogEvent[] = [];
    const queueIds = new Set<string>();
    for (let i = start; i < events.length; i++) {
      const e = events[i]!;
      if (e.program === program && e.pid === pid) {
        out.push(e);
        if (e.type === 'queue-client') queueIds.add(e.queueId);
        if (e.type === 'disconnect' && isThisPeer(e, c)) break;
      }
    }
    const queued = queueIds.size === 0 ? [] : events.filter((e) => !out.includes(e) && [...queueIds].some((q) => e.raw.includes(`: ${q}: `)));
    return [...out, ...queued];
  },
};

/** Wait until a delivery agent has logged the outcome for this queue id. */
export function waitForDelivery(log: PostfixLog, queueId: string, timeoutMs = 20_000): Promise<PostfixLogEvent> {
  return log.waitFor(`postfix-delivery (queue id ${queueId})`, (e) => e.type === 'delivery' && e.queueId === queueId, timeoutMs);
}

/** The first Received: header of a message, unfolded. */
export function firstReceivedHeader(message: string): string | null {
  const m = /^Received:[^\n]*(?:\n[ \t][^\n]*)*/im.exec(message.replace(/\r\n/g, '\n'));
  return m ? m[0].replace(/\n[ \t]+/g, ' ') : null;
}

type DeliveryEvent = Extract<PostfixLogEvent, { type: 'delivery' }>;

/**
 * The sending side: smtp(8) logs the server's address, never its own port, so an outbound
 * check pairs by queue id. A message's lines are those naming its queue id; the session that
 * carried one recipient is the delivering process's own lines (same program and pid) before
 * its delivery line, back to where that process last delivered through another relay (one
 * smtp process runs one session at a time, and may run several in a row).
 */
export const outboundQueue = {
  name: 'queue id, and the delivering smtp process by pid',
  /** The session lines (TLS summary, verification, STARTTLS offer …) of the process that logged `delivery`. */
  session(log: PostfixLog, delivery: DeliveryEvent, since: number): PostfixLogEvent[] {
    const events = log.since(since);
    const end = events.indexOf(delivery);
    if (end < 0) return [];
    const out: PostfixLogEvent[] = [];
    for (let i = end - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.program !== delivery.program || e.pid !== delivery.pid) continue;
      if (e.type === 'delivery' && e.relay !== delivery.relay) break;
      out.unshift(e);
    }
    return [...out, delivery];
  },
  /** Every line of the message (by queue id) and of the sessions that delivered it. */
  events(log: PostfixLog, queueId: string, since: number): PostfixLogEvent[] {
    const events = log.since(since);
    const deliveries = events.filter((e): e is DeliveryEvent => e.type === 'delivery' && e.queueId === queueId);
    const sessions = new Set(deliveries.flatMap((d) => outboundQueue.session(log, d, since)));
    return events.filter((e) => sessions.has(e) || ('queueId' in e && e.queueId === queueId) || e.raw.includes(`: ${queueId}: `));
  },
} as const;
