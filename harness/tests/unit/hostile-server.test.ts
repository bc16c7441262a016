import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { DEFAULT_PROBE_TIMEOUTS, openForTls, TransportError } from '../../enum/starttls-transport.js';
import { runRawClient } from '../../smtp/raw-client.js';

/**
 * Hostile input from the server side. The lab talks to servers that may be broken, so its
 * client must end every one of these with a bounded, clear error in the observation. A fake
 * server is right here, and only here: it sends exact bytes no real Postfix would. It listens
 * on 127.0.0.1 only.
 */

type Script = (sock: net.Socket) => void;
const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function fake(script: Script): Promise<number> {
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    script(sock);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** After "EHLO", answer with STARTTLS offered; then `afterStarttls` decides. */
function smtpUntilStarttls(afterStarttls: (sock: net.Socket) => void): Script {
  return (sock) => {
    sock.write('220 fake.lab.test ESMTP\r\n');
    let buf = '';
    sock.on('data', function onData(d) {
      buf += d.toString('latin1');
      if (/^EHLO .*\r\n$/m.test(buf) && !buf.includes('STARTTLS\r\n')) sock.write('250-fake.lab.test\r\n250 STARTTLS\r\n');
      if (buf.includes('STARTTLS\r\n')) {
        sock.off('data', onData);
        afterStarttls(sock);
      }
    });
  };
}

const quick = { connect: 2000, banner: 1500, reply: 1500, handshake: 2000 };

describe('hostile servers: every case ends in a bounded, clear error', () => {
  it('an over-long reply line', async () => {
    const port = await fake((s) => s.write(`220 ${'A'.repeat(100_000)}\r\n`));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'EREPLY_TOO_LONG', stage: 'banner' });
  });

  it('memory stays bounded: a 256 MB flood without a line end is cut off at the limit, and the observation stays small', async () => {
    const total = 256 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    let sent = 0;
    let serverClosed!: (bytes: number) => void;
    const closed = new Promise<number>((r) => (serverClosed = r));
    const port = await fake((s) => {
      s.write('220 ');
      const pump = () => {
        while (sent < total && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      s.on('close', () => serverClosed(sent));
      pump();
    });
    const heapBefore = process.memoryUsage().heapUsed;
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(o.error).toMatchObject({ code: 'EREPLY_TOO_LONG', stage: 'banner' });
    // The client hung up long before the server was done (kernel buffers hold a few MB at most).
    const closedAfter = await closed;
    expect(closedAfter).toBeGreaterThan(0);
    expect(closedAfter).toBeLessThan(total / 4);
    expect(JSON.stringify(o).length).toBeLessThan(64 * 1024);
    expect(heapGrowth).toBeLessThan(32 * 1024 * 1024);
    console.log(`flood: server had pushed ${(closedAfter / 1024 / 1024).toFixed(1)} MiB when the client hung up; observation ${JSON.stringify(o).length} bytes; heap growth ${(heapGrowth / 1024 / 1024).toFixed(1)} MiB`);
  });

  it('a banner without CRLF that never ends', async () => {
    const port = await fake((s) => s.write('220 no line end here'));
    const t = Date.now();
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ETIMEOUT', stage: 'banner' });
    expect(o.error?.message).toMatch(/timeout 'banner'/);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('a multiline reply that never ends', async () => {
    const port = await fake((s) => {
      s.write('220 fake\r\n');
      s.once('data', () => {
        const flood = setInterval(() => (s.destroyed ? clearInterval(flood) : s.write('250-more\r\n'.repeat(50))), 5);
        s.on('close', () => clearInterval(flood));
      });
    });
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'EREPLY_TOO_LONG', stage: 'ehlo' });
  });

  it('invalid UTF-8 in the banner is kept as bytes, not a crash', async () => {
    const port = await fake((s) => {
      s.write(Buffer.concat([Buffer.from('220 caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(' ESMTP\r\n')]));
      s.once('data', () => s.write('250 fake\r\n'));
    });
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', stopAfter: 'ehlo', timeouts: quick });
    expect(o.error).toBeNull();
    expect(o.banner?.lines[0]).toBe('caf\u00c3(\u00ff ESMTP');
    expect(JSON.parse(JSON.stringify(o)).banner.lines[0]).toBe('caf\u00c3(\u00ff ESMTP');
  });

  it('plaintext injected after "220 Ready to start TLS" (CVE-2011-0411 class, server side)', async () => {
    const port = await fake(smtpUntilStarttls((s) => s.write('220 2.0.0 Ready to start TLS\r\n250 injected by the server\r\n')));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'EINJECTION', stage: 'starttls' });
    expect(o.tls).toBeNull();
  });

  it('a TLS alert in the middle of the handshake', async () => {
    // After the ClientHello, a fatal handshake_failure alert record: 15 03 03 00 02 02 28.
    const port = await fake(smtpUntilStarttls((s) => {
      s.write('220 2.0.0 Ready to start TLS\r\n');
      s.once('data', () => s.write(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])));
    }));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ETLS', stage: 'handshake' });
    expect(o.error?.message).toMatch(/handshake failure, alert 40/);
  });

  it('garbage instead of a ServerHello', async () => {
    const port = await fake(smtpUntilStarttls((s) => {
      s.write('220 2.0.0 Ready to start TLS\r\n');
      s.once('data', () => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    }));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ETLS', stage: 'handshake' });
  });

  it('a server that stalls after its 220 greeting', async () => {
    const port = await fake((s) => s.write('220 fake ESMTP\r\n'));
    const t = Date.now();
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ETIMEOUT', stage: 'ehlo' });
    expect(o.error?.message).toMatch(/timeout 'ehlo-reply'/);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it('a server that stalls in the handshake after STARTTLS', async () => {
    const port = await fake(smtpUntilStarttls((s) => s.write('220 2.0.0 Ready to start TLS\r\n')));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ETIMEOUT', stage: 'handshake' });
    expect(o.error?.message).toMatch(/timeout 'tls-handshake'/);
  });

  it('a certificate carrying 10 kB of names (200 SANs) is recorded, bounded and JSON-safe', async () => {
    const pki = await LabPki.create();
    const cn = `${'x'.repeat(60)}.lab.test`;
    const pair = await pki.issue({ commonName: cn, sans: [cn], key: 'ec-p256' });
    // The issue asks for a 10 kB subject. selfsigned cannot repeat subject attributes, so the
    // 10 kB of server-chosen names sit in the SAN list instead: the same stress on the parser
    // and on the observation's size.
    const big = await pki.issue({ commonName: 'big.lab.test', sans: Array.from({ length: 200 }, (_, i) => `name-${i}-${'y'.repeat(40)}.lab.test`), key: 'ec-p256' });
    for (const p of [pair, big]) {
      const port = await fake(smtpUntilStarttls((s) => {
        s.write('220 2.0.0 Ready to start TLS\r\n');
        const t = new tls.TLSSocket(s, { isServer: true, secureContext: tls.createSecureContext({ cert: p.cert, key: p.key }) });
        t.on('error', () => undefined);
        t.on('secure', () => t.write('250-fake\r\n250 OK\r\n'));
      }));
      const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', stopAfter: 'handshake', timeouts: quick });
      expect(o.error).toBeNull();
      expect(o.tls?.peerCertificate?.sans.length).toBeGreaterThan(0);
      expect(JSON.stringify(o).length).toBeLessThan(64 * 1024);
    }
  });

  it('nothing listening: a fast tcp error', async () => {
    const port = await fake(() => undefined);
    servers.pop()!.close();
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    expect(o.error).toMatchObject({ code: 'ECONNECTION', stage: 'tcp' });
  });
});

/** The probe's transport on the same fake server: the error it throws, as code and stage. */
async function probeTransportError(port: number): Promise<{ code: string; stage: string | null; transient: boolean }> {
  try {
    const opened = await openForTls({ host: '127.0.0.1', port, mode: 'starttls' }, { ehloName: 'probe.lab.test', timeouts: { ...DEFAULT_PROBE_TIMEOUTS, banner: 1500, reply: 1500 } });
    opened.socket.destroy();
  } catch (e) {
    expect(e).toBeInstanceOf(LabError);
    const le = e as LabError;
    return { code: le.code, stage: le.stage, transient: e instanceof TransportError && e.transient };
  }
  throw new Error('the probe transport opened a connection the fake server should have spoiled');
}

describe('one STARTTLS dialogue: the raw client and the probe transport end a hostile server with the same code and stage', () => {
  const cases: readonly { name: string; script: Script; code: string; stage: string }[] = [
    {
      name: 'plaintext after "220 Ready to start TLS" (the probe said EPROTOCOL before the dialogue was shared)',
      script: smtpUntilStarttls((s) => s.write('220 2.0.0 Ready to start TLS\r\n250 injected by the server\r\n')),
      code: 'EINJECTION',
      stage: 'starttls',
    },
    {
      name: 'half a line of plaintext after the 220, in the same read',
      script: smtpUntilStarttls((s) => s.write('220 2.0.0 Ready to start TLS\r\n250-partial line without its end')),
      code: 'EINJECTION',
      stage: 'starttls',
    },
    { name: 'STARTTLS refused with 454', script: smtpUntilStarttls((s) => s.write('454 4.7.0 TLS not available due to local problem\r\n')), code: 'ESTARTTLS', stage: 'starttls' },
    {
      name: 'STARTTLS not advertised',
      script: (sock) => {
        sock.write('220 fake ESMTP\r\n');
        sock.once('data', () => sock.write('250-fake\r\n250 PIPELINING\r\n'));
      },
      code: 'ENOSTARTTLS',
      stage: 'starttls',
    },
    { name: 'a 554 greeting', script: (sock) => sock.end('554 5.3.2 fake says go away\r\n'), code: 'EBANNER', stage: 'banner' },
    {
      name: 'EHLO refused',
      script: (sock) => {
        sock.write('220 fake ESMTP\r\n');
        sock.once('data', () => sock.write('550 5.7.1 no EHLO for you\r\n'));
      },
      code: 'EEHLO',
      stage: 'ehlo',
    },
    { name: 'a reply line over the limit', script: (sock) => sock.write(`220 ${'A'.repeat(10_000)}\r\n`), code: 'EREPLY_TOO_LONG', stage: 'banner' },
    { name: 'not SMTP at all (an SSH greeting)', script: (sock) => sock.write('SSH-2.0-OpenSSH_9.2\r\n'), code: 'EPROTOCOL', stage: 'banner' },
    {
      name: 'the connection closed after the greeting',
      script: (sock) => {
        sock.write('220 fake ESMTP\r\n');
        sock.once('data', () => sock.destroy());
      },
      code: 'ECLOSED',
      stage: 'ehlo',
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const port = await fake(c.script);
      const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
      const p = await probeTransportError(port);
      expect(o.error).toMatchObject({ code: c.code, stage: c.stage });
      expect({ code: p.code, stage: p.stage }).toEqual({ code: c.code, stage: c.stage });
      expect(o.tls).toBeNull();
    });
  }

  it('what the raw client saw before the refusal stays in its observation (the 554 greeting, the 454 reply)', async () => {
    const greeting = await runRawClient({ host: '127.0.0.1', port: await fake((sock) => sock.end('554 5.3.2 go away\r\n')), mode: 'starttls', timeouts: quick });
    expect(greeting.observation.banner).toEqual({ code: 554, lines: ['5.3.2 go away'] });
    const refused = await runRawClient({ host: '127.0.0.1', port: await fake(smtpUntilStarttls((s) => s.write('454 4.7.0 not now\r\n'))), mode: 'starttls', timeouts: quick });
    expect(refused.observation.starttlsReply).toEqual({ code: 454, lines: ['4.7.0 not now'] });
  });

  it('a 421 greeting is EBANNER for both, and the probe marks it as throttling (worth a retry)', async () => {
    const port = await fake((sock) => sock.end('421 4.7.0 too many connections\r\n'));
    const { observation: o } = await runRawClient({ host: '127.0.0.1', port, mode: 'starttls', timeouts: quick });
    const p = await probeTransportError(port);
    expect(o.error).toMatchObject({ code: 'EBANNER', stage: 'banner' });
    expect(p).toEqual({ code: 'EBANNER', stage: 'banner', transient: true });
  });
});
