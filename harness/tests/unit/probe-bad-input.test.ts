import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { probe, type ProbeOptions } from '../../enum/probe.js';
import { runProbeCommand } from '../../enum/probe-command.js';
import { FakeSmtpServer, unusedPort, type FakeServerOptions } from './probe-fake-server.js';

/**
 * Bad input never crashes or hangs the probe: each case ends in a LabError with the stage it
 * happened at, quickly, and leaves no connection open. Loopback only: the "services" are tiny
 * node:net servers made here.
 */

const FAST: ProbeOptions = { timeouts: { connect: 1_000, banner: 400, reply: 400, serverAnswer: 400, handshake: 1_000 }, maxRetries: 2 };
const servers: FakeSmtpServer[] = [];
let tlsOptions: { cert: string; key: string };

beforeAll(async () => {
  const pki = await LabPki.create();
  const leaf = await pki.issue({ commonName: 'fake.test', key: 'ec-p256' });
  tlsOptions = { cert: `${leaf.cert.trimEnd()}\n${leaf.chain}`, key: leaf.key };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function fake(o: FakeServerOptions): Promise<FakeSmtpServer> {
  const s = await FakeSmtpServer.start(o);
  servers.push(s);
  return s;
}

/** Run a probe that must fail; returns the error and how long it took. Checks the server has no connection left open shortly after. */
async function failing(port: number, mode: 'starttls' | 'implicit' | 'plain' = 'starttls', opts: ProbeOptions = FAST, server?: FakeSmtpServer): Promise<{ err: LabError; ms: number }> {
  const started = Date.now();
  let err: unknown;
  try {
    await probe({ host: '127.0.0.1', port, mode }, opts);
  } catch (e) {
    err = e;
  }
  const ms = Date.now() - started;
  expect(err).toBeInstanceOf(LabError);
  if (server) {
    // Every socket was destroyed on the way out: the server sees them all closed within a moment.
    const until = Date.now() + 2_000;
    while (server.open > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20)); // bounded poll
    expect(server.open).toBe(0);
  }
  return { err: err as LabError, ms };
}

describe('probe on bad input: a clear LabError with its stage, fast', () => {
  it('nothing listening: ECONNECTION at tcp, no retries', async () => {
    const port = await unusedPort();
    const { err, ms } = await failing(port);
    expect(err).toMatchObject({ code: 'ECONNECTION', stage: 'tcp' });
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(ms).toBeLessThan(500); // the other attempts in flight are cut off, not waited for
  });

  it('a non-SMTP service (an SSH greeting): EPROTOCOL at banner', async () => {
    const s = await fake({ mode: 'starttls', rawGreeting: 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' });
    const { err, ms } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'EPROTOCOL', stage: 'banner' });
    expect(err.message).toContain('not an SMTP reply line');
    expect(ms).toBeLessThan(1_500);
  });

  it('a server that never greets: ETIMEOUT at banner, bounded by the banner timeout', async () => {
    const s = await fake({ mode: 'starttls', banner: null });
    const { err, ms } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'ETIMEOUT', stage: 'banner' });
    expect(err.message).toContain("'probe banner'");
    expect(ms).toBeLessThan(1_500);
  });

  it('a 554 greeting: EBANNER at banner', async () => {
    const s = await fake({ mode: 'starttls', banner: '554 5.3.2 not accepting mail' });
    const { err } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'EBANNER', stage: 'banner' });
    expect(err.message).toContain('554 5.3.2 not accepting mail');
  });

  it('EHLO refused: EEHLO at ehlo', async () => {
    const s = await fake({ mode: 'starttls', ehloReply: () => '550 5.7.1 go away\r\n' });
    const { err } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'EEHLO', stage: 'ehlo' });
  });

  it('STARTTLS not offered: ENOSTARTTLS at starttls', async () => {
    const s = await fake({ mode: 'starttls', ehloReply: () => '250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n' });
    const { err } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'ENOSTARTTLS', stage: 'starttls' });
  });

  it('STARTTLS refused (454): ESTARTTLS at starttls', async () => {
    const s = await fake({ mode: 'starttls', starttlsReply: '454 4.7.0 TLS not available due to local problem' });
    const { err } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'ESTARTTLS', stage: 'starttls' });
    expect(err.message).toContain('454 4.7.0');
  });

  it('plaintext after the STARTTLS reply: EINJECTION at starttls (the one rule every lab client applies)', async () => {
    const s = await fake({ mode: 'starttls', afterStarttls: 'plaintext-then-tls', tls: tlsOptions });
    const { err } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'EINJECTION', stage: 'starttls' });
  });

  it('garbage instead of TLS after STARTTLS: ETLS at handshake, with the bytes shown escaped', async () => {
    const s = await fake({ mode: 'starttls', afterStarttls: 'garbage' });
    const { err, ms } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'ETLS', stage: 'handshake' });
    expect(err.message).toContain('not TLS');
    expect(err.detail).toContain('HTTP/1.1 400 Bad Request');
    expect(ms).toBeLessThan(1_500);
  });

  it('silence after STARTTLS: ETIMEOUT at handshake, bounded (one retry of the server-answer wait)', async () => {
    const s = await fake({ mode: 'starttls', afterStarttls: 'silent' });
    const { err, ms } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'ETIMEOUT', stage: 'handshake' });
    expect(ms).toBeLessThan(2_500);
  });

  it('implicit TLS against a plaintext SMTP server: ETLS at handshake (its greeting is not TLS)', async () => {
    const s = await fake({ mode: 'starttls' });
    const { err } = await failing(s.port, 'implicit', FAST, s);
    expect(err).toMatchObject({ code: 'ETLS', stage: 'handshake' });
    expect(err.detail).toContain('220 fake.test ESMTP');
  });

  it('421 on every connection: retried with bounded backoff, then EBANNER at banner saying so', async () => {
    const s = await fake({ mode: 'starttls', pushback: () => '421' });
    const { err, ms } = await failing(s.port, 'starttls', FAST, s);
    expect(err).toMatchObject({ code: 'EBANNER', stage: 'banner' });
    expect(err.message).toMatch(/421 4\.7\.0 .*still failing after 2 retries/);
    expect(ms).toBeLessThan(3_000);
  });

  it('bad arguments are usage errors before any connection', async () => {
    await expect(probe({ host: '127.0.0.1', port: 0, mode: 'starttls' })).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(probe({ host: '', port: 25, mode: 'starttls' })).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(probe({ host: '127.0.0.1', port: 25, mode: 'starttls' }, { concurrency: 0 })).rejects.toMatchObject({ code: 'EUSAGE' });
    await expect(probe({ host: '127.0.0.1', port: 25, mode: 'starttls' }, { ehloName: 'x\r\nMAIL FROM:<a@b>' })).rejects.toMatchObject({ code: 'EUSAGE' });
  });
});

