import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { knownProfiles, loadProfile } from '../../check/profiles.js';
import { evaluateRule, matches, type ProfileRule } from '../../check/rules.js';
import { MEASURE_NAMES } from '../../check/measures.js';
import { rulesFor } from '../../check/profile-results.js';

/** Real probe results (fixtures/check/README.md says how they were captured). */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/check/probe');
const probeOf = (name: string): ProbeResult => JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as ProbeResult;
const strong = probeOf('three-services-25');
const weak = probeOf('weak-tls-25');

/** Each rule of a profile on one probe result: rule id -> holds (true, false, null for no verdict). */
const verdicts = (profile: string, r: ProbeResult) => Object.fromEntries(loadProfile(profile).rules.map((rule) => [rule.id, evaluateRule(rule, r).holds]));
const failing = (profile: string, r: ProbeResult) => Object.entries(verdicts(profile, r)).filter(([, v]) => v === false).map(([k]) => k).sort();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'profile-rules-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('profiles are data', () => {
  it('knows the four profiles, and every one loads with rules that cite a clause and measure something probe measures', () => {
    expect(knownProfiles()).toEqual(['mozilla-intermediate', 'mozilla-modern', 'ncsc-nl', 'seed-000']);
    for (const name of knownProfiles()) {
      const p = loadProfile(name);
      expect(p.rules.length).toBeGreaterThan(4);
      for (const r of p.rules) {
        expect(r.clause.length, `${name}/${r.id}`).toBeGreaterThan(10);
        expect(MEASURE_NAMES).toContain(r.measure);
        expect(r.target).toBe('smtpd');
      }
    }
  });

  it('an unknown profile name is a usage error listing the known ones', () => {
    expect(() => loadProfile('nist')).toThrow(/unknown profile 'nist' \(known: mozilla-intermediate, mozilla-modern, ncsc-nl, seed-000\)/);
  });

  it('a rule that judges nothing, an unknown measure or a bad regular expression is refused naming the field', () => {
    const write = (rules: unknown[]) => fs.writeFileSync(path.join(tmp, 'x.json'), JSON.stringify({ schema: 'smtp-tls-lab/profile@1', name: 'x', title: 'x', rules }));
    const rule = { id: 'r', title: 't', clause: 'somewhere, clause 1', target: 'smtpd', measure: 'protocols' };
    write([rule]);
    expect(() => loadProfile('x', tmp)).toThrow(/rules\[0\]: expected something to judge/);
    write([{ ...rule, measure: 'vibes', forbid: { version: 'SSLv3' } }]);
    expect(() => loadProfile('x', tmp)).toThrow(/rules\[0\]\.measure: expected one of protocols, suites/);
    write([{ ...rule, forbid: { version: '(' } }]);
    expect(() => loadProfile('x', tmp)).toThrow(/rules\[0\]\.forbid\.version: expected a valid regular expression/);
    write([{ ...rule, forbid: { version: 'SSLv3' }, typo: 1 }]);
    expect(() => loadProfile('x', tmp)).toThrow(/rules\[0\]\.typo: expected one of the rule keys/);
  });

  it('a rule for another target (outbound, DANE) is data the smtpd rules ignore: the engine judges it when asked', () => {
    const outbound: ProfileRule = { id: 'x', title: 'x', clause: 'c', target: 'smtp', measure: 'protocols', forbid: { version: 'TLSv1' } };
    expect(evaluateRule(outbound, weak).holds).toBe(false);
    const ncsc = loadProfile('ncsc-nl');
    const service = { service: 'smtp', port: 25, mode: 'starttls', role: 'relay', roleBecause: '', daemon: 'smtpd', syslogName: null } as const;
    const withOutbound = { ...ncsc, rules: [...ncsc.rules, outbound, { ...outbound, id: 'y', target: 'smtpd', roles: ['submission'] as const }] };
    expect(rulesFor(withOutbound, service).map((r) => r.id)).toEqual(ncsc.rules.map((r) => r.id));
    expect(rulesFor(withOutbound, { ...service, role: 'submission' }).map((r) => r.id)).toEqual([...ncsc.rules.map((r) => r.id), 'y']);
  });
});

