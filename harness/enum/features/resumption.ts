import { constants as cryptoConstants } from 'node:crypto';
import type tls from 'node:tls';
import { withTimeout } from '../../core/timeouts.js';
import type { ProbeVersion } from '../cipher-suites.js';
import type { Prober } from '../prober.js';
import type { CompletedHandshake, ProbeTimeouts } from '../starttls-transport.js';

/**
 * Session resumption, proven by a second node:tls handshake reusing the first one's session
 * (isSessionReused()): by ticket (RFC 5077 / TLS 1.3 PSK) with the feature handshake's
 * session, and by session ID (TLS <= 1.2) with a handshake of its own that refuses tickets.
 */

export interface ResumptionPart {
  readonly resumed: boolean;
  readonly detail: string;
}

export async function ticketResumption(p: Prober, hv: ProbeVersion, base: tls.ConnectionOptions, session: Buffer | null, ticketExtension: boolean | null): Promise<ResumptionPart> {
  if (ticketExtension === false && hv !== 'TLSv1.3') return { resumed: false, detail: 'ticket: the ServerHello did not answer the session_ticket extension' };
  if (!session) return { resumed: false, detail: 'ticket: no session was received to resume' };
  const again = await p.handshake(`${hv} ticket resumption`, { ...base, session });
  const reused = again.socket.isSessionReused();
  again.socket.destroy();
  return { resumed: reused, detail: `ticket: ${reused ? 'resumed' : 'a full handshake again'}` };
}

export async function idResumption(p: Prober, hv: ProbeVersion, base: tls.ConnectionOptions, sessionIdLength: Promise<number | null>): Promise<ResumptionPart> {
  if ((await sessionIdLength) === 0) return { resumed: false, detail: 'id: the server sent an empty session id (RFC 5246 7.4.1.3: the session cannot be resumed)' };
  const noTicket = { ...base, secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
  let session: Buffer | null = null;
  const hs = await p.handshake(`${hv} handshake for session id`, noTicket, (s) => (session = s));
  session ??= hs.socket.getSession() ?? null;
  await closeSmtp(hs, p.timeouts);
  if (!session) return { resumed: false, detail: 'id: no session was received to resume' };
  const again = await p.handshake(`${hv} session id resumption`, { ...noTicket, session });
  const reused = again.socket.isSessionReused();
  again.socket.destroy();
  return { resumed: reused, detail: `id: ${reused ? 'resumed' : 'a full handshake again'}` };
}

async function closeSmtp(hs: CompletedHandshake, t: ProbeTimeouts): Promise<void> {
  // QUIT and a clean TLS close keep the session in the server's cache (OpenSSL drops a session whose connection was not shut down).
  try {
    if (hs.link) await hs.link.command('QUIT', 'probe QUIT reply', t.reply);
  } catch {
    // The result is known already.
  }
  await withTimeout(
    'probe close after QUIT',
    t.reply,
    new Promise<void>((resolve) => {
      if (hs.socket.destroyed) return resolve();
      hs.socket.once('close', () => resolve());
      hs.socket.end();
    }),
  ).catch(() => undefined);
  hs.socket.destroy();
}
