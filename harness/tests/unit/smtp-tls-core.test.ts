import net from 'node:net';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { authFromTranscript, runNodemailer } from '../../clients/nodemailer.js';
import { completeHandshake, DEFAULT_PROBE_TIMEOUTS } from '../../enum/starttls-transport.js';
import { runRawClient } from '../../smtp/raw-client.js';
import { tlsHandshake } from '../../tls/handshake.js';
import { amendObservation, ObservationBuilder } from '../../tls/observation-builder.js';
import { OBSERVATION_SHAPE, type TranscriptEntry } from '../../tls/observation.js';
import { renegotiate } from '../../tls/renegotiate.js';

/**
 * The SMTP/TLS core the lab's clients share: the handshake wrapper's sorting of client-side
 * from server-side failures, the renegotiation helper, the observation builder, nodemailer's
 * AUTH from its transcript and the client's own address in every mode. Loopback only.
 */

let pair: { cert: string; key: string };
beforeAll(async () => {
  const pki = await LabPki.create();
  const leaf = await pki.issue({ commonName: 'fake.lab.test', key: 'ec-p256' });
  pair = { cert: leaf.cert, key: leaf.key };
});

const closers: (() => void)[] = [];
afterEach(() => {
  for (const c of closers.splice(0)) c();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => server.close());
  return (server.address() as net.AddressInfo).port;
}

/** A TCP server that runs `script` on each connection. */
function rawServer(script: (s: net.Socket) => void): Promise<number> {
  return listen(
    net.createServer((s) => {
      s.on('error', () => undefined);
      closers.push(() => s.destroy());
      script(s);
    }),
  );
}

/** A node:tls server; with `smtp`, it greets and answers EHLO/QUIT inside TLS (implicit TLS). */
function tlsServer(opts: tls.TlsOptions, smtp = false): Promise<number> {
  const server = tls.createServer({ ...pair, ...opts }, (s) => {
    s.on('error', () => undefined);
    closers.push(() => s.destroy());
    if (!smtp) return;
    s.write('220 fake.lab.test ESMTP\r\n');
    s.on('data', (d: Buffer) => {
      const line = d.toString('latin1');
      if (/^EHLO/i.test(line)) s.write('250-fake.lab.test\r\n250 PIPELINING\r\n');
      else if (/^QUIT/i.test(line)) s.end('221 bye\r\n');
      else s.write('250 ok\r\n');
    });
  });
  server.on('tlsClientError', () => undefined);
  return listen(server);
}

/** A plaintext SMTP server: banner, EHLO (with the given capabilities), STARTTLS to a TLS server when offered. */
function smtpServer(caps: readonly string[], onAuth?: (line: string, s: net.Socket) => void, onConnection?: (s: net.Socket) => void): Promise<number> {
  return rawServer((s) => {
    onConnection?.(s);
    s.write('220 fake.lab.test ESMTP\r\n');
    let buf = '';
    s.on('data', function onData(d: Buffer) {
      buf += d.toString('latin1');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (verb === 'EHLO') s.write(['fake.lab.test', ...caps].map((c, i, a) => `250${i === a.length - 1 ? ' ' : '-'}${c}`).join('\r\n') + '\r\n');
        else if (verb === 'QUIT') s.end('221 2.0.0 Bye\r\n');
        else if (onAuth && (verb === 'AUTH' || /^[A-Za-z0-9+/=]+$/.test(line))) onAuth(line, s);
        else if (verb === 'STARTTLS') {
          s.off('data', onData);
          s.write('220 2.0.0 Ready to start TLS\r\n');
          const t = new tls.TLSSocket(s, { isServer: true, secureContext: tls.createSecureContext(pair) });
          t.on('error', () => undefined);
          t.on('data', (x: Buffer) => {
            if (/^EHLO/i.test(x.toString())) t.write('250-fake.lab.test\r\n250 PIPELINING\r\n');
            else if (/^QUIT/i.test(x.toString())) t.end('221 bye\r\n');
          });
        } else s.write('502 5.5.2 Error: command not recognized\r\n');
      }
    });
  });
}

/** Answer the ClientHello with a fatal handshake_failure alert. */
const alertOnHello = (s: net.Socket) => s.once('data', () => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])));

async function handshakeError(opts: tls.ConnectionOptions, timeoutMs = 2_000): Promise<LabError> {
  try {
    const s = await tlsHandshake({ rejectUnauthorized: false, ...opts }, { timeoutMs, name: 'test-handshake' });
    s.destroy();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    return e as LabError;
  }
  throw new Error('the handshake should have failed');
}

