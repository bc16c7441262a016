import net from 'node:net';
import tls from 'node:tls';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import { capabilitiesOf, type SessionFailure, SmtpSession } from '../smtp/smtp-session.js';
import { type DialogueWaitNames, type PlaintextDialogue, readGreeting, sayEhlo, starttlsDialogue, UnexpectedReplyError } from '../smtp/starttls.js';
import { connectTcp as connectSocket } from '../smtp/tcp.js';
import { tlsHandshake } from '../tls/handshake.js';
import type { SmtpReply } from '../tls/observation.js';
import { type FinishedAnswer, ServerAnswerReader } from './server-answer.js';

/**
 * The probe's way to a TLS handshake: one TCP connection per attempt, then (STARTTLS mode)
 * banner → EHLO → STARTTLS, and the bare socket handed back so a hand-built ClientHello can be
 * written on it. Also a complete handshake with node:tls, for the few features that need one.
 * Every wait is named and bounded; every failure is a TransportError (a LabError with the
 * stage it happened at) that says whether it looks like throttling (worth a retry) or not.
 */

export type ProbeMode = 'starttls' | 'implicit' | 'plain';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
  readonly mode: ProbeMode;
}

export interface ProbeTimeouts {
  /** TCP connect. */
  readonly connect: number;
  /** The SMTP greeting after connect. */
  readonly banner: number;
  /** Each SMTP reply (EHLO, STARTTLS). */
  readonly reply: number;
  /** The server's answer (ServerHello flight or alert) to a hand-built ClientHello. */
  readonly serverAnswer: number;
  /** A complete node:tls handshake, and a renegotiation. */
  readonly handshake: number;
}

export const DEFAULT_PROBE_TIMEOUTS: ProbeTimeouts = Object.freeze({ connect: 5_000, banner: 8_000, reply: 8_000, serverAnswer: 8_000, handshake: 10_000 });

export class TransportError extends LabError {
  /** The SMTP reply that ended the dialogue, if one did. */
  readonly reply: SmtpReply | null;
  /** True for pushback a later retry may get past: SMTP 421, a refused or reset connection, a close before the greeting. */
  readonly transient: boolean;
  /** True when the server said so itself (421) rather than the connection failing. */
  readonly throttle: boolean;

  constructor(code: ErrorCode, message: string, opts: { stage: Stage; reply?: SmtpReply | null; transient?: boolean; detail?: string; cause?: unknown }) {
    super(code, message, { stage: opts.stage, ...(opts.detail !== undefined ? { detail: opts.detail } : {}), ...(opts.cause !== undefined ? { cause: opts.cause } : {}) });
    this.name = 'TransportError';
    this.reply = opts.reply ?? null;
    this.throttle = opts.reply?.code === 421;
    this.transient = opts.transient ?? this.throttle;
  }
}

/** Errors from the socket that mean "try again later" rather than "this is not a server". */
const TRANSIENT_SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EAGAIN', 'EADDRNOTAVAIL']);

function transientSocketError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TRANSIENT_SOCKET_ERRORS.has(code);
}

/** The probe's phrasing of a failed stream: a close before the greeting, a refused or reset connection, may be pushback. */
function transportFailure(f: SessionFailure): TransportError {
  switch (f.kind) {
    case 'closed':
      return new TransportError('ECLOSED', `the server closed the connection (${f.stage})`, { stage: f.stage, transient: f.stage === 'banner' });
    case 'socket-error':
      return new TransportError('ECONNECTION', `connection error during ${f.stage}: ${f.error.message}`, { stage: f.stage, transient: transientSocketError(f.error) });
    case 'bad-reply':
      return new TransportError(f.error.code, f.error.message, { stage: f.error.stage ?? 'banner' });
  }
}

/**
 * The shared dialogue and handshake throw LabErrors; the probe's retry loop reads
 * TransportErrors. A refusal keeps its reply (a 421 is throttling); a timeout stays what it
 * was (a LabError the probe does not retry), as does a bug.
 */
function asTransportError(err: unknown): unknown {
  if (err instanceof TransportError || !(err instanceof LabError) || err.code === 'ETIMEOUT' || err.code === 'EINTERNAL') return err;
  const cause = err.cause;
  return new TransportError(err.code, err.message, {
    stage: err.stage ?? 'tcp',
    reply: err instanceof UnexpectedReplyError ? err.reply : null,
    ...(err.code === 'ECONNECTION' && transientSocketError(cause) ? { transient: true } : {}),
    ...(err.detail !== undefined ? { detail: err.detail } : {}),
    cause: err,
  });
}


export { capabilitiesOf };

export type SmtpDialogue = Omit<PlaintextDialogue, 'stream'>;

export interface OpenedTransport {
  /** The TCP socket, positioned where the first TLS byte goes (after "220 Ready to start TLS" in STARTTLS mode). */
  readonly socket: net.Socket;
  readonly localAddress: string | null;
  readonly localPort: number | null;
  /** The plaintext SMTP dialogue (STARTTLS mode only). */
  readonly dialogue: SmtpDialogue | null;
}

export interface TransportOptions {
  readonly ehloName: string;
  readonly timeouts: ProbeTimeouts;
  /** Called with every socket the transport opens, so an aborting probe can destroy them all. */
  readonly track?: (s: net.Socket) => void;
}

export async function connectTcp(host: string, port: number, ms: number, track?: (s: net.Socket) => void): Promise<net.Socket> {
  try {
    return await connectSocket(host, port, { timeoutMs: ms, name: 'probe tcp connect', ...(track ? { onSocket: track } : {}) });
  } catch (err) {
    throw asTransportError(err);
  }
}

