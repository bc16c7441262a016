import net from 'node:net';
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
    const t = new tls.TLSSocket(raw, { isServer: true, secureContext: this.context });
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
