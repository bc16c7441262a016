import tls from 'node:tls';
import type net from 'node:net';

/**
 * Lets the lab see the TLSSocket a library (nodemailer) makes inside itself. The library is
 * given TLS options carrying WATCH_TAG; tls.connect is wrapped once so that a call whose
 * options carry a registered tag reports its socket. Every other call passes through
 * untouched, so concurrent clients and the rest of the process are unaffected.
 */
// A string key, not a symbol: nodemailer copies its tls options key by key and drops symbols.
export const WATCH_TAG = '__smtpTlsLabWatch';

type Watcher = (socket: tls.TLSSocket, underlying: net.Socket | null) => void;
const watchers = new Map<string, Watcher>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const original = tls.connect;
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const socket = (original as (...a: unknown[]) => tls.TLSSocket).apply(this, args);
    const opts = args.find((a) => typeof a === 'object' && a !== null) as Record<string, unknown> | undefined;
    const id = opts?.[WATCH_TAG];
    if (typeof id === 'string') watchers.get(id)?.(socket, (opts?.socket as net.Socket | undefined) ?? null);
    return socket;
  };
  (tls as { connect: unknown }).connect = wrapped;
}

export function watchTlsSockets(id: string, watcher: Watcher): () => void {
  install();
  watchers.set(id, watcher);
  return () => watchers.delete(id);
}
