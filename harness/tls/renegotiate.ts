import type tls from 'node:tls';
import { withTimeout } from '../core/timeouts.js';
import { tlsErrorMessage } from './node-tls.js';

/** What a client-initiated renegotiation came to. */
export interface RenegotiationOutcome {
  /** The server completed the renegotiation (a finding on a server that should refuse it). */
  readonly accepted: boolean;
  /** Why it did not complete: the server's alert, a timeout, or our side unable to start one; null when accepted. */
  readonly error: string | null;
  /** The connection is gone afterwards (the server dropped the line instead of, or after, answering). */
  readonly connectionClosed: boolean;
}

/**
 * Ask for a client-initiated renegotiation on an established TLS (1.2 or below) connection and
 * record the server's answer: it performs it, refuses it with an alert, or drops the line.
 * Bounded by timeoutMs, and never throws: every way it can end is an outcome, because both the
 * raw client and the probe report it as a finding rather than as a failure of the session.
 */
export async function renegotiate(socket: tls.TLSSocket, timeoutMs: number): Promise<RenegotiationOutcome> {
  let stopListening = (): void => undefined;
  const answer = new Promise<{ accepted: boolean; error: string | null }>((resolve) => {
    // OpenSSL's refusal ("no renegotiation") arrives as an 'error' on the socket, not through the
    // callback, and a server may drop the line instead: both end the wait at once.
    const onError = (e: Error) => resolve({ accepted: false, error: tlsErrorMessage(e) });
    const onClose = () => resolve({ accepted: false, error: 'the server closed the connection' });
    socket.once('error', onError);
    socket.once('close', onClose);
    stopListening = () => {
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    try {
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve({ accepted: !err, error: err ? tlsErrorMessage(err) : null }));
      if (!started) resolve({ accepted: false, error: 'the client could not start a renegotiation (TLS 1.3 has none)' });
    } catch (e) {
      resolve({ accepted: false, error: `the client could not start a renegotiation: ${(e as Error).message}` });
    }
  });
  const result = await withTimeout('tls-renegotiation', timeoutMs, answer, { stage: 'handshake' })
    .catch((e: Error) => ({ accepted: false, error: e.message }))
    .finally(() => stopListening());
  return { ...result, connectionClosed: socket.destroyed || !socket.writable };
}