describe('the one TLS handshake wrapper sorts client-side from server-side failures', () => {
  it('a cipher string our OpenSSL cannot match, thrown before a byte is sent: ECLIENT_CAPABILITY', async () => {
    const port = await rawServer(() => undefined);
    const e = await handshakeError({ host: '127.0.0.1', port, ciphers: 'NO-SUCH-CIPHER' });
    expect(e).toMatchObject({ code: 'ECLIENT_CAPABILITY', stage: 'handshake' });
    expect(e.message).toMatch(/the client cannot offer this/);
  });

  it('TLS 1.2 at most with only TLS 1.3 suites (OpenSSL fails while building the hello): ECLIENT_CAPABILITY, not a server verdict', async () => {
    const port = await rawServer(() => undefined);
    const e = await handshakeError({ host: '127.0.0.1', port, maxVersion: 'TLSv1.2', ciphers: 'TLS_AES_128_GCM_SHA256' });
    expect(e).toMatchObject({ code: 'ECLIENT_CAPABILITY', stage: 'handshake' });
    expect(e.message).toMatch(/ERR_SSL_NO_CIPHERS_AVAILABLE/);
  });

  it("the server's alert: ETLS with OpenSSL's reason and the alert number", async () => {
    const e = await handshakeError({ host: '127.0.0.1', port: await rawServer(alertOnHello) });
    expect(e).toMatchObject({ code: 'ETLS', stage: 'handshake' });
    expect(e.message).toMatch(/handshake failure, alert 40/);
  });

  it('the server hangs up on the hello: ETLS', async () => {
    const e = await handshakeError({ host: '127.0.0.1', port: await rawServer((s) => s.once('data', () => s.destroy())) });
    expect(e).toMatchObject({ code: 'ETLS', stage: 'handshake' });
  });

  it('the server says nothing: ETIMEOUT under the name given, within the bound', async () => {
    const started = Date.now();
    const e = await handshakeError({ host: '127.0.0.1', port: await rawServer(() => undefined) }, 500);
    expect(e).toMatchObject({ code: 'ETIMEOUT', stage: 'handshake' });
    expect(e.message).toMatch(/timeout 'test-handshake' expired after 500 ms/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('the raw client and the probe transport, asked for that, both say ECLIENT_CAPABILITY at handshake (the probe said ETLS before)', async () => {
    const port = await smtpServer(['STARTTLS']);
    const raw = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', tls: { maxVersion: 'TLSv1.2', ciphersuites: 'TLS_AES_128_GCM_SHA256' }, timeouts: { handshake: 2_000 } });
    expect(raw.observation.error).toMatchObject({ code: 'ECLIENT_CAPABILITY', stage: 'handshake' });
    const probeErr = await completeHandshake({ host: '127.0.0.1', port, mode: 'starttls' }, { maxVersion: 'TLSv1.2', ciphers: 'TLS_AES_128_GCM_SHA256' }, { ehloName: 'probe.lab.test', timeouts: DEFAULT_PROBE_TIMEOUTS, ehloAfter: true }).then(
      (hs) => {
        hs.socket.destroy();
        return null;
      },
      (e: LabError) => e,
    );
    expect(probeErr).toMatchObject({ code: 'ECLIENT_CAPABILITY', stage: 'handshake' });
  });
});

describe('renegotiate(socket, timeoutMs): every outcome is a value, never a throw', () => {
  async function connected(opts: tls.TlsOptions): Promise<tls.TLSSocket> {
    const port = await tlsServer(opts);
    const s = await tlsHandshake({ host: '127.0.0.1', port, rejectUnauthorized: false }, { timeoutMs: 2_000 });
    s.on('data', () => undefined);
    closers.push(() => s.destroy());
    return s;
  }

  it('TLS 1.2, a server that allows it: accepted, connection open', async () => {
    const s = await connected({ maxVersion: 'TLSv1.2' });
    expect(await renegotiate(s, 2_000)).toEqual({ accepted: true, error: null, connectionClosed: false });
  });

  it('TLS 1.3 has no renegotiation: not accepted, with the reason, connection open', async () => {
    const s = await connected({ minVersion: 'TLSv1.3' });
    const r = await renegotiate(s, 2_000);
    expect(r.accepted).toBe(false);
    expect(r.error).toBeTruthy();
    expect(r.connectionClosed).toBe(false);
  });

  it('a socket already gone: not accepted, connection closed', async () => {
    const s = await connected({ maxVersion: 'TLSv1.2' });
    s.destroy();
    const r = await renegotiate(s, 500);
    expect(r.accepted).toBe(false);
    expect(r.connectionClosed).toBe(true);
  });
});

describe('ObservationBuilder', () => {
  it('finish fills every field nobody set with null, keeps what was set, and freezes the record', () => {
    const b = new ObservationBuilder('raw', { host: '192.0.2.1', port: 25, mode: 'starttls' });
    b.set('localAddress', '192.0.2.9');
    b.set('banner', { code: 220, lines: ['mx'] });
    b.note('C', 'EHLO x');
    const o = b.finish();
    expect(Object.keys(o).sort()).toEqual(Object.keys(OBSERVATION_SHAPE).sort());
    expect(o).toMatchObject({ schema: 'smtp-tls-lab/observation@1', client: 'raw', localAddress: '192.0.2.9', localPort: null, banner: { code: 220 }, tls: null, auth: null, error: null });
    expect(o.capabilities).toEqual({ beforeTls: null, afterTls: null });
    expect(o.transcript).toHaveLength(1);
    expect(Object.isFrozen(o) && Object.isFrozen(o.banner) && Object.isFrozen(o.transcript)).toBe(true);
    expect(b.finish()).toBe(o);
  });

  it('the first failure wins, gets the stage it happened at, and is noted in the transcript', () => {
    const b = new ObservationBuilder('nodemailer', { host: 'h', port: 587, mode: 'starttls' });
    const first = b.fail(new LabError('ETLS', 'handshake failed'), 'handshake');
    b.fail(new LabError('ECLOSED', 'closed afterwards', { stage: 'quit' }));
    b.fail(new Error('a bug'));
    const o = b.finish();
    expect(first.stage).toBe('handshake');
    expect(o.error).toEqual({ code: 'ETLS', stage: 'handshake', message: 'handshake failed' });
    expect(o.transcript.map((t) => t.text)).toEqual(['error at handshake: ETLS handshake failed']);
  });

  it('a thrown non-LabError is EINTERNAL, never a verdict on the server', () => {
    const b = new ObservationBuilder('openssl', { host: 'h', port: 25, mode: 'starttls' });
    b.fail(new TypeError('x is undefined'), 'ehlo');
    expect(b.finish().error).toMatchObject({ code: 'EINTERNAL', stage: 'ehlo' });
  });

  it('amendObservation replaces fields on a finished record and freezes the copy', () => {
    const o = new ObservationBuilder('raw', { host: 'h', port: 25, mode: 'starttls' }).finish();
    const a = amendObservation(o, { resumption: { firstConnectionGotSession: true, offered: true } });
    expect(a.resumption).toEqual({ firstConnectionGotSession: true, offered: true });
    expect(o.resumption).toBeNull();
    expect(Object.isFrozen(a.resumption)).toBe(true);
  });
});

describe("nodemailer's auth is what its transcript shows", () => {
  const t = (...lines: [TranscriptEntry['dir'], string][]): TranscriptEntry[] => lines.map(([dir, text], i) => ({ t: i, dir, text }));

  it('no AUTH command sent: null (nodemailer skips AUTH when the server offers none)', () => {
    expect(authFromTranscript(t(['S', '220 mx'], ['C', 'EHLO c'], ['S', '250-mx'], ['S', '250 PIPELINING'], ['C', 'QUIT'], ['S', '221 bye']))).toBeNull();
  });

  it('AUTH PLAIN: the mechanism sent and the reply to it', () => {
    expect(authFromTranscript(t(['C', 'AUTH PLAIN <redacted>'], ['S', '235 2.7.0 Authentication successful'], ['C', 'QUIT']))).toEqual({
      mechanism: 'PLAIN',
      reply: { code: 235, lines: ['2.7.0 Authentication successful'] },
    });
  });

  it('AUTH LOGIN: the final reply after the two 334 challenges', () => {
    const tr = t(['C', 'AUTH LOGIN'], ['S', '334 VXNlcm5hbWU6'], ['C', '<redacted>'], ['S', '334 UGFzc3dvcmQ6'], ['C', '<redacted>'], ['S', '535 5.7.8 Error: authentication failed: bad'], ['*', 'error at auth']);
    expect(authFromTranscript(tr)).toEqual({ mechanism: 'LOGIN', reply: { code: 535, lines: ['5.7.8 Error: authentication failed: bad'] } });
  });

  it('AUTH sent, no reply before the line dropped: null', () => {
    expect(authFromTranscript(t(['C', 'AUTH PLAIN <redacted>'], ['*', 'connection closed']))).toBeNull();
  });

  it('live: a server that offers no AUTH, nodemailer asked to authenticate: auth is null, not an invented 235', async () => {
    const port = await smtpServer(['PIPELINING']);
    const { observation: o } = await runNodemailer({ host: '127.0.0.1', port, mode: 'plain', tls: {}, auth: { mechanism: 'PLAIN', user: 'alice', pass: 'secret' } });
    expect(o.transcript.some((e) => e.dir === 'C' && /^AUTH/i.test(e.text))).toBe(false);
    expect(o.auth).toBeNull();
  });

  it('live: AUTH LOGIN against a server that takes it: the 235 nodemailer really got, and no secret in the transcript', async () => {
    const port = await smtpServer(['AUTH LOGIN'], (line, s) => {
      if (/^AUTH LOGIN$/i.test(line)) s.write('334 VXNlcm5hbWU6\r\n');
      else if (line === Buffer.from('alice').toString('base64')) s.write('334 UGFzc3dvcmQ6\r\n');
      else s.write('235 2.7.0 Authentication successful\r\n');
    });
    const { observation: o } = await runNodemailer({ host: '127.0.0.1', port, mode: 'plain', tls: {}, auth: { mechanism: 'LOGIN', user: 'alice', pass: 'secret' } });
    expect(o.error).toBeNull();
    expect(o.auth).toEqual({ mechanism: 'LOGIN', reply: { code: 235, lines: ['2.7.0 Authentication successful'] } });
    expect(JSON.stringify(o.transcript)).not.toContain(Buffer.from('secret').toString('base64'));
    expect(o.transcript.find((e) => e.dir === 'C' && /^AUTH/i.test(e.text))?.text).toBe('AUTH LOGIN');
  });
});

describe("every client records its own address and port in every mode, also when the handshake fails", () => {
  it('raw, implicit TLS, the server refuses the hello: address and port known, ETLS', async () => {
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port: await rawServer(alertOnHello), mode: 'implicit', timeouts: { handshake: 2_000 } });
    expect(o.error).toMatchObject({ code: 'ETLS', stage: 'handshake' });
    expect(o.localAddress).toBe('127.0.0.1');
    expect(o.localPort).toEqual(expect.any(Number));
  });

  it('nodemailer, implicit TLS, the server refuses the hello: address and port known', async () => {
    const { observation: o } = await runNodemailer({ host: '127.0.0.1', port: await rawServer(alertOnHello), mode: 'implicit', tls: {} });
    expect(o.error).toMatchObject({ code: 'ETLS' });
    expect(o.localAddress).toBe('127.0.0.1');
    expect(o.localPort).toEqual(expect.any(Number));
  });

  it('nodemailer, implicit TLS that works: the port is the one the server saw', async () => {
    let seen: number | undefined;
    const server = tls.createServer(pair, (s) => {
      seen = s.remotePort;
      s.on('error', () => undefined);
      s.write('220 fake ESMTP\r\n');
      s.on('data', (d: Buffer) => (/^EHLO/i.test(d.toString()) ? s.write('250-fake\r\n250 PIPELINING\r\n') : s.end('221 bye\r\n')));
    });
    const port = await listen(server);
    const { observation: o } = await runNodemailer({ host: '127.0.0.1', port, mode: 'implicit', tls: {} });
    expect(o.error).toBeNull();
    expect(o.localPort).toBe(seen);
  });

  it('nodemailer, plain SMTP (no TLS socket at all): address and port from its own connection', async () => {
    let seen: number | undefined;
    const port = await rawServer((s) => {
      seen = s.remotePort;
      s.write('220 fake ESMTP\r\n');
      s.on('data', (d: Buffer) => (/^EHLO/i.test(d.toString()) ? s.write('250-fake\r\n250 PIPELINING\r\n') : s.end('221 bye\r\n')));
    });
    const { observation: o } = await runNodemailer({ host: '127.0.0.1', port, mode: 'plain', tls: {} });
    expect(o.error).toBeNull();
    expect(o.localAddress).toBe('127.0.0.1');
    expect(o.localPort).toBe(seen);
  });

  it('raw and nodemailer, STARTTLS: the address and port are the ones the server saw', async () => {
    for (const run of [runRawClient, runNodemailer] as const) {
      const seen: number[] = [];
      const port = await smtpServer(['STARTTLS'], undefined, (s) => seen.push(s.remotePort!));
      const { observation: o } = await run({ host: '127.0.0.1', port, mode: 'starttls', tls: {} });
      expect(o.error).toBeNull();
      expect(o.tls).not.toBeNull();
      expect(o.localAddress).toBe('127.0.0.1');
      expect([o.localPort]).toEqual(seen);
    }
  });
});
