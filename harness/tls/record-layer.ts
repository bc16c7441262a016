import { CONTENT_TYPE } from './codes.js';

/**
 * The TLS record layer as the lab's readers need it: bytes arrive in reads of any size; a
 * record may span reads and one read may hold several records; handshake messages may span
 * records. Everything is bounded (a record by MAX_RECORD_BYTES, a handshake message by the
 * caller's limit), and every read is bounds-checked: malformed input raises Malformed, which
 * the readers catch and turn into an answer (they never throw at their callers).
 * Used by the server-answer reader (enum/server-answer.ts) and the ClientHello reader.
 */

/** TLSPlaintext.length may not exceed 2^14 + 2048 (RFC 5246 6.2.3); more is not TLS. */
export const MAX_RECORD_BYTES = 18 * 1024;

export const RECORD_HEADER_BYTES = 5;

/** Malformed input, with the bytes where it was found; caught by the readers, never thrown past them. */
export class Malformed extends Error {
  constructor(
    message: string,
    readonly at: Buffer,
  ) {
    super(message);
    this.name = 'Malformed';
  }
}

/** Bounds-checked reads over one message; a read past the end raises Malformed naming `what`. */
export class Cursor {
  private off = 0;
  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
  ) {}
  get left(): number {
    return this.buf.length - this.off;
  }
  private need(n: number): void {
    if (this.left < n) throw new Malformed(`${this.what}: needs ${n} more bytes, has ${this.left}`, this.buf);
  }
  u8(): number {
    this.need(1);
    return this.buf[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.buf.readUIntBE(this.off, 3);
    this.off += 3;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }
  vec8(): Buffer {
    return this.bytes(this.u8());
  }
  vec16(): Buffer {
    return this.bytes(this.u16());
  }
  vec24(): Buffer {
    return this.bytes(this.u24());
  }
  /** The rest must be empty: trailing bytes inside a message are malformed too. */
  end(): void {
    if (this.left > 0) throw new Malformed(`${this.what}: ${this.left} bytes after its end`, this.buf);
  }
}

/** A list of 2-byte codes in a vector whose length is a multiple of 2 (cipher suites, groups, schemes). */
export function u16List(b: Buffer, what: string): number[] {
  if (b.length % 2 !== 0) throw new Malformed(`${what}: odd length ${b.length}`, b);
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
}

export interface TlsRecord {
  readonly type: number;
  /** The record's protocol version (0x0301 in most hellos, whatever is negotiated). */
  readonly version: number;
  readonly fragment: Buffer;
  /** Offset of the record's header in the stream. */
  readonly offset: number;
}

export type RecordStep =
  | { readonly kind: 'record'; readonly record: TlsRecord }
  /** Not enough bytes for the next record yet. */
  | { readonly kind: 'need-more' }
  /** The next 5 bytes are not a TLS record header (content type 20–23, version 3.x). */
  | { readonly kind: 'not-a-record'; readonly header: Buffer; readonly offset: number }
  | { readonly kind: 'too-long'; readonly header: Buffer; readonly length: number; readonly offset: number };

/** Whether 5 bytes can start a TLS record: a content type the lab knows and version 3.0–3.4. */
export function looksLikeRecordHeader(b: Buffer): boolean {
  const type = b[0]!;
  return type >= CONTENT_TYPE.changeCipherSpec && type <= CONTENT_TYPE.applicationData && b[1] === 3 && b[2]! <= 4;
}

/** Splits a byte stream into records. Holds at most one partial record (≤ MAX_RECORD_BYTES + 5). */
export class RecordReader {
  private buffer: Buffer = Buffer.alloc(0);
  private consumed = 0;
  private stopped: RecordStep | null = null;

  constructor(private readonly maxRecordBytes: number = MAX_RECORD_BYTES) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
  }

  /** Bytes buffered and not yet returned as a record (to look at the start of a stream, or what follows a message). */
  get pending(): Buffer {
    return this.buffer;
  }

  /** Take the pending bytes away (the stream is not TLS, or the caller reads the rest itself). */
  takePending(): Buffer {
    const b = this.buffer;
    this.consumed += b.length;
    this.buffer = Buffer.alloc(0);
    return b;
  }

  /** Stream offset of the next unread byte. */
  get offset(): number {
    return this.consumed;
  }

  /** The next record, or why there is none. A bad header stops the reader: it says the same from then on. */
  next(): RecordStep {
    if (this.stopped) return this.stopped;
    if (this.buffer.length < RECORD_HEADER_BYTES) return { kind: 'need-more' };
    const header = Buffer.from(this.buffer.subarray(0, RECORD_HEADER_BYTES));
    if (!looksLikeRecordHeader(header)) return (this.stopped = { kind: 'not-a-record', header, offset: this.consumed });
    const length = header.readUInt16BE(3);
    if (length > this.maxRecordBytes) return (this.stopped = { kind: 'too-long', header, length, offset: this.consumed });
    if (this.buffer.length < RECORD_HEADER_BYTES + length) return { kind: 'need-more' };
    const record: TlsRecord = { type: header[0]!, version: header.readUInt16BE(1), fragment: this.buffer.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + length), offset: this.consumed };
    this.buffer = this.buffer.subarray(RECORD_HEADER_BYTES + length);
    this.consumed += RECORD_HEADER_BYTES + length;
    return { kind: 'record', record };
  }
}

export interface HandshakeMessage {
  readonly type: number;
  readonly body: Buffer;
}

/** Handshake messages from handshake-record fragments: a message may span records, a record may hold several. */
export class HandshakeReassembler {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  push(fragment: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, fragment]) : fragment;
  }

  /** Bytes of a message begun and not complete yet. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** The next complete message, or null; a message announcing more than the limit is Malformed. */
  next(): HandshakeMessage | null {
    if (this.buffer.length < 4) return null;
    const type = this.buffer[0]!;
    const len = this.buffer.readUIntBE(1, 3);
    if (len > this.maxMessageBytes) throw new Malformed(`a handshake message of ${len} bytes`, this.buffer);
    if (this.buffer.length < 4 + len) return null;
    const body = this.buffer.subarray(4, 4 + len);
    this.buffer = this.buffer.subarray(4 + len);
    return { type, body };
  }

  clear(): void {
    this.buffer = Buffer.alloc(0);
  }
}
