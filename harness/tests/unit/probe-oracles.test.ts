import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findingDifferences } from '../../bench/probe-bench.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { PROBE_VERSIONS } from '../../enum/cipher-suites.js';
import { ensureOracleTools, type OracleFindings, parseSslscan, parseTestsslJson } from '../../enum/oracles.js';
import { PROBE_SCHEMA, type ProbeResult } from '../../enum/probe-result.js';

/**
 * The oracle parsers on captured real output (harness/tests/golden/oracles/, README there):
 * sslscan 2.0.7 XML + text and testssl.sh 3.0.8 flat JSON, from the four lab configurations
 * of the probe truth test, plus probe's own result on the same containers.
 */

const G = path.join(PROJECT_ROOT, 'harness/tests/golden/oracles');
const read = (f: string) => fs.readFileSync(path.join(G, f), 'utf8');
const CONFIGS = ['opportunistic-25', 'protocol-floor-seed002', 'permissive', 'tls12-only'] as const;

const sslscan = (c: string) => parseSslscan(read(`sslscan-${c}.xml`), read(`sslscan-${c}.txt`));
const testssl = (c: string) => parseTestsslJson(read(`testssl-${c}.json`));
const probeGolden = (c: string) => JSON.parse(read(`probe-${c}.json`)) as ProbeResult;

const comparable = (f: OracleFindings) => ({ protocols: f.protocols, ciphers: f.ciphersByProtocol, groups: f.groups });

