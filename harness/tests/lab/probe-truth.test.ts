import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { findingDifferences } from '../../bench/probe-bench.js';
import { withTimeout } from '../../core/timeouts.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { ORACLE_CONFIGS } from '../../dev/capture-oracles.js';
import { groupByName, PROBE_VERSIONS, type ProbeVersion } from '../../enum/cipher-suites.js';
import { ensureOracleTools, type OracleFindings, type OracleRun, type OracleTools, runSslscan, runTestssl, TESTSSL_ENUMERATION_FLAGS, TESTSSL_FEATURE_FLAGS } from '../../enum/oracles.js';
import { probe } from '../../enum/probe.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';

/**
 * The probe truth test: on real lab Postfix containers of several configurations, probe must
 * find exactly what sslscan and testssl.sh find (the versions, the suites per version, the
 * groups). Where an oracle disagrees, the disagreement is declared below with the reason, and
 * a test shows who is right with `openssl s_client` runs from the lab client container (the
 * lab's own OpenSSL, on the scenario's network). Oracles run on the host against the
 * container's lab address. Missing tools are installed (apt-get); if that fails the
 * comparisons are skipped with the reason, never passed.
 */

interface Lab {
  readonly name: string;
  readonly session: ScenarioSession;
  readonly target: { host: string; port: number; mode: 'starttls' };
  probe: ProbeResult | null;
  sslscan: OracleRun | null;
  testssl: OracleRun | null;
  testsslFeatures: OracleRun | null;
}

let tools: OracleTools = { sslscan: null, testssl: null, problems: ['not checked yet'] };
const labs = new Map<string, Lab>();
let throttled: Lab | null = null;

