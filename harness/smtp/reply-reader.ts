import { LabError, type Stage } from '../core/errors.js';
import type { SmtpReply } from '../tls/observation.js';

export interface ReplyLimits {
  /** Longest reply line accepted, in bytes (RFC 5321 says 512; real servers stay far below this). */
  readonly maxLineBytes: number;
  /** Most lines in one multiline reply. */
  readonly maxLines: number;
}

export const DEFAULT_REPLY_LIMITS: ReplyLimits = { maxLineBytes: 4096, maxLines: 200 };

const REPLY_LINE = /^(\d{3})([ -])(.*)$/s;

/**
 * Turns a byte stream into SMTP replies. It holds at most one partial line, bounded by
 * maxLineBytes, and one partial reply, bounded by maxLines, so a hostile server cannot grow
 * the client's memory. Bytes are decoded as latin1 so invalid UTF-8 survives as-is.
 */
export class ReplyReader {
  private buffer: Buffer = Buffer.alloc(0);
  private lines: string[] = [];
  private code: number | null = null;
  private readonly ready: SmtpReply[] = [];
  private failure: LabError | null = null;

  constructor(private readonly limits: ReplyLimits = DEFAULT_REPLY_LIMITS) {}

  /** Feed bytes; returns replies completed by them. Throws (and stays failed) on a protocol violation. */
  push(chunk: Buffer, stage: Stage): void {
    if (this.failure) return;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf(0x0a)) >= 0) {
      const lineBuf = this.buffer.subarray(0, nl);
      this.buffer = this.buffer.subarray(nl + 1);
      if (lineBuf.length > this.limits.maxLineBytes) return this.fail('EREPLY_TOO_LONG', `reply line of ${lineBuf.length} bytes exceeds ${this.limits.maxLineBytes}`, stage);
      this.line(lineBuf.toString('latin1').replace(/\r$/, ''), stage);
      if (this.failure) return;
    }
    if (this.buffer.length > this.limits.maxLineBytes) {
      this.fail('EREPLY_TOO_LONG', `more than ${this.limits.maxLineBytes} bytes without a line end`, stage);
    }
  }

  private line(text: string, stage: Stage): void {
    const m = REPLY_LINE.exec(text) ?? (/^\d{3}$/.test(text) ? [text, text, ' ', ''] : null);
    if (!m) return this.fail('EPROTOCOL', `not an SMTP reply line: ${JSON.stringify(text.slice(0, 200))}`, stage);
    const code = Number(m[1]);
    if (this.code !== null && code !== this.code) return this.fail('EPROTOCOL', `multiline reply changed code from ${this.code} to ${code}`, stage);
    this.code = code;
    this.lines.push(m[3] ?? '');
    if (this.lines.length > this.limits.maxLines) return this.fail('EREPLY_TOO_LONG', `multiline reply exceeds ${this.limits.maxLines} lines`, stage);
    if (m[2] === ' ') {
      this.ready.push({ code, lines: this.lines });
      this.lines = [];
      this.code = null;
    }
  }

  private fail(code: 'EPROTOCOL' | 'EREPLY_TOO_LONG', message: string, stage: Stage): void {
    this.failure = new LabError(code, message, { stage });
    this.buffer = Buffer.alloc(0);
    this.lines = [];
  }

  get error(): LabError | null {
    return this.failure;
  }

  shift(): SmtpReply | undefined {
    return this.ready.shift();
  }

  /** Bytes received after the last complete reply (e.g. plaintext injected after "220 Ready to start TLS"). */
  takeLeftover(): Buffer {
    const pending = this.lines.length ? Buffer.from(this.lines.join('\n')) : Buffer.alloc(0);
    const rest = Buffer.concat([pending, this.buffer, ...this.ready.map((r) => Buffer.from(r.lines.join('\n')))]);
    this.buffer = Buffer.alloc(0);
    this.lines = [];
    this.ready.length = 0;
    return rest;
  }
}
