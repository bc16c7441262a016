/**
 * The capturing peer (smtp-server on loopback here; on the scenario network's gateway in the
 * lab) against real clients: node:tls through STARTTLS, and a raw peer that sends exact bytes
 * (a ClientHello split across writes, bytes that are no TLS at all). What it records must be
 * what was sent; a bad client must not stop it serving the next one.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabPki, type CertPair } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { buildClientHello } from '../../enum/client-hello.js';
import { DEFAULT_PEER_SPEC, type SmtpPeerSpec } from '../../peer/peer-spec.js';
import { SmtpPeer, type StartedSmtpPeer } from '../../peer/smtp-peer.js';

const NODE = { name: 'peer', hostnames: ['peer.lab.test'], hostNumber: 10 };

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A line-reading SMTP client over a plain socket: sends exact bytes, waits for a reply code. */
class RawPeer {
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async connect(port: number): Promise<RawPeer> {
    const s = net.connect(port, '127.0.0.1');
    await new Promise<void>((r, j) => s.once('connect', r).once('error', j));
    return new RawPeer(s);
  }
  /** Resolves with the text up to and including the final line of a reply starting `code`. */
  async reply(code: string): Promise<string> {
    for (;;) {
      const m = new RegExp(`(^|\\r\\n)${code} [^\\r\\n]*\\r\\n`).exec(this.buf);
      if (m) {
        const text = this.buf.slice(0, m.index + m[0].length);
        this.buf = this.buf.slice(m.index + m[0].length);
        return text;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  write(text: string | Buffer): void {
    this.socket.write(text);
  }
  async toStarttls(greeting = 'EHLO'): Promise<void> {
    await this.reply('220');
    this.write(`${greeting} raw.lab.test\r\n`);
    await this.reply('250');
    this.write('STARTTLS\r\n');
    await this.reply('220');
  }
}

describe('capturing peer', () => {
  let pair: CertPair;
  let pki: LabPki;
  const started: StartedSmtpPeer[] = [];

  async function peer(spec: Partial<SmtpPeerSpec> = {}): Promise<StartedSmtpPeer> {
    const full: SmtpPeerSpec = { ...DEFAULT_PEER_SPEC, certificate: 'peer', ...spec, port: spec.port ?? (await freePort()) };
    const p = await new SmtpPeer(full, NODE, 'unit').withBindAddress('127.0.0.1').withKeyPair(pair).start();
    started.push(p);
    return p;
  }

  beforeAll(async () => {
    pki = await LabPki.create();
    pair = await pki.issue({ commonName: 'peer.lab.test', key: 'ec-p256' });
  });
  afterAll(async () => {
    for (const p of started) await p.stop();
  });

  it('records a real TLS client: EHLO, STARTTLS, the negotiated TLS, the SNI it sent, the ClientHello it offered, and the message', async () => {
    const p = await peer();
    const raw = await RawPeer.connect(p.port);
    await raw.toStarttls();
    const t = tls.connect({ socket: raw.socket, servername: 'sni.lab.test', ca: pki.trustBundle, checkServerIdentity: () => undefined, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ecdhCurve: 'X25519:P-256' });
    await new Promise<void>((r, j) => t.once('secureConnect', r).once('error', j));
    const secure = new RawPeer(t as unknown as net.Socket);
    t.write('EHLO client.lab.test\r\n');
    await secure.reply('250');
    t.write('MAIL FROM:<a@lab.test>\r\n');
    await secure.reply('250');
    t.write('RCPT TO:<b@peer.test>\r\n');
    await secure.reply('250');
    t.write('DATA\r\n');
    await secure.reply('354');
    t.write('Received: by client.lab.test (test)\r\n\tid 1\r\nSubject: hello\r\nMessage-ID: <m1@lab.test>\r\n\r\nbody\r\n.\r\n');
    await secure.reply('250');
    t.end('QUIT\r\n');
    const r = await p.waitFor('message recorded', (x) => x.messages.length === 1, 5000);
    const c = r.connections[0]!;
    expect(c.greeting).toBe('EHLO');
    expect(c.ehlo).toBe('client.lab.test');
    expect(c.starttls).toBe(true);
    expect(c.tls).toMatchObject({ protocol: 'TLSv1.3', cipher: t.getCipher().name, sni: 'sni.lab.test', resumed: false, clientCertificate: null, group: 'X25519' });
    expect(c.clientHello?.sni).toBe('sni.lab.test');
    expect(c.clientHello?.versions).toEqual(['TLSv1.3', 'TLSv1.2']);
    expect(c.clientHello?.groups.slice(0, 2)).toEqual(['X25519', 'prime256v1']);
    expect(r.messages[0]).toMatchObject({ mailFrom: 'a@lab.test', rcptTo: ['b@peer.test'], subject: 'hello', messageId: 'm1@lab.test', receivedHeader: 'by client.lab.test (test) id 1', overTls: true });
  });

  it('reads a ClientHello that arrives in several writes, as Postfix may send a large one', async () => {
    const p = await peer();
    const raw = await RawPeer.connect(p.port);
    await raw.toStarttls();
    const hello = buildClientHello({ maxVersion: 'TLSv1.3', minVersion: 'TLSv1.2', sni: 'split.lab.test', ciphers: [0x1301, 0x1302, 0xc02b, 0xc02f], groups: [0x001d, 0x0017] });
    for (const [from, to] of [
      [0, 3],
      [3, 40],
      [40, hello.length],
    ] as const) {
      raw.write(hello.subarray(from, to));
      await new Promise((r) => setTimeout(r, 30));
    }
    await new Promise((r) => setTimeout(r, 200));
    raw.socket.destroy();
    const r = await p.waitFor('connection closed', (x) => x.connections[0]?.closed === true, 5000);
    expect(r.connections[0]!.clientHello?.sni).toBe('split.lab.test');
    expect(r.connections[0]!.clientHello?.bytes).toBe(hello.length);
    expect(r.connections[0]!.helloProblem).toBeNull();
  });

  it('records bytes that are not TLS after STARTTLS as a problem with a hex excerpt, and keeps serving', async () => {
    const p = await peer();
    const raw = await RawPeer.connect(p.port);
    await raw.toStarttls();
    raw.write('GET / HTTP/1.0\r\n\r\n');
    await new Promise<void>((r) => raw.socket.once('close', () => r()));
    const r = await p.waitFor('bad connection closed', (x) => x.connections[0]?.closed === true, 5000);
    const bad = r.connections[0]!;
    expect(bad.clientHello).toBeNull();
    expect(bad.tls).toBeNull();
    expect(bad.helloProblem?.firstBytes).toMatch(/^474554/); // "GET"
    expect(bad.handshakeError).not.toBeNull();
    // The next client is served as if nothing had happened.
    const next = await RawPeer.connect(p.port);
    await next.toStarttls();
    next.socket.destroy();
  });

  it('speaks LMTP when asked (LHLO), and hides STARTTLS when told to', async () => {
    const lmtp = await peer({ protocol: 'lmtp' });
    const a = await RawPeer.connect(lmtp.port);
    await a.reply('220');
    a.write('LHLO raw.lab.test\r\n');
    expect(await a.reply('250')).toContain('STARTTLS');
    a.socket.destroy();
    const hidden = await peer({ starttls: false, certificate: null });
    const b = await RawPeer.connect(hidden.port);
    await b.reply('220');
    b.write('EHLO raw.lab.test\r\n');
    expect(await b.reply('250')).not.toContain('STARTTLS');
    b.socket.destroy();
  });

  it('a port it cannot bind is EPEER (a lab error naming the cause), never a verdict', async () => {
    const taken = net.createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as net.AddressInfo).port;
    try {
      const err = await new SmtpPeer({ ...DEFAULT_PEER_SPEC, certificate: 'peer', port }, NODE, 'unit').withBindAddress('127.0.0.1').withKeyPair(pair).start().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LabError);
      expect((err as LabError).code).toBe('EPEER');
      expect((err as LabError).infrastructure).toBe(true);
      expect((err as LabError).message).toContain('EADDRINUSE');
    } finally {
      taken.close();
    }
  });
});