describe('the rule engine on real probe results', () => {
  it('ncsc-nl: the strong config holds every rule; the weak one fails exactly cipher suites, key exchange and suite order', () => {
    expect(failing('ncsc-nl', strong)).toEqual([]);
    expect(failing('ncsc-nl', weak)).toEqual(['cipher-suites', 'key-exchange', 'suite-order']);
  });

  it('ncsc-nl rates each item and says the level: TLS 1.0/1.1 are phase-out (a note, not a failure), anonymous DH is insufficient', () => {
    const versions = loadProfile('ncsc-nl').rules.find((r) => r.id === 'tls-versions')!;
    const v = evaluateRule(versions, weak);
    expect(v.holds).toBe(true);
    expect(v.items).toEqual([
      { item: 'TLSv1', level: 'phase-out', ok: true },
      { item: 'TLSv1.1', level: 'phase-out', ok: true },
      { item: 'TLSv1.2', level: 'sufficient', ok: true },
      { item: 'TLSv1.3', level: 'good', ok: true },
    ]);
    expect(v.level).toBe('phase-out');
    expect(v.notes).toEqual(['phase-out: TLSv1, TLSv1.1']);
    expect(v.clause).toMatch(/B1-1/);
    const suites = evaluateRule(loadProfile('ncsc-nl').rules.find((r) => r.id === 'cipher-suites')!, weak);
    expect(suites.level).toBe('insufficient');
    expect(suites.items.find((i) => i.item === 'TLSv1.2 TLS_DH_anon_WITH_AES_128_CBC_SHA')).toEqual({ item: 'TLSv1.2 TLS_DH_anon_WITH_AES_128_CBC_SHA', level: 'insufficient', ok: false });
    expect(suites.items.find((i) => i.item === 'TLSv1.3 TLS_AES_256_GCM_SHA384')?.level).toBe('good');
    expect(suites.measured).toMatch(/accepted cipher suites/);
  });

  it('seed-000: the strong config does what the how-to intends; the weak one misses floor, exclude list, ffdhe4096 and server preference', () => {
    expect(failing('seed-000', strong)).toEqual([]);
    expect(failing('seed-000', weak)).toEqual(['dh-ffdhe4096', 'exclude-list', 'protocol-floor', 'server-preference']);
  });

  it('mozilla-modern refuses TLS 1.2, DHE, X448/secp521r1 and an RSA certificate; mozilla-intermediate refuses the CBC and CCM suites and the extra curves', () => {
    expect(failing('mozilla-modern', strong)).toEqual(['certificate-key', 'certificate-signature', 'cipher-suites', 'dh-size', 'groups', 'tls-versions']);
    expect(failing('mozilla-intermediate', strong)).toEqual(['cipher-suites', 'groups']);
    expect(failing('mozilla-intermediate', weak)).toEqual(['cipher-suites', 'dh-size', 'groups', 'tls-versions']);
    const groups = evaluateRule(loadProfile('mozilla-intermediate').rules.find((r) => r.id === 'groups')!, strong);
    expect(groups.items.filter((i) => !i.ok).map((i) => i.item)).toEqual(['X448', 'secp521r1']);
  });

  it('a measure probe could not determine gives no verdict (never a pass), naming the feature', () => {
    const broken = { ...strong, featureStatus: { ...strong.featureStatus, groups: { status: 'failed', errors: [{ code: 'ETIMEOUT', stage: 'handshake', message: 'stalled', version: null }], note: null } } } as ProbeResult;
    const groups = loadProfile('ncsc-nl').rules.find((r) => r.id === 'groups')!;
    const o = evaluateRule(groups, broken);
    expect(o.holds).toBeNull();
    expect(o.why).toMatch(/probe could not determine groups: ETIMEOUT: stalled/);
  });

  it('matches: regular expressions over whole values (case-insensitive), number ranges, anyOf/allOf', () => {
    const item = { label: 'x', fields: { name: 'TLS_AES_128_GCM_SHA256', bits: 128 } };
    expect(matches(item, { name: 'TLS_AES_128_GCM' })).toBe(false);
    expect(matches(item, { name: 'tls_aes_128_gcm_sha256' })).toBe(true);
    expect(matches(item, { bits: { atLeast: 128, atMost: 256 } })).toBe(true);
    expect(matches(item, { anyOf: [{ bits: { atLeast: 256 } }, { name: '.*GCM.*' }] })).toBe(true);
    expect(matches(item, { allOf: [{ bits: { atLeast: 256 } }, { name: '.*GCM.*' }] })).toBe(false);
    expect(matches(item, { missing: '.*' })).toBe(false);
  });
});
