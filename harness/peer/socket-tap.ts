import type net from 'node:net';
import { Duplex } from 'node:stream';

/** Bytes kept per direction: a ClientHello and the server's first flight fit many times over. */
const KEEP_BYTES = 256 * 1024;

/**
 * A Duplex in front of an accepted socket that records the bytes in both directions, so the
 * peer sees what smtp-server cannot show it: the ClientHello Postfix sent after STARTTLS and
 * the server's answer. smtp-server has no hook between its "220 Ready to start TLS" and
 * `new tls.TLSSocket(...)`, and a TLSSocket over a real net.Socket reads the handle directly
 * (a 'data' listener sees nothing of the handshake). Handed to smtp-server through its public
 * `server.connect(tap)`, the tap is what the TLSSocket wraps, so every byte passes here.
 *
 * smtp-server also calls setTimeout, setNoDelay and reads readyState and the address getters
 * on its socket: they are forwarded. At most KEEP_BYTES are kept per direction.
 */
export class SocketTap extends Duplex {
  private readonly inboundChunks: Buffer[] = [];
  private readonly outboundChunks: Buffer[] = [];
  private inboundKept = 0;
  private outboundKept = 0;

  constructor(private readonly socket: net.Socket) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      this.inboundKept = keep(this.inboundChunks, this.inboundKept, chunk);
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (err) => this.destroy(err));
    socket.on('timeout', () => this.emit('timeout'));
  }

  /** Everything the client sent (up to KEEP_BYTES). */
  get inbound(): Buffer {
    return Buffer.concat(this.inboundChunks);
  }

  /** Everything the peer sent (up to KEEP_BYTES). */
  get outbound(): Buffer {
    return Buffer.concat(this.outboundChunks);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.outboundKept = keep(this.outboundChunks, this.outboundKept, chunk);
    this.socket.write(chunk, done);
  }

  override _final(done: () => void): void {
    // The TLS layer above may end the tap after the client already closed the socket.
    if (this.socket.writableEnded || this.socket.destroyed) done();
    else this.socket.end(done);
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    this.socket.destroy();
    done(err);
  }

  setTimeout(ms: number, onTimeout?: () => void): this {
    this.socket.setTimeout(ms);
    if (onTimeout) this.once('timeout', onTimeout);
    return this;
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, delay?: number): this {
    this.socket.setKeepAlive(enable, delay);
    return this;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  get readyState(): string {
    return this.socket.readyState;
  }
}

function keep(chunks: Buffer[], kept: number, chunk: Buffer): number {
  if (kept >= KEEP_BYTES) return kept;
  const part = chunk.subarray(0, KEEP_BYTES - kept);
  chunks.push(Buffer.from(part));
  return kept + part.length;
}
