import tls from 'node:tls';
import { settleOnEvent } from '../core/settle-on-event.js';
import { LabError } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import { tlsErrorMessage } from './node-tls.js';

/**
 * The one TLS handshake of the lab's node:tls clients (the raw client, the probe's complete
 * handshakes): tls.connect over a socket or to a host, bounded by a named timeout, with every
 * failure sorted by side. Our own library refusing to offer what was asked (no protocol left
 * after min/max, no cipher matching the string, thrown before a byte is sent) is
 * ECLIENT_CAPABILITY: the lab could not ask, so it is no verdict on the server. Everything the
 * server did (an alert, a close, a bad answer) is ETLS with OpenSSL's reason.
 */

/** OpenSSL errors raised by the client before the server said anything: not a server verdict. */
export const CLIENT_SIDE_TLS_ERRORS: ReadonlySet<string> = new Set([
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_NO_CIPHER_MATCH',
  'ERR_SSL_NO_CIPHERS_AVAILABLE',
  'ERR_SSL_NO_SUITABLE_GROUPS',
]);

export interface HandshakeOptions {
  /** The wait's name in a timeout error ("timeout 'tls-handshake' expired after …"). */
  readonly name?: string;
  readonly timeoutMs: number;
  /** Called with the TLS socket as soon as it exists (before the handshake ends): to listen for 'session', to track it. */
  readonly onSocket?: (socket: tls.TLSSocket) => void;
}

/** The error for a TLS failure, sorted by side (exported for clients whose library made the socket itself). */
export function handshakeError(e: Error & { code?: string }): LabError {
  const clientSide = e.code !== undefined && CLIENT_SIDE_TLS_ERRORS.has(e.code);
  return new LabError(clientSide ? 'ECLIENT_CAPABILITY' : 'ETLS', tlsErrorMessage(e), { stage: 'handshake', detail: e.message });
}

/**
 * Connect and complete the handshake. Resolves with the established socket; rejects with a
 * LabError at stage 'handshake' (ECLIENT_CAPABILITY, ETLS or ETIMEOUT), after destroying the
 * socket. An 'error' listener stays on the socket for its lifetime, so a late error never
 * crashes the process; callers that read from the socket attach their own as well.
 */
export function tlsHandshake(connect: tls.ConnectionOptions, o: HandshakeOptions): Promise<tls.TLSSocket> {
  let socket: tls.TLSSocket | undefined;
  let established: Promise<tls.TLSSocket>;
  try {
    socket = tls.connect(connect);
    socket.on('error', () => undefined);
    o.onSocket?.(socket);
    established = settleOnEvent(socket, 'secureConnect', {
      error: handshakeError,
      close: () => new LabError('ETLS', 'the server closed the connection during the TLS handshake', { stage: 'handshake' }),
    });
  } catch (e) {
    // Thrown before a byte is sent: our own TLS library cannot offer what was asked.
    established = Promise.reject(new LabError('ECLIENT_CAPABILITY', `the client cannot offer this: ${(e as Error).message}`, { stage: 'handshake' }));
  }
  return withTimeout(o.name ?? 'tls-handshake', o.timeoutMs, established, { stage: 'handshake' }).catch((err: unknown) => {
    socket?.destroy();
    throw err;
  });
}
