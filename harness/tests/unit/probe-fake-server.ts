import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

/**
 * A scriptable SMTP (+ TLS) server on 127.0.0.1 for the probe's engine and bad-input tests:
 * no Docker, loopback only. TLS is node:tls as the server (the host's OpenSSL), so hand-built
 * ClientHellos get real ServerHellos and alerts. Not a test file itself (no .test.ts suffix).
 */

export interface FakeServerOptions {
  readonly mode: 'starttls' | 'implicit' | 'plain';
  /** The greeting; null: never greet. */
  readonly banner?: string | null;
  /** Send these raw bytes on connect instead of an SMTP greeting (a non-SMTP service). */
  readonly rawGreeting?: string;
  readonly ehloReply?: (name: string) => string;
  readonly starttlsReply?: string;
  /** After a 220 to STARTTLS: real TLS, garbage bytes, nothing at all, or plaintext bytes before TLS. */
  readonly afterStarttls?: 'tls' | 'garbage' | 'silent' | 'plaintext-then-tls';
  readonly tls?: tls.SecureContextOptions;
  /** Per connection (1-based): answer 421 instead of the greeting, reset the connection, or serve normally. */
  readonly pushback?: (n: number) => '421' | 'reset' | null;
  /** Go silent (keep the connection, answer nothing) when the client's first TLS record is a ClientHello this picks. */
  readonly stallOnHello?: (hello: ClientHelloSeen) => boolean;
}

/** The parts of a ClientHello the fake server can pick on: the legacy version field and the suite codes. */
export interface ClientHelloSeen {
  /** client_version: 0x0300 SSLv3 … 0x0303 (TLS 1.2, and TLS 1.3 hellos too). */
  readonly legacyVersion: number;
  readonly ciphers: readonly number[];
}

/** Reads the first ClientHello in one TLS record (hand-built hellos and node:tls's fit one record); null if it is not one. */
export function readClientHello(b: Buffer): ClientHelloSeen | null {
  if (b.length < 44 || b[0] !== 0x16 || b[5] !== 0x01) return null;
  const legacyVersion = b.readUInt16BE(9);
  const sidLen = b[43]!;
  const at = 44 + sidLen;
  if (b.length < at + 2) return null;
  const len = b.readUInt16BE(at);
  const ciphers: number[] = [];
  for (let i = at + 2; i + 1 < at + 2 + len && i + 1 < b.length; i += 2) ciphers.push(b.readUInt16BE(i));
  return { legacyVersion, ciphers };
}

export class FakeSmtpServer {
  connections = 0;
  open = 0;
  maxOpen = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly context: tls.SecureContext | null;

  private constructor(
    private readonly o: FakeServerOptions,
    readonly port: number,
    server: net.Server,
  ) {
    this.server = server;
    this.context = o.tls ? tls.createSecureContext(o.tls) : null;
  }

  static async start(o: FakeServerOptions): Promise<FakeSmtpServer> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const fake = new FakeSmtpServer(o, port, server);
    server.on('connection', (s) => fake.accept(s));
    return fake;
  }

  private accept(sock: net.Socket): void {
    const n = ++this.connections;
    this.sockets.add(sock);
    this.open++;
    this.maxOpen = Math.max(this.maxOpen, this.open);
    sock.on('error', () => undefined);
    sock.once('close', () => {
      this.open--;
      this.sockets.delete(sock);
    });
    const push = this.o.pushback?.(n) ?? null;
    if (push === 'reset') return void sock.resetAndDestroy();
    if (push === '421') return void sock.end('421 4.7.0 fake.test too many connections, try later\r\n');
    if (this.o.rawGreeting !== undefined) return void sock.write(this.o.rawGreeting);
    if (this.o.mode === 'implicit' || this.o.mode === 'plain') return this.startTls(sock, this.o.mode === 'implicit');
    this.smtp(sock, sock, true);
  }

  private smtp(stream: net.Socket | tls.TLSSocket, raw: net.Socket, plaintext: boolean, greet = true): void {
    const banner = this.o.banner === undefined ? '220 fake.test ESMTP' : this.o.banner;
    if (banner !== null && greet) stream.write(`${banner}\r\n`);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') {
          const name = line.slice(5);
          const caps = plaintext ? ['PIPELINING', 'STARTTLS'] : ['PIPELINING', 'SIZE 1000'];
          stream.write(this.o.ehloReply && plaintext ? this.o.ehloReply(name) : `250-fake.test\r\n${caps.map((c, i) => `250${i === caps.length - 1 ? ' ' : '-'}${c}`).join('\r\n')}\r\n`);
        } else if (verb === 'STARTTLS' && plaintext) {
          const reply = this.o.starttlsReply ?? '220 2.0.0 Ready to start TLS';
          // The injected line goes in the same write as the reply, so the client sees both at once.
          stream.write(`${reply}\r\n${this.o.afterStarttls === 'plaintext-then-tls' ? '250 injected\r\n' : ''}`);
          if (!reply.startsWith('220')) continue;
          stream.off('data', onData);
          const after = this.o.afterStarttls ?? 'tls';
          if (after === 'garbage') return void raw.write(Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
          if (after === 'silent') return;
          return this.startTls(raw, true, false);
        } else if (verb === 'QUIT') {
          stream.end('221 2.0.0 Bye\r\n');
        } else {
          stream.write('502 5.5.2 Error: command not recognized\r\n');
        }
      }
    };
    stream.on('data', onData);
  }

  /** TLS on the raw socket; then SMTP inside it (greeting first only for implicit TLS). */
  private startTls(raw: net.Socket, smtpInside: boolean, greet = true): void {
    if (!this.context) return void raw.destroy();
    const pick = this.o.stallOnHello;
    if (pick) {
      // Look at the first record before TLS sees it: stall, or hand it on through a relay stream.
      return void raw.once('data', (first: Buffer) => {
        const hello = readClientHello(first);
        if (hello && pick(hello)) return; // silent: the connection stays open, nothing is answered
        const relay = new Duplex({
          read() {},
          write(chunk: Buffer, _enc, done) {
            raw.write(chunk, done);
          },
          final(done) {
            raw.end();
            done();
          },
        });
        relay.push(first);
        raw.on('data', (d: Buffer) => relay.push(d));
        raw.once('close', () => relay.destroy());
        this.serveTls(relay, raw, smtpInside, greet);
      });
    }
    this.serveTls(raw, raw, smtpInside, greet);
  }

  private serveTls(stream: Duplex, raw: net.Socket, smtpInside: boolean, greet: boolean): void {
    const t = new tls.TLSSocket(stream as net.Socket, { isServer: true, secureContext: this.context! });
    t.on('error', () => raw.destroy());
    t.once('secure', () => {
      if (smtpInside) this.smtp(t, raw, false, greet);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
export async function unusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
