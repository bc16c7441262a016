/**
 * The probe and the post-quantum groups against real Postfix: pq-hybrid-trixie's three services
 * on trixie (3.10 defaults; both auto lists empty; only the EC list empty) and pq-hybrid-sid's
 * two on sid (3.11 defaults; 3.10's classical list). Group enumeration finds ML-KEM groups
 * through the HelloRetryRequest (an empty key_share: the server names its pick, the probe removes
 * it and asks again), so it needs no ML-KEM of its own. The shares the probe can build are
 * checked too: the server encapsulates to a hybrid share it accepts (a ServerHello, no HRR), and
 * refuses one whose ML-KEM key fails FIPS 203's modulus check (alert 47; Postfix logs OpenSSL's
 * "invalid public 't' vector"), so the share is valid and the check is real.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP } from '../../enum/cipher-suites.js';
import { buildClientHello, type ClientHelloSpec } from '../../enum/client-hello.js';
import { probe } from '../../enum/probe.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { TLS13_CODES } from '../../enum/prober.js';
import { renderProbe } from '../../enum/render-probe.js';
import type { FinishedAnswer } from '../../enum/server-answer.js';
import { DEFAULT_PROBE_TIMEOUTS, exchangeHello, openForTls } from '../../enum/starttls-transport.js';
import { ensureImage } from '../../engine/images.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';

let trixie: ScenarioSession | undefined;
let sid: ScenarioSession | undefined;

beforeAll(async () => {
  // One image after the other: a fresh machine builds each (two cores).
  const trixieImage = (await ensureImage('postfix', () => undefined, 'trixie')).tag;
  const sidImage = (await ensureImage('postfix', () => undefined, 'sid')).tag;
  [trixie, sid] = await Promise.all([
    ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, 'pq-hybrid-trixie')), trixieImage),
    ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, 'pq-hybrid-sid')), sidImage),
  ]);
}, 420_000);

afterAll(async () => {
  await Promise.all([trixie?.stop(), sid?.stop()]);
});

const target = (s: ScenarioSession | undefined, service: string) => {
  const ep = s!.postfix.endpoint(service);
  return { host: ep.host, port: ep.port, mode: 'starttls' as const };
};

const enumerate = (s: ScenarioSession | undefined, service: string): Promise<ProbeResult> => probe(target(s, service), { scope: 'enumeration' });

/** One hand-built hello after STARTTLS (bytes as given, so a corrupted share can be sent). */
async function answerTo(s: ScenarioSession | undefined, service: string, hello: Buffer): Promise<FinishedAnswer> {
  const opened = await openForTls(target(s, service), { ehloName: 'probe.lab.test', timeouts: DEFAULT_PROBE_TIMEOUTS });
  try {
    return await exchangeHello(opened.socket, hello, 5_000);
  } finally {
    opened.socket.destroy();
  }
}

const tls13 = (groups: number[], keyShareGroups: number[]): ClientHelloSpec => ({ maxVersion: 'TLSv1.3', ciphers: TLS13_CODES, groups, keyShareGroups });
const pqOf = (r: ProbeResult) => r.groups.filter((g) => g.kind === 'hybrid' || g.kind === 'kem').map((g) => g.name);

/** The share's first ML-KEM coefficient set to 0xfff (4095 ≥ q = 3329): what the modulus check refuses. */
function withBadCoefficient(hello: Buffer, group: number, shareBytes: number): Buffer {
  const at = hello.indexOf(Buffer.from([group >> 8, group & 0xff, shareBytes >> 8, shareBytes & 0xff]));
  if (at < 0) throw new Error('key share not found in the hello');
  const out = Buffer.from(hello);
  out[at + 4] = 0xff;
  out[at + 5] = out[at + 5]! | 0x0f;
  return out;
}