describe('sslscan parser (captured sslscan 2.0.7 output)', () => {
  it('opportunistic-25: versions, 40 + 3 suites, groups per version, preferred suites, DHE 4096, certificate', () => {
    const s = sslscan('opportunistic-25');
    expect(s.version).toBe('2.0.7');
    expect(s.protocols).toEqual({ SSLv2: false, SSLv3: false, TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(s.ciphersByProtocol['TLSv1.2']).toHaveLength(40);
    expect(s.ciphersByProtocol['TLSv1.2']).toContain(0xc030);
    expect(s.ciphersByProtocol['TLSv1.2']).toContain(0x0041); // CAMELLIA128-SHA: `high` keeps Camellia
    expect(s.ciphersByProtocol['TLSv1.3']).toEqual([0x1301, 0x1302, 0x1303]);
    expect(s.groupsByProtocol).toEqual({ 'TLSv1.2': [23, 24, 25, 29, 30], 'TLSv1.3': [23, 24, 25, 29, 30] });
    expect(s.preferred).toEqual({ 'TLSv1.2': 0xc030, 'TLSv1.3': 0x1302 });
    expect(s.dhe.bits).toEqual([4096]);
    expect(s.features).toMatchObject({ fallbackScsv: true, secureRenegotiation: false, compression: null });
    expect(s.certificate).toEqual({ signatureAlgorithm: 'sha256WithRSAEncryption', keyType: 'RSA', keyBits: 2048, subject: 'mx.lab.test', altNames: 'DNS:mx.lab.test' });
    expect(s.unknownSuites).toEqual([]);
    expect(s.unknownGroups).toEqual([]);
  });

  it('permissive: TLS 1.0/1.1 with 16 suites each, ten TLS 1.2 curves incl. brainpool, DHE 1024/2048/3072', () => {
    const s = sslscan('permissive');
    expect(s.protocols).toMatchObject({ TLSv1: true, 'TLSv1.1': true, SSLv3: false });
    expect(s.ciphersByProtocol.TLSv1).toHaveLength(16);
    expect(s.ciphersByProtocol['TLSv1.1']).toEqual(s.ciphersByProtocol.TLSv1);
    expect(s.ciphersByProtocol['TLSv1.2']).toHaveLength(56);
    expect(s.groupsByProtocol['TLSv1.2']).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(s.groupsByProtocol['TLSv1.3']).toEqual([23, 24, 25, 29, 30]);
    expect(s.dhe.bits).toEqual([1024, 2048, 3072]);
    expect(s.features.secureRenegotiation).toBe(true);
  });

  it('tls12-only (ECDSA certificate): one TLS 1.2 group, no certificate ("Unable to parse certificate")', () => {
    const s = sslscan('tls12-only');
    expect(s.protocols).toMatchObject({ 'TLSv1.2': true, 'TLSv1.3': false });
    expect(s.ciphersByProtocol['TLSv1.2']).toHaveLength(27);
    expect(s.groupsByProtocol).toEqual({ 'TLSv1.2': [23] });
    expect(s.certificate).toBeNull();
    expect(read('sslscan-tls12-only.txt')).toContain('Unable to parse certificate');
  });

  it('refuses what is not an sslscan XML document', () => {
    expect(() => parseSslscan(read('testssl-opportunistic-25.json'))).toThrow(/not an SSLScan XML document/);
  });
});

describe('testssl parser (captured testssl.sh 3.0.8 --jsonfile output)', () => {
  it('opportunistic-25 (-p -E -f): versions, suites per version from cipher-<proto>_x<hex> ids, curves, ffdhe4096', () => {
    const t = testssl('opportunistic-25');
    expect(t.protocols).toEqual({ SSLv2: false, SSLv3: false, TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(t.ciphersByProtocol['TLSv1.2']).toHaveLength(40);
    expect(t.ciphersByProtocol['TLSv1.3']).toEqual([0x1301, 0x1302, 0x1303]);
    expect(t.groups).toEqual([23, 24, 25, 29, 30]);
    expect(t.dhe).toEqual({ bits: [4096], named: ['ffdhe4096'] });
    expect(t.unknownSuites).toEqual([]);
  });

  it('protocol-floor-seed002: TLS 1.0/1.1 "offered (deprecated)" read as accepted; the DH group named as RFC 3526 group 14 (2048 bits)', () => {
    const t = testssl('protocol-floor-seed002');
    expect(t.protocols).toMatchObject({ TLSv1: true, 'TLSv1.1': true });
    expect(read('testssl-protocol-floor-seed002.json')).toContain('"offered (deprecated)"');
    expect(t.dhe).toEqual({ bits: [2048], named: ['RFC3526/Oakley Group 14'] });
  });

  it('tls12-only: three curves (single-curve probes with an ECDSA P-256 certificate)', () => {
    expect(testssl('tls12-only').groups).toEqual([23, 29, 30]);
  });

  it('opportunistic-25 (-S -R -C -Z): the feature verdicts', () => {
    const t = parseTestsslJson(read('testssl-opportunistic-25-features.json'));
    expect(t.features).toEqual({
      fallbackScsv: null, // "no protocol below TLS 1.2 offered": testssl does not try TLS 1.2 + SCSV
      secureRenegotiation: true,
      clientRenegotiation: false,
      compression: false,
      sessionResumptionTicket: true,
      sessionResumptionId: false,
    });
    expect(t.certificate).toMatchObject({ signatureAlgorithm: 'SHA256 with RSA', keyType: 'RSA', keyBits: 2048, subject: 'mx.lab.test' });
  });

  it('-P (server preferences): opportunistic-25 orders, its TLS 1.2 and 1.3 lists are probe\'s order; seed 002 follows the client', () => {
    const t = parseTestsslJson(read('testssl-opportunistic-25-order.json'));
    expect(t.cipherOrder).toBe('server');
    expect(t.unknownSuites).toEqual([]);
    expect(t.serverOrderByProtocol['TLSv1.3']).toEqual([0x1302, 0x1303, 0x1301]);
    expect(t.serverOrderByProtocol['TLSv1.2']).toHaveLength(40);
    expect(t.serverOrderByProtocol['TLSv1.2']!.slice(0, 2)).toEqual([0xc030, 0x009f]);
    // The capture of -P was made on another container than probe-opportunistic-25.json, same config: same order.
    const p = probeGolden('opportunistic-25');
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) expect(p.ciphersByProtocol[v].map((x) => x.code), v).toEqual(t.serverOrderByProtocol[v]);
    const c = parseTestsslJson(read('testssl-protocol-floor-seed002-order.json'));
    expect(c.cipherOrder).toBe('client');
    expect(c.serverOrderByProtocol).toEqual({});
    // Without -P, testssl says nothing about the order.
    expect(testssl('opportunistic-25').cipherOrder).toBeNull();
  });

  it('a JSON file cut short (testssl killed mid-run) is an ETOOL error, not a partial result', () => {
    const whole = read('testssl-opportunistic-25.json');
    expect(() => parseTestsslJson(whole.slice(0, Math.floor(whole.length / 2)))).toThrow(/not valid JSON/);
    expect(() => parseTestsslJson('{"id":"x"}')).toThrow(/not the flat format/);
  });
});

describe('the captures agree with each other and with probe', () => {
  for (const c of CONFIGS) {
    it(`${c}: sslscan and testssl report the same versions and suites; probe the same as both (groups: see the truth test)`, () => {
      const s = sslscan(c);
      const t = testssl(c);
      for (const v of PROBE_VERSIONS) {
        expect(t.protocols[v], `${c} ${v}`).toBe(s.protocols[v]);
        expect(t.ciphersByProtocol[v], `${c} ${v}`).toEqual(s.ciphersByProtocol[v]);
      }
      const p = probeGolden(c);
      expect(p.schema).toBe(PROBE_SCHEMA);
      expect(p.complete, `${c}: ${JSON.stringify(p.featureStatus)}`).toBe(true);
      const probeSide = {
        protocols: p.protocols,
        ciphers: Object.fromEntries(PROBE_VERSIONS.map((v) => [v, p.ciphersByProtocol[v].map((x) => x.code)])),
        groups: p.groups.map((g) => g.code),
      };
      const suitesOnly = (d: string[]) => d.filter((x) => !x.startsWith('groups:'));
      expect(suitesOnly(findingDifferences(probeSide, comparable(s), 'sslscan'))).toEqual([]);
      expect(suitesOnly(findingDifferences(probeSide, comparable(t), 'testssl'))).toEqual([]);
    });
  }

  it('groups: identical everywhere except tls12-only, where probe finds five and the single-curve oracles fewer', () => {
    for (const c of ['opportunistic-25', 'protocol-floor-seed002', 'permissive'] as const) {
      const pg = probeGolden(c).groups.map((g) => g.code).sort((a, b) => a - b);
      expect(sslscan(c).groups, c).toEqual(pg);
      expect(testssl(c).groups, c).toEqual(pg);
    }
    expect(probeGolden('tls12-only').groupsByProtocol).toEqual({ 'TLSv1.2': ['X25519', 'X448', 'prime256v1', 'secp521r1', 'secp384r1'] });
  });
});

describe('the oracles install themselves (ensureOracleTools)', () => {
  /** A PATH holding only a stand-in apt-get that behaves like a fresh machine's: no package lists until `apt-get update`. */
  function freshMachine(opts: { updateWorks: boolean }) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-apt-'));
    const calls = path.join(dir, 'calls.log');
    const lists = path.join(dir, 'lists-updated');
    fs.writeFileSync(
      path.join(dir, 'apt-get'),
      [
        '#!/bin/sh',
        `echo "$*" >> ${calls}`,
        'case " $* " in',
        `  *" update "*) ${opts.updateWorks ? `/usr/bin/touch ${lists}; exit 0` : 'echo "E: Could not resolve the mirror" >&2; exit 100'} ;;`,
        `  *" install "*) [ -f ${lists} ] || { echo "E: Unable to locate package sslscan" >&2; exit 100; }`,
        `    for t in sslscan testssl; do printf '#!/bin/sh\\n' > ${dir}/$t; /usr/bin/chmod 755 ${dir}/$t; done; exit 0 ;;`,
        'esac',
        'exit 1',
      ].join('\n'),
      { mode: 0o755 },
    );
    return { dir, calls: () => fs.readFileSync(calls, 'utf8').trim().split('\n'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
  }

  async function withPath<T>(dir: string, work: () => Promise<T>): Promise<T> {
    const saved = process.env.PATH;
    // Only the stand-in: the real tools (in /usr/bin here) must not be found. Its script names its commands by absolute path.
    process.env.PATH = dir;
    try {
      return await work();
    } finally {
      process.env.PATH = saved;
    }
  }

  it.runIf(process.getuid?.() === 0)('a failed install is followed by apt-get update and a second install, which brings both tools', async () => {
    const m = freshMachine({ updateWorks: true });
    try {
      const tools = await withPath(m.dir, () => ensureOracleTools({ timeoutMs: 10_000 }));
      expect(tools).toEqual({ sslscan: path.join(m.dir, 'sslscan'), testssl: path.join(m.dir, 'testssl'), problems: [] });
      expect(m.calls().map((c) => c.replace('-o DPkg::Lock::Timeout=120 ', ''))).toEqual(['install -y --no-install-recommends sslscan testssl.sh', 'update', 'install -y --no-install-recommends sslscan testssl.sh']);
    } finally {
      m.cleanup();
    }
  });

  it.runIf(process.getuid?.() === 0)('when even that fails, the tools are null and the problems say what each apt-get step answered', async () => {
    const m = freshMachine({ updateWorks: false });
    try {
      const tools = await withPath(m.dir, () => ensureOracleTools({ timeoutMs: 10_000 }));
      expect(tools.sslscan).toBeNull();
      expect(tools.testssl).toBeNull();
      expect(tools.problems.join('\n')).toContain('apt-get update failed (exit 100): E: Could not resolve the mirror');
      expect(tools.problems.join('\n')).toContain('E: Unable to locate package sslscan');
      expect(tools.problems.join('\n')).toContain('sslscan is still missing');
    } finally {
      m.cleanup();
    }
  });
});
