import net from 'node:net';
import { LabError } from '../core/errors.js';
import { settleOnEvent } from '../core/settle-on-event.js';
import { withTimeout } from '../core/timeouts.js';

/**
 * One TCP connection for the lab's own clients, bounded by a named timeout. A failure is
 * ECONNECTION at stage 'tcp'; the socket error it came from is the error's cause, so a caller
 * can tell a refused or reset connection (worth a retry to the probe) from the rest.
 */
export function connectTcp(host: string, port: number, o: { readonly timeoutMs: number; readonly name?: string; readonly onSocket?: (s: net.Socket) => void }): Promise<net.Socket> {
  const socket = net.connect({ host, port });
  o.onSocket?.(socket);
  socket.setNoDelay(true);
  const connected = settleOnEvent(socket, 'connect', {
    error: (e) => new LabError('ECONNECTION', `cannot connect to ${host}:${port}: ${e.message}`, { stage: 'tcp', cause: e }),
    // Destroyed before it connected (the caller is aborting): no 'error' follows, only 'close'.
    close: () => new LabError('ECONNECTION', `connection to ${host}:${port} closed before it was established`, { stage: 'tcp' }),
  });
  return withTimeout(o.name ?? 'tcp-connect', o.timeoutMs, connected, { stage: 'tcp', onTimeout: () => socket.destroy() });
}