/** Run async jobs at most `n` at once (testssl is heavy: two at a time on a 2-core machine). */
async function limited<T>(n: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

beforeAll(async () => {
  tools = await ensureOracleTools();
  const image = inject('postfixImage');
  const dirs = [...ORACLE_CONFIGS.map((c) => ({ name: c.name, dir: c.dir })), { name: 'throttled', dir: path.join(PROJECT_ROOT, 'harness/tests/fixtures/probe/throttled') }];
  const started = await Promise.allSettled(dirs.map((d) => ScenarioSession.start(loadScenario(d.dir), image)));
  started.forEach((s, i) => {
    if (s.status !== 'fulfilled') return;
    const ep = s.value.postfix.endpoint('smtp');
    const lab: Lab = { name: dirs[i]!.name, session: s.value, target: { host: ep.host, port: ep.port, mode: 'starttls' }, probe: null, sslscan: null, testssl: null, testsslFeatures: null };
    if (lab.name === 'throttled') throttled = lab;
    else labs.set(lab.name, lab);
  });
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  // probe and sslscan one container at a time (both are quick), then testssl two at a time.
  for (const lab of labs.values()) {
    lab.probe = await probe(lab.target);
    if (tools.sslscan) lab.sslscan = await runSslscan(lab.target, { binary: tools.sslscan });
  }
  if (tools.testssl) {
    const jobs = [...labs.values()].map((lab) => async () => {
      lab.testssl = await runTestssl(lab.target, { binary: tools.testssl!, flags: TESTSSL_ENUMERATION_FLAGS });
      if (lab.name === 'opportunistic-25') lab.testsslFeatures = await runTestssl(lab.target, { binary: tools.testssl!, flags: TESTSSL_FEATURE_FLAGS });
    });
    await limited(2, jobs);
  }
}, 900_000);

afterAll(async () => {
  const all = [...labs.values(), ...(throttled ? [throttled] : [])];
  const problems = (await Promise.all(all.map((l) => l.session.stop()))).flat();
  expect(problems).toEqual([]);
}, 120_000);

/** The oracle's findings, or a skip with the reason (never a pass) when the tool could not run. */
function findingsOr(skip: (note: string) => never, run: OracleRun | null, tool: 'sslscan' | 'testssl'): OracleFindings {
  if (!run) return skip(`${tool} unavailable: ${tools.problems.join('; ') || 'not run'}`);
  if (run.status !== 'ok') return skip(`${tool} ${run.status}: ${run.reason}`);
  return run.findings;
}

function probeComparable(p: ProbeResult) {
  return {
    protocols: p.protocols,
    ciphers: Object.fromEntries(PROBE_VERSIONS.map((v) => [v, p.ciphersByProtocol[v].map((s) => s.code)])),
    groups: p.groups.map((g) => g.code),
  };
}

const GROUP = (name: string) => groupByName(name)!.code;

/**
 * Declared disagreements: config → tool → the exact differences findingDifferences() reports.
 * Each is explained here and proven by a test below.
 */
const KNOWN: Readonly<Record<string, Partial<Record<'sslscan' | 'testssl', readonly string[]>>>> = {
  // tls12-only has an ECDSA P-256 certificate. sslscan and testssl offer one curve at a time with
  // ECDHE suites; a TLS 1.2 server may only use its ECDSA certificate when the client lists the
  // certificate's curve (RFC 8422 5.1; OpenSSL tls1_check_cert_param), so every single-curve probe
  // but P-256 fails (testssl finds X25519/X448 by other means). probe enumerates with all ECDHE
  // suites, anonymous ECDH included, removing one curve at a time: the server really does key
  // exchange with all five (s_client evidence in the test "tls12-only: groups").
  'tls12-only': {
    sslscan: [`groups: only probe found ${[GROUP('X25519'), GROUP('X448'), GROUP('secp521r1'), GROUP('secp384r1')].join(', ')}`],
    testssl: [`groups: only probe found ${[GROUP('secp521r1'), GROUP('secp384r1')].join(', ')}`],
  },
};

interface SClient {
  readonly out: string;
  readonly tempKey: string | null;
  readonly cipher: string | null;
  readonly alert: number | null;
  readonly secureRenegotiation: boolean | null;
}

/** openssl s_client in the scenario's lab client container: STARTTLS, the given flags, then EOF. */
async function sClient(lab: Lab, flags: string): Promise<SClient> {
  const client = await lab.session.clientContainer();
  const cmd = `openssl s_client -connect ${lab.target.host}:${lab.target.port} -starttls smtp -name probe.lab.test ${flags} </dev/null 2>&1; true`;
  const r = await withTimeout('probe truth: s_client evidence', 30_000, client.exec(['sh', '-c', cmd]));
  const out = r.stdout + r.stderr;
  const tempKey = /Server Temp Key: (?:ECDH, )?([^,\n]+),/.exec(out)?.[1] ?? null;
  const cipher = /New, [^,]+, Cipher is (\S+)/.exec(out)?.[1] ?? null;
  const alert = /SSL alert number (\d+)/.exec(out)?.[1];
  const reneg = /Secure Renegotiation IS (NOT )?supported/.exec(out);
  return { out, tempKey, cipher: cipher === '(NONE)' ? null : cipher, alert: alert ? Number(alert) : null, secureRenegotiation: reneg ? !reneg[1] : null };
}

function summary(lab: Lab): string {
  const p = lab.probe!;
  const counts = PROBE_VERSIONS.filter((v) => p.protocols[v]).map((v) => `${v}:${p.ciphersByProtocol[v].length}`);
  return `${lab.name}: probe ${p.durationMs} ms, ${p.connections} connections, ${counts.join(' ')}; groups ${JSON.stringify(p.groupsByProtocol)}; sslscan ${lab.sslscan?.ms ?? '-'} ms; testssl ${lab.testssl?.ms ?? '-'} ms`;
}

describe.each(ORACLE_CONFIGS.map((c) => [c.name, c.what] as const))('probe truth on %s (%s)', (name) => {
  const lab = () => labs.get(name)!;

  it('probe = sslscan: versions, suites per version, groups (and groups per version)', (ctx) => {
    const s = findingsOr(ctx.skip, lab().sslscan, 'sslscan');
    const p = lab().probe!;
    console.log(summary(lab()));
    expect(findingDifferences(probeComparable(p), { protocols: s.protocols, ciphers: s.ciphersByProtocol, groups: s.groups }, 'sslscan')).toEqual(KNOWN[name]?.sslscan ?? []);
    if (!KNOWN[name]?.sslscan) {
      for (const [v, codes] of Object.entries(s.groupsByProtocol)) {
        expect(p.groupsByProtocol[v as ProbeVersion]?.map(GROUP).sort((a, b) => a - b), `groups ${v}`).toEqual(codes);
      }
    }
    expect(s.unknownSuites).toEqual([]);
    expect(s.unknownGroups).toEqual([]);
  });

  it('probe = testssl: versions, suites per version, groups', (ctx) => {
    const t = findingsOr(ctx.skip, lab().testssl, 'testssl');
    const p = lab().probe!;
    expect(findingDifferences(probeComparable(p), { protocols: t.protocols, ciphers: t.ciphersByProtocol, groups: t.groups }, 'testssl')).toEqual(KNOWN[name]?.testssl ?? []);
    expect(t.unknownSuites).toEqual([]);
    expect(t.unknownGroups).toEqual([]);
  });

  it('DHE sizes: sslscan saw exactly probe\'s sizes; the group testssl names is one of them', (ctx) => {
    const s = findingsOr(ctx.skip, lab().sslscan, 'sslscan');
    const p = lab().probe!;
    expect(s.dhe.bits).toEqual(p.dhe?.allBits ?? []);
    if (lab().testssl?.status === 'ok') {
      const t = (lab().testssl as Extract<OracleRun, { status: 'ok' }>).findings;
      for (const b of t.dhe.bits) expect(p.dhe?.allBits ?? []).toContain(b);
    }
  });

  it('where the server orders, sslscan\'s "Preferred" suite is probe\'s first pick', (ctx) => {
    const s = findingsOr(ctx.skip, lab().sslscan, 'sslscan');
    const p = lab().probe!;
    for (const v of PROBE_VERSIONS) {
      if (p.order[v] !== 'server') continue;
      expect(s.preferred[v], v).toBe(p.ciphersByProtocol[v][0]!.code);
    }
  });
});

describe('disagreements, with evidence from openssl s_client in the lab client container', () => {
  it('tls12-only: groups: single-curve ECDHE-ECDSA probes fail for every curve but P-256; yet the server does key exchange with all five', async () => {
    const lab = labs.get('tls12-only')!;
    const groups = lab.probe!.groupsByProtocol['TLSv1.2']!;
    expect([...groups].sort()).toEqual(['X25519', 'X448', 'prime256v1', 'secp384r1', 'secp521r1']);
    for (const g of groups) {
      // What sslscan/testssl do: one curve, authenticated ECDHE suites. Only the certificate's curve works.
      const single = await sClient(lab, `-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups ${g}`);
      if (g === 'prime256v1') expect(single.tempKey, single.out).toBe('prime256v1');
      else expect(single.alert, `${g}: ${single.out}`).toBe(40);
      // Anonymous ECDH (which this server accepts) with the same single curve: the server uses it.
      const anon = await sClient(lab, `-tls1_2 -cipher AECDH-AES128-SHA:@SECLEVEL=0 -groups ${g}`);
      expect(anon.tempKey, `${g}: ${anon.out}`).toBe(g);
    }
    // And a realistic client listing several curves gets X25519 with the authenticated suite.
    const real = await sClient(lab, '-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256 -groups X25519:prime256v1');
    expect(real).toMatchObject({ tempKey: 'X25519', cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
  });

  it('tls12-only: sslscan cannot read the ECDSA certificate; probe reads it from the Certificate message', (ctx) => {
    const lab = labs.get('tls12-only')!;
    const s = findingsOr(ctx.skip, lab.sslscan, 'sslscan');
    expect(s.certificate).toBeNull();
    expect(lab.sslscan?.status === 'ok' && lab.sslscan.raw.stdout).toContain('Unable to parse certificate');
    expect(lab.probe!.certificate).toMatchObject({ keyType: 'ec', keyBits: 256, curve: 'prime256v1', signatureAlgorithm: 'ecdsa-with-SHA256', commonName: 'mx.lab.test' });
  });

  it('secure renegotiation: sslscan says "not supported" exactly where TLS 1.0 is off; s_client at TLS 1.2 sees RFC 5746 support, as probe does', async (ctx) => {
    for (const name of ['opportunistic-25', 'tls12-only', 'protocol-floor-seed002']) {
      const lab = labs.get(name)!;
      const s = findingsOr(ctx.skip, lab.sslscan, 'sslscan');
      expect(lab.probe!.features.secureRenegotiation, name).toBe(true);
      const tls12 = await sClient(lab, '-tls1_2');
      expect(tls12.secureRenegotiation, `${name}: ${tls12.out}`).toBe(true);
      // sslscan's renegotiation test speaks TLS 1.0 only: its verdict follows TLS 1.0, not RFC 5746.
      expect(s.features.secureRenegotiation, name).toBe(lab.probe!.protocols.TLSv1);
    }
  });

  it('fallback SCSV: probe says yes on opportunistic-25 (testssl: not tested) and "not applicable" on tls12-only (sslscan: supported); s_client decides', async () => {
    const opp = labs.get('opportunistic-25')!;
    expect(opp.probe!.features.fallbackScsv).toBe(true);
    const down = await sClient(opp, '-tls1_2 -fallback_scsv');
    expect(down.alert, down.out).toBe(86); // inappropriate_fallback: the server honours the SCSV
    const only = labs.get('tls12-only')!;
    expect(only.probe!.features.fallbackScsv).toBeNull();
    const top = await sClient(only, '-tls1_2 -fallback_scsv');
    expect(top.cipher, top.out).not.toBeNull(); // TLS 1.2 is the top: nothing to fall back from
    const lower = await sClient(only, '-tls1_1 -cipher DEFAULT:@SECLEVEL=0 -fallback_scsv');
    expect(lower.alert, lower.out).toBe(70); // protocol_version, not 86: no answer about the SCSV at all
  });

  it('opportunistic-25 features: probe = testssl -S -R -C -Z on renegotiation, compression and resumption', (ctx) => {
    const lab = labs.get('opportunistic-25')!;
    const t = findingsOr(ctx.skip, lab.testsslFeatures, 'testssl');
    const f = lab.probe!.features;
    // A field testssl gave no finding for (null: neither "supported" nor "not supported" in its
    // output, seen for tickets on a slow, freshly set-up machine) is not a verdict to compare with.
    const agree = (probeSays: unknown, testsslSays: boolean | null) => {
      if (testsslSays !== null) expect(probeSays).toBe(testsslSays);
    };
    expect(t.features.secureRenegotiation).not.toBeNull();
    agree(f.secureRenegotiation, t.features.secureRenegotiation);
    agree(f.clientRenegotiation?.accepted, t.features.clientRenegotiation);
    agree(f.compression, t.features.compression);
    agree(f.sessionResumption?.ticket, t.features.sessionResumptionTicket);
    // Session-ID resumption is not compared: without smtpd_tls_session_cache_database (seed 000
    // sets none), it works only when the reconnect lands on the same smtpd process, whose
    // in-memory OpenSSL cache holds the session. Which process takes a connection depends on
    // timing, so either tool may see it or not; seen flipping on a slow, freshly set-up machine.
    // Tickets do not depend on the process (tlsmgr shares their keys) and are compared.
    expect(t.certificate).toMatchObject({ keyType: 'RSA', keyBits: lab.probe!.certificate!.keyBits });
  });
});

describe('throttling', () => {
  it('behind smtpd_client_connection_count_limit = 2, probe retries through 421s and finds what it finds unthrottled', async () => {
    const lab = throttled!;
    const marker = lab.session.postfix.log.size;
    const p = await probe(lab.target);
    const ref = labs.get('opportunistic-25')!.probe!;
    console.log(`throttled: ${p.durationMs} ms, ${p.connections} connections, ${p.retries} retries, ${p.throttles} throttles, peak ${p.peakConcurrency}`);
    expect(p.throttles).toBeGreaterThan(0);
    expect(p.retries).toBeGreaterThan(0);
    expect(p.protocols).toEqual(ref.protocols);
    expect(probeComparable(p).ciphers).toEqual(probeComparable(ref).ciphers);
    expect(p.groupsByProtocol).toEqual(ref.groupsByProtocol);
    const verdicts = (f: ProbeResult['features']) => ({ ...f, clientRenegotiation: f.clientRenegotiation?.accepted ?? null }); // details hold OpenSSL error text with addresses
    expect(verdicts(p.features)).toEqual(verdicts(ref.features));
    const limited = lab.session.postfix.log.since(marker).filter((e) => e.type === 'warning' && /Connection concurrency limit exceeded/.test(e.text));
    expect(limited.length).toBeGreaterThan(0);
  });
});