describe('group enumeration finds the hybrid group where Postfix has it (trixie, Postfix 3.10)', () => {
  it('port 25 at the defaults: no post-quantum group, and the text says so', async () => {
    const r = await enumerate(trixie, 'smtp');
    expect(r.groupsByProtocol['TLSv1.3']).toEqual(expect.arrayContaining(['X25519', 'prime256v1', 'X448', 'secp384r1', 'secp521r1', 'ffdhe2048', 'ffdhe3072']));
    expect(pqOf(r)).toEqual([]);
    expect(renderProbe(r).join('\n')).toContain('post-quantum: none accepted');
  }, 120_000);

  it('both auto lists empty: X25519MLKEM768, picked first, TLS 1.3 only; the classical groups stay', async () => {
    const r = await enumerate(trixie, '2525');
    expect(r.groupsByProtocol['TLSv1.3']?.[0]).toBe('X25519MLKEM768');
    expect(r.groupsByProtocol['TLSv1.3']).toEqual(expect.arrayContaining(['X25519', 'prime256v1']));
    expect(pqOf(r)).toEqual(['X25519MLKEM768']);
    expect(r.groups.find((g) => g.name === 'X25519MLKEM768')).toMatchObject({ code: 0x11ec, kind: 'hybrid', protocols: ['TLSv1.3'] });
    expect(r.groupsByProtocol['TLSv1.2']).not.toContain('X25519MLKEM768');
    expect(renderProbe(r).join('\n')).toContain('post-quantum: X25519MLKEM768 (hybrid)');
  }, 120_000);

  it('only the EC list empty: ffdhe2048 and ffdhe3072 alone in TLS 1.3, and no ECDHE group in TLS 1.2', async () => {
    const r = await enumerate(trixie, '2526');
    expect(r.groupsByProtocol['TLSv1.3']).toEqual(['ffdhe2048', 'ffdhe3072']);
    expect(r.groupsByProtocol['TLSv1.2'] ?? []).toEqual([]);
    expect(pqOf(r)).toEqual([]);
  }, 120_000);
});

describe('the shares the probe builds, judged by trixie OpenSSL 3.5', () => {
  it('a X25519MLKEM768 share is accepted: ServerHello without HelloRetryRequest, the server encapsulated to it', async () => {
    const a = await answerTo(trixie, '2525', buildClientHello(tls13([GROUP.x25519mlkem768], [GROUP.x25519mlkem768])));
    expect(a).toMatchObject({ kind: 'server-hello', version: 'TLSv1.3', helloRetryRequest: false, selectedGroup: 0x11ec });
  }, 60_000);

  it('the same share with one coefficient ≥ q is refused with illegal_parameter, and Postfix logs why', async () => {
    const seen = trixie!.postfix.log.all().length;
    const a = await answerTo(trixie, '2525', withBadCoefficient(buildClientHello(tls13([GROUP.x25519mlkem768], [GROUP.x25519mlkem768])), 0x11ec, 1216));
    expect(a).toMatchObject({ kind: 'alert', description: 47 });
    await expect
      .poll(() => trixie!.postfix.log.all().slice(seen).filter((e) => e.type === 'tls-library-problem').map((e) => e.raw).join('\n'), { timeout: 5_000 })
      .toMatch(/ML-KEM-768 invalid public 't' vector/);
  }, 60_000);

  it("at the defaults the hybrid share alone finds no group; beside X25519 the server asks for X25519 (HelloRetryRequest)", async () => {
    expect(await answerTo(trixie, 'smtp', buildClientHello(tls13([GROUP.x25519mlkem768], [GROUP.x25519mlkem768])))).toMatchObject({ kind: 'alert', description: 40 });
    expect(await answerTo(trixie, 'smtp', buildClientHello(tls13([GROUP.x25519mlkem768, GROUP.x25519], [GROUP.x25519mlkem768])))).toMatchObject({ kind: 'server-hello', helloRetryRequest: true, selectedGroup: GROUP.x25519 });
  }, 60_000);

  it("OpenSSL 3.5's default list has X25519MLKEM768 only: SecP256r1MLKEM768 and MLKEM768 alone are refused even on the PQ service", async () => {
    expect(await answerTo(trixie, '2525', buildClientHello(tls13([GROUP.secp256r1mlkem768], [GROUP.secp256r1mlkem768])))).toMatchObject({ kind: 'alert', description: 40 });
    expect(await answerTo(trixie, '2525', buildClientHello(tls13([GROUP.mlkem768], [GROUP.mlkem768])))).toMatchObject({ kind: 'alert', description: 40 });
  }, 60_000);
});

describe('sid (Postfix 3.11): the hybrid group at the defaults', () => {
  it('port 25: X25519MLKEM768 found first; the classical 3.10 list on 2525: none', async () => {
    const [defaults, classic] = [await enumerate(sid, 'smtp'), await enumerate(sid, '2525')];
    expect(defaults.groupsByProtocol['TLSv1.3']?.[0]).toBe('X25519MLKEM768');
    expect(pqOf(defaults)).toEqual(['X25519MLKEM768']);
    expect(pqOf(classic)).toEqual([]);
    expect(classic.groupsByProtocol['TLSv1.3']).toContain('X25519');
  }, 180_000);
});
