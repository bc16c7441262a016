import net from 'node:net';
import { LabError } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';

/**
 * One TCP connection for the lab's own clients, bounded by a named timeout. A failure is
 * ECONNECTION at stage 'tcp'; the socket error it came from is the error's cause, so a caller
 * can tell a refused or reset connection (worth a retry to the probe) from the rest.
 */
export function connectTcp(host: string, port: number, o: { readonly timeoutMs: number; readonly name?: string; readonly onSocket?: (s: net.Socket) => void }): Promise<net.Socket> {
  let socket: net.Socket | undefined;
  const connected = new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect({ host, port });
    socket = s;
    o.onSocket?.(s);
    s.setNoDelay(true);
    const onError = (e: Error) => {
      s.off('close', onClose);
      reject(new LabError('ECONNECTION', `cannot connect to ${host}:${port}: ${e.message}`, { stage: 'tcp', cause: e }));
    };
    // Destroyed before it connected (the caller is aborting): no 'error' follows, only 'close'.
    const onClose = () => reject(new LabError('ECONNECTION', `connection to ${host}:${port} closed before it was established`, { stage: 'tcp' }));
    s.once('error', onError);
    s.once('close', onClose);
    s.once('connect', () => {
      s.off('error', onError);
      s.off('close', onClose);
      resolve(s);
    });
  });
  return withTimeout(o.name ?? 'tcp-connect', o.timeoutMs, connected, { stage: 'tcp', onTimeout: () => socket?.destroy() });
}