const PROBE_WAITS: DialogueWaitNames = Object.freeze({ banner: 'probe banner', ehlo: 'probe EHLO reply', starttls: 'probe STARTTLS reply' });

/**
 * Open one connection ready for a ClientHello. STARTTLS mode runs the lab's one STARTTLS
 * dialogue (banner, EHLO, STARTTLS advertised, 220, and nothing after it: plaintext there is
 * EINJECTION). Implicit and plain modes return the socket right after connect. On any failure
 * the socket is destroyed before the error is thrown.
 */
export async function openForTls(target: ProbeTarget, opts: TransportOptions): Promise<OpenedTransport> {
  const t = opts.timeouts;
  const sock = await connectTcp(target.host, target.port, t.connect, opts.track);
  const local = { localAddress: sock.localAddress ?? null, localPort: sock.localPort ?? null };
  if (target.mode !== 'starttls') {
    sock.on('error', () => undefined); // the TLS attempt reports failures; an unhandled 'error' must not crash the process
    return { socket: sock, ...local, dialogue: null };
  }
  try {
    const { stream: _stream, ...dialogue } = await starttlsDialogue(new SmtpSession({ stage: 'banner', errorFor: transportFailure }), sock, {
      ehloName: opts.ehloName,
      timeouts: t,
      names: PROBE_WAITS,
    });
    sock.on('error', () => undefined);
    return { socket: sock, ...local, dialogue };
  } catch (err) {
    sock.destroy();
    throw asTransportError(err);
  }
}

/**
 * Write a ClientHello on an opened socket and read the server's answer, then close. Never
 * throws: a timeout, a close or an error become 'timeout'/'closed' answers (with the bytes
 * seen), non-TLS bytes become 'garbage'.
 */
export async function exchangeHello(sock: net.Socket, hello: Buffer, ms: number): Promise<FinishedAnswer> {
  const reader = new ServerAnswerReader();
  let settle: ((a: FinishedAnswer) => void) | undefined;
  const answer = new Promise<FinishedAnswer>((resolve) => {
    settle = resolve;
    sock.on('data', (d: Buffer) => {
      reader.push(d);
      const a = reader.answer();
      if (a) resolve(a);
    });
    sock.once('close', () => resolve(reader.finish('closed')));
    sock.once('error', () => resolve(reader.finish('closed')));
    sock.write(hello);
  });
  try {
    return await withTimeout('probe server answer', ms, answer, { stage: 'handshake' });
  } catch {
    const a = reader.finish('timeout');
    settle?.(a);
    return a;
  } finally {
    sock.destroy();
  }
}

export interface CompletedHandshake {
  readonly socket: tls.TLSSocket;
  readonly localAddress: string | null;
  readonly localPort: number | null;
  /** STARTTLS mode: the dialogue before TLS. */
  readonly dialogue: SmtpDialogue | null;
  /** STARTTLS and implicit modes: the greeting inside TLS (implicit) and the EHLO capabilities inside TLS. */
  readonly bannerInTls: SmtpReply | null;
  readonly capabilitiesAfter: readonly string[] | null;
  /** SMTP over the TLS socket, for more commands (NOOP after a renegotiation); null in plain mode. */
  readonly link: SmtpSession | null;
}

/**
 * A complete handshake with node:tls (the host's OpenSSL) through the lab's one handshake
 * wrapper, then, for SMTP modes, EHLO inside TLS. Used only where a feature needs a finished
 * handshake: client-initiated renegotiation, session resumption, the certificate when only
 * TLS 1.3 is spoken, the capabilities after TLS.
 */
export async function completeHandshake(
  target: ProbeTarget,
  tlsOptions: tls.ConnectionOptions,
  opts: TransportOptions & { readonly ehloAfter: boolean; readonly onSession?: (session: Buffer) => void },
): Promise<CompletedHandshake> {
  const opened = await openForTls(target, opts);
  const t = opts.timeouts;
  const local = { localAddress: opened.localAddress, localPort: opened.localPort };
  let sock: tls.TLSSocket | undefined;
  try {
    sock = await tlsHandshake(
      { rejectUnauthorized: false, checkServerIdentity: () => undefined, ...tlsOptions, socket: opened.socket },
      { name: 'probe tls handshake', timeoutMs: t.handshake, ...(opts.onSession ? { onSocket: (s: tls.TLSSocket) => void s.on('session', opts.onSession!) } : {}) },
    );
    if (target.mode === 'plain' || !opts.ehloAfter) return { socket: sock, ...local, dialogue: opened.dialogue, bannerInTls: null, capabilitiesAfter: null, link: null };
    const link = new SmtpSession({ stage: 'banner', errorFor: transportFailure });
    link.attach(sock);
    let bannerInTls: SmtpReply | null = null;
    if (target.mode === 'implicit') bannerInTls = await readGreeting(link, { ms: t.banner, name: 'probe banner inside TLS', what: 'the greeting inside TLS' });
    const ehlo = await sayEhlo(link, { ehloName: opts.ehloName, ms: t.reply, name: 'probe EHLO reply inside TLS', what: 'EHLO inside TLS' });
    return { socket: sock, ...local, dialogue: opened.dialogue, bannerInTls, capabilitiesAfter: ehlo.capabilities, link };
  } catch (err) {
    sock?.destroy();
    opened.socket.destroy();
    throw asTransportError(err);
  }
}