describe('smtp-tls-lab probe (the command)', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
  };

  it('--help prints usage and exits 0', async () => {
    const x = io();
    expect(await runProbeCommand(['--help'], x.io)).toBe(0);
    expect(x.out.join('\n')).toContain('usage: smtp-tls-lab probe HOST[:PORT]');
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    const cases: [string[], string][] = [
      [[], 'name the endpoint'],
      [['127.0.0.1:25', '--concurency', '2'], "unknown argument '--concurency'"],
      [['127.0.0.1:25', '--starttls', '--implicit'], 'choose one of'],
      [['127.0.0.1:99999'], '--port must be'],
      [['127.0.0.1:25', '--concurrency', '0'], '--concurrency must be'],
      [['127.0.0.1:25', '--timeout'], '--timeout needs a value'],
      [['127.0.0.1:25', '10.0.0.1:25'], 'one endpoint only'],
      [['127.0.0.1:25', '--scope', 'all'], '--scope must be full or enumeration'],
    ];
    for (const [argv, want] of cases) {
      const x = io();
      expect(await runProbeCommand(argv, x.io), argv.join(' ')).toBe(2);
      expect(x.err.join('\n'), argv.join(' ')).toContain(want);
    }
  });

  it('nothing listening: exit 2 with the code and the stage', async () => {
    const x = io();
    const port = await unusedPort();
    expect(await runProbeCommand([`127.0.0.1:${port}`, '--timeout', '1000'], x.io)).toBe(2);
    expect(x.err[0]).toMatch(/^probe: ECONNECTION at tcp: cannot connect to 127\.0\.0\.1:\d+/);
  });

  it('a server text in an error is escaped for the terminal', async () => {
    const s = await fake({ mode: 'starttls', banner: '554 \x1b[2Jcleared' });
    const x = io();
    expect(await runProbeCommand([`127.0.0.1:${s.port}`, '--timeout', '500'], x.io)).toBe(2);
    expect(x.err.join('\n')).not.toContain('\x1b');
    expect(x.err.join('\n')).toContain('\\x1b[2Jcleared');
  });
});
