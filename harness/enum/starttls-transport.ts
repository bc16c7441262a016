import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import { DEFAULT_REPLY_LIMITS, ReplyReader } from '../smtp/reply-reader.js';
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

function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' / ')}`;
}

/**
 * SMTP replies over one stream, bounded by ReplyReader's limits. Attach, read replies with a
 * named timeout, detach to hand the stream to TLS (returning bytes that arrived after the last
 * reply: there must be none).
 */
export class SmtpLink {
  private reader = new ReplyReader(DEFAULT_REPLY_LIMITS);
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: LabError) => void } | null = null;
  private ended: TransportError | null = null;
  stage: Stage;
  private readonly onData = (d: Buffer) => {
    this.reader.push(d, this.stage);
    this.pump();
  };
  private readonly onClose = () => {
    this.fail(new TransportError('ECLOSED', `the server closed the connection (${this.stage})`, { stage: this.stage, transient: this.stage === 'banner' }));
  };
  private readonly onError = (e: Error & { code?: string }) => {
    const transient = e.code !== undefined && TRANSIENT_SOCKET_ERRORS.has(e.code);
    this.fail(new TransportError('ECONNECTION', `connection error during ${this.stage}: ${e.message}`, { stage: this.stage, transient }));
  };

  constructor(
    readonly stream: Duplex,
    stage: Stage,
  ) {
    this.stage = stage;
    stream.on('data', this.onData);
    stream.on('close', this.onClose);
    stream.on('error', this.onError);
  }

  private pump(): void {
    if (this.reader.error) {
      const e = this.reader.error;
      return this.fail(new TransportError(e.code, e.message, { stage: e.stage ?? this.stage }));
    }
    if (!this.waiter) return;
    const r = this.reader.shift();
    if (r) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(r);
    }
  }

  private fail(e: TransportError): void {
    this.ended ??= e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(e);
    }
  }

  reply(name: string, ms: number): Promise<SmtpReply> {
    const p = new Promise<SmtpReply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.pump();
      if (this.waiter && this.ended) this.fail(this.ended);
    });
    return withTimeout(name, ms, p, { stage: this.stage, onTimeout: () => (this.waiter = null) });
  }

  async command(line: string, name: string, ms: number): Promise<SmtpReply> {
    this.stream.write(`${line}\r\n`);
    return this.reply(name, ms);
  }

  /** Stop reading replies; returns any bytes the server sent after the last complete reply. */
  detach(): Buffer {
    this.stream.off('data', this.onData);
    this.stream.off('close', this.onClose);
    this.stream.off('error', this.onError);
    return this.reader.takeLeftover();
  }
}

export function capabilitiesOf(ehlo: SmtpReply): string[] {
  return ehlo.lines.slice(1).map((l) => l.trim());
}

function expectReply(r: SmtpReply, want: number, code: ErrorCode, what: string, stage: Stage): void {
  if (r.code !== want) throw new TransportError(code, `${what}: ${replyText(r)}`, { stage, reply: r });
}

export interface SmtpDialogue {
  readonly banner: SmtpReply;
  readonly ehlo: SmtpReply;
  readonly capabilities: readonly string[];
  readonly starttls: SmtpReply | null;
}

export interface OpenedTransport {
  /** The TCP socket, positioned where the first TLS byte goes (after "220 Ready to start TLS" in STARTTLS mode). */
  readonly socket: net.Socket;
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

export function connectTcp(host: string, port: number, ms: number, track?: (s: net.Socket) => void): Promise<net.Socket> {
  let sock: net.Socket | undefined;
  return withTimeout(
    'probe tcp connect',
    ms,
    new Promise<net.Socket>((resolve, reject) => {
      sock = net.connect({ host, port });
      track?.(sock);
      sock.setNoDelay(true);
      sock.once('connect', () => resolve(sock!));
      // Destroyed before it connected (the probe is aborting): no 'error' follows, only 'close'.
      sock.once('close', () => reject(new TransportError('ECONNECTION', `connection to ${host}:${port} closed before it was established`, { stage: 'tcp' })));
      sock.once('error', (e: Error & { code?: string }) => {
        const transient = e.code !== undefined && TRANSIENT_SOCKET_ERRORS.has(e.code);
        reject(new TransportError('ECONNECTION', `cannot connect to ${host}:${port}: ${e.message}`, { stage: 'tcp', transient }));
      });
    }),
    { stage: 'tcp', onTimeout: () => sock?.destroy() },
  );
}

/**
 * Open one connection ready for a ClientHello. STARTTLS mode reads the banner, sends EHLO,
 * requires STARTTLS in the capabilities, sends STARTTLS and requires 220 with nothing after
 * it. Implicit and plain modes return the socket right after connect. On any failure the
 * socket is destroyed before the error is thrown.
 */
export async function openForTls(target: ProbeTarget, opts: TransportOptions): Promise<OpenedTransport> {
  const t = opts.timeouts;
  const sock = await connectTcp(target.host, target.port, t.connect, opts.track);
  if (target.mode !== 'starttls') {
    sock.on('error', () => undefined); // the TLS attempt reports failures; an unhandled 'error' must not crash the process
    return { socket: sock, localPort: sock.localPort ?? null, dialogue: null };
  }
  const link = new SmtpLink(sock, 'banner');
  try {
    const banner = await link.reply('probe banner', t.banner);
    expectReply(banner, 220, 'EBANNER', 'the greeting was not 220', 'banner');
    link.stage = 'ehlo';
    const ehlo = await link.command(`EHLO ${opts.ehloName}`, 'probe EHLO reply', t.reply);
    expectReply(ehlo, 250, 'EEHLO', 'EHLO was refused', 'ehlo');
    const capabilities = capabilitiesOf(ehlo);
    link.stage = 'starttls';
    if (!capabilities.some((c) => c.toUpperCase() === 'STARTTLS')) {
      throw new TransportError('ENOSTARTTLS', 'the server did not advertise STARTTLS in its EHLO reply', { stage: 'starttls', detail: capabilities.join(', ') });
    }
    const starttls = await link.command('STARTTLS', 'probe STARTTLS reply', t.reply);
    expectReply(starttls, 220, 'ESTARTTLS', 'STARTTLS was refused', 'starttls');
    const leftover = link.detach();
    if (leftover.length > 0) {
      throw new TransportError('EPROTOCOL', `the server sent ${leftover.length} bytes of plaintext after its STARTTLS reply`, {
        stage: 'starttls',
        detail: JSON.stringify(leftover.toString('latin1').slice(0, 200)),
      });
    }
    sock.on('error', () => undefined);
    return { socket: sock, localPort: sock.localPort ?? null, dialogue: { banner, ehlo, capabilities, starttls } };
  } catch (err) {
    link.detach();
    sock.destroy();
    throw err;
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
  readonly localPort: number | null;
  /** STARTTLS mode: the dialogue before TLS. */
  readonly dialogue: SmtpDialogue | null;
  /** STARTTLS and implicit modes: the greeting inside TLS (implicit) and the EHLO capabilities inside TLS. */
  readonly bannerInTls: SmtpReply | null;
  readonly capabilitiesAfter: readonly string[] | null;
  /** SMTP over the TLS socket, for more commands (NOOP after a renegotiation); null in plain mode. */
  readonly link: SmtpLink | null;
}

/**
 * A complete handshake with node:tls (the host's OpenSSL), then, for SMTP modes, EHLO inside
 * TLS. Used only where a feature needs a finished handshake: client-initiated renegotiation,
 * session resumption, the certificate when only TLS 1.3 is spoken, the capabilities after TLS.
 */
export async function completeHandshake(
  target: ProbeTarget,
  tlsOptions: tls.ConnectionOptions,
  opts: TransportOptions & { readonly ehloAfter: boolean; readonly onSession?: (session: Buffer) => void },
): Promise<CompletedHandshake> {
  const opened = await openForTls(target, opts);
  const t = opts.timeouts;
  let sock: tls.TLSSocket | undefined;
  try {
    sock = await withTimeout(
      'probe tls handshake',
      t.handshake,
      new Promise<tls.TLSSocket>((resolve, reject) => {
        let s: tls.TLSSocket;
        try {
          s = tls.connect({ rejectUnauthorized: false, checkServerIdentity: () => undefined, ...tlsOptions, socket: opened.socket });
        } catch (e) {
          reject(new TransportError('ECLIENT_CAPABILITY', `node:tls cannot offer this: ${(e as Error).message}`, { stage: 'handshake' }));
          return;
        }
        sock = s;
        if (opts.onSession) s.on('session', opts.onSession);
        s.once('secureConnect', () => resolve(s));
        s.once('error', (e: Error) => reject(new TransportError('ETLS', `TLS handshake failed: ${e.message}`, { stage: 'handshake' })));
        s.once('close', () => reject(new TransportError('ETLS', 'the server closed the connection during the TLS handshake', { stage: 'handshake' })));
      }),
      { stage: 'handshake' },
    );
    sock.on('error', () => undefined);
    if (target.mode === 'plain' || !opts.ehloAfter) return { socket: sock, localPort: opened.localPort, dialogue: opened.dialogue, bannerInTls: null, capabilitiesAfter: null, link: null };
    const link = new SmtpLink(sock, 'banner');
    let bannerInTls: SmtpReply | null = null;
    if (target.mode === 'implicit') {
      bannerInTls = await link.reply('probe banner inside TLS', t.banner);
      expectReply(bannerInTls, 220, 'EBANNER', 'the greeting inside TLS was not 220', 'banner');
    }
    link.stage = 'ehlo';
    const ehlo = await link.command(`EHLO ${opts.ehloName}`, 'probe EHLO reply inside TLS', t.reply);
    expectReply(ehlo, 250, 'EEHLO', 'EHLO inside TLS was refused', 'ehlo');
    return { socket: sock, localPort: opened.localPort, dialogue: opened.dialogue, bannerInTls, capabilitiesAfter: capabilitiesOf(ehlo), link };
  } catch (err) {
    sock?.destroy();
    opened.socket.destroy();
    throw err;
  }
}
