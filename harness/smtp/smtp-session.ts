import type { Duplex } from 'node:stream';
import { LabError, type Stage } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import type { SmtpReply, TranscriptEntry } from '../tls/observation.js';
import { DEFAULT_REPLY_LIMITS, ReplyReader, type ReplyLimits } from './reply-reader.js';

/**
 * SMTP replies over a byte stream: the one reply waiter of the lab's clients (the raw client
 * and the probe's transport). Attach a stream (the TCP socket, later the TLS socket), send
 * commands, wait for each reply under a name and a bound, detach to hand the stream to TLS.
 * Detaching returns the bytes that arrived after the last complete reply, so the caller can
 * apply its rule to them (after STARTTLS there must be none: see starttls.ts).
 *
 * Replies are read by ReplyReader, so a hostile server cannot grow memory past its limits.
 * A failure of the stream (closed, errored, a reply that breaks the limits) sticks: every
 * later wait on the same stream rejects with it until another stream is attached.
 */

/** How a stream failed, for a caller that phrases its errors its own way (the probe marks some as transient). */
export type SessionFailure =
  | { readonly kind: 'closed'; readonly stage: Stage }
  | { readonly kind: 'socket-error'; readonly stage: Stage; readonly error: Error & { readonly code?: string } }
  | { readonly kind: 'bad-reply'; readonly error: LabError };

export interface SmtpSessionOptions {
  readonly limits?: ReplyLimits;
  /** The stage the first wait belongs to; the caller moves it on as the dialogue proceeds. */
  readonly stage?: Stage;
  /** Transcript sink: every line sent ('C'), every reply line received ('S'), every expired wait ('*'). */
  readonly note?: (dir: TranscriptEntry['dir'], text: string) => void;
  /** The error a waiting reply rejects with when the stream fails; default: plain LabErrors. */
  readonly errorFor?: (failure: SessionFailure) => LabError;
}

export function defaultSessionError(f: SessionFailure): LabError {
  switch (f.kind) {
    case 'closed':
      return new LabError('ECLOSED', 'the server closed the connection', { stage: f.stage });
    case 'socket-error':
      return new LabError('ECONNECTION', `connection error: ${f.error.message}`, { stage: f.stage });
    case 'bad-reply':
      return f.error;
  }
}

interface Waiter {
  readonly resolve: (r: SmtpReply) => void;
  readonly reject: (e: LabError) => void;
}

export class SmtpSession {
  stage: Stage;
  private readonly limits: ReplyLimits;
  private readonly noteSink: SmtpSessionOptions['note'];
  private readonly errorFor: (f: SessionFailure) => LabError;
  private reader: ReplyReader;
  private current: Duplex | null = null;
  private waiter: Waiter | null = null;
  private failure: LabError | null = null;

  private readonly onData = (d: Buffer) => {
    this.reader.push(d, this.stage);
    this.pump();
  };
  private readonly onClose = () => this.fail(this.errorFor({ kind: 'closed', stage: this.stage }));
  private readonly onError = (e: Error) => this.fail(this.errorFor({ kind: 'socket-error', stage: this.stage, error: e }));

  constructor(opts: SmtpSessionOptions = {}) {
    this.limits = opts.limits ?? DEFAULT_REPLY_LIMITS;
    this.stage = opts.stage ?? 'banner';
    this.noteSink = opts.note;
    this.errorFor = opts.errorFor ?? defaultSessionError;
    this.reader = new ReplyReader(this.limits);
  }

  /** The attached stream, or null between detach and the next attach. */
  get stream(): Duplex | null {
    return this.current;
  }

  note(dir: TranscriptEntry['dir'], text: string): void {
    this.noteSink?.(dir, text);
  }

  /** Read replies from this stream (a fresh reader: nothing of an earlier stream carries over). */
  attach(stream: Duplex): void {
    if (this.current) throw new LabError('EINTERNAL', 'SmtpSession.attach: a stream is already attached; detach it first');
    this.current = stream;
    this.failure = null;
    this.reader = new ReplyReader(this.limits);
    stream.on('data', this.onData);
    stream.on('close', this.onClose);
    stream.on('error', this.onError);
  }

  /**
   * Stop reading the stream and return it with the bytes received after the last complete
   * reply (a partial line, or whole replies nobody waited for). Safe to call when detached.
   */
  detach(): { readonly stream: Duplex | null; readonly leftover: Buffer } {
    const stream = this.current;
    if (stream) {
      stream.off('data', this.onData);
      stream.off('close', this.onClose);
      stream.off('error', this.onError);
    }
    this.current = null;
    return { stream, leftover: this.reader.takeLeftover() };
  }

  /** The next reply, within `ms` (the wait's `name` is in the timeout error and the transcript). */
  reply(name: string, ms: number): Promise<SmtpReply> {
    if (this.waiter) return Promise.reject(new LabError('EINTERNAL', `SmtpSession: '${name}' waits while another reply is awaited`, { stage: this.stage }));
    const next = new Promise<SmtpReply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.pump();
      if (this.waiter && this.failure) this.fail(this.failure);
      else if (this.waiter && !this.current) this.fail(new LabError('EINTERNAL', `SmtpSession: '${name}' waits with no stream attached`, { stage: this.stage }));
    });
    return withTimeout(name, ms, next, {
      stage: this.stage,
      onTimeout: () => {
        this.waiter = null;
        this.note('*', `timeout '${name}' after ${ms} ms`);
      },
    });
  }

  /** Write one command line (CRLF added); `shown` replaces it in the transcript (a secret). */
  send(line: string, shown: string = line): void {
    this.write(`${line}\r\n`, [shown]);
  }

  /** Write bytes as they are, in one write; `shown` is what the transcript records for them. */
  write(bytes: string, shown: readonly string[]): void {
    if (!this.current) throw new LabError('EINTERNAL', 'SmtpSession: write with no stream attached', { stage: this.stage });
    for (const s of shown) this.note('C', s);
    this.current.write(bytes);
  }

  async command(line: string, name: string, ms: number, shown?: string): Promise<SmtpReply> {
    this.send(line, shown);
    return this.reply(name, ms);
  }

  private pump(): void {
    if (this.reader.error) return this.fail(this.errorFor({ kind: 'bad-reply', error: this.reader.error }));
    if (!this.waiter) return;
    const r = this.reader.shift();
    if (!r) return;
    const w = this.waiter;
    this.waiter = null;
    r.lines.forEach((l, i) => this.note('S', `${r.code}${i === r.lines.length - 1 ? ' ' : '-'}${l}`));
    w.resolve(r);
  }

  private fail(err: LabError): void {
    this.failure ??= err;
    if (!this.waiter) return;
    const w = this.waiter;
    this.waiter = null;
    w.reject(this.failure);
  }
}

/** The capability keywords of an EHLO reply (its lines after the server's name). */
export function capabilitiesOf(ehlo: SmtpReply): string[] {
  return ehlo.lines.slice(1).map((l) => l.trim());
}
