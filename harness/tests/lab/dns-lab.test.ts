/**
 * The lab DNS (nsd + unbound in the dns node) on real containers: it answers the lab zones,
 * validated, and nothing else; the TLSA data it serves is what openssl computes from the same
 * certificate and what `smtp-tls-lab tlsa` prints; a zone that cannot be signed makes the
 * scenario an EDNS error quoting the signer, never a DANE verdict.
 */
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';
import { tlsaData } from '../../dns/tlsa.js';
import { tlsaCommand } from '../../cli/tlsa-command.js';
import { useScenarioSession } from './scenario-fixture.js';

describe('lab DNS (dane-valid)', () => {
  const session = useScenarioSession('dane-valid');

  it('a lab container resolves through the lab resolver only, and it refuses every name outside the lab zones', async () => {
    const sender = session().postfix;
    const dns = await session().node('dns', 'dns');
    const resolv = await sender.exec(['cat', '/etc/resolv.conf']);
    expect(resolv.output.trim()).toBe(`nameserver ${dns.address}`);
    // Names that exist on the internet: the lab resolver refuses them at once (local-zone "." refuse), it never asks.
    for (const name of ['example.com', 'debian.org', '.']) {
      const r = await sender.exec(['dig', '+time=2', '+tries=1', name, 'NS']);
      expect(r.output, name).toMatch(/status: REFUSED/);
    }
    const outside = await dns.query('example.com', 'A');
    expect(outside.status).toBe('REFUSED');
    expect(outside.answers).toEqual([]);
    // The lab zone: answered and validated.
    const mx = await dns.query('ee311.dane.lab.test', 'MX');
    expect(mx).toMatchObject({ status: 'NOERROR', ad: true, answers: ['10 mx-ee311.dane.lab.test.'] });
  });

  it('the served TLSA equals openssl on the same certificate and `smtp-tls-lab tlsa`', async () => {
    const s = session();
    const pair = s.certs.pairs.get('ee311')!;
    const dns = await s.node('dns', 'dns');
    const served = await dns.query('_2531._tcp.mx-ee311.dane.lab.test', 'TLSA');
    expect(served.ad).toBe(true);
    const ours = tlsaData(pair.cert, 3, 1, 1);
    expect(served.answers).toEqual([ours]);
    // openssl in the lab image: SPKI DER, then SHA-256 (the 3 1 1 recipe of RFC 6698 / 7671).
    const o = await s.postfix.exec(['sh', '-c', 'openssl x509 -in /etc/postfix/lab/tls/ee311.crt -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum']);
    expect(`3 1 1 ${o.output.split(' ')[0]}`).toBe(ours);
    const full = await s.postfix.exec(['sh', '-c', 'openssl x509 -in /etc/postfix/lab/tls/ee301.leaf.crt -outform DER | sha256sum']);
    expect(`3 0 1 ${full.output.split(' ')[0]}`).toBe(tlsaData(s.certs.pairs.get('ee301')!.cert, 3, 0, 1));
    const printed: string[] = [];
    const file = path.join(s.certs.dir, 'ee311.crt');
    expect(tlsaCommand({ cert: file, usage: 3, selector: 1, mtype: 1, port: 2531, host: 'mx-ee311.dane.lab.test', out: (l) => printed.push(l) })).toBe(0);
    expect(printed).toEqual([`_2531._tcp.mx-ee311.dane.lab.test. IN TLSA ${ours}`]);
  });
});

describe('lab DNS bad input', () => {
  it('a zone that cannot be signed is EDNS (a lab error quoting the signer), and nothing is left running', async () => {
    const base = loadScenario(path.join(SCENARIOS_DIR, 'dane-valid'));
    const broken = { ...base, dns: { zones: base.dns!.zones.map((z, i) => (i === 1 ? { ...z, records: [...z.records, 'broken A not-an-address'] } : z)) } };
    const err = await ScenarioSession.start(broken, inject('postfixImage')).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('EDNS');
    expect((err as LabError).infrastructure).toBe(true);
    expect(`${(err as LabError).message}\n${(err as LabError).detail ?? ''}`).toMatch(/ldns-signzone|not-an-address|parse/i);
  }, 120_000);

  it('a zone meant to validate that does not (its SOA signature broken) is EDNS quoting unbound\'s validation failure, never a DANE verdict', async () => {
    const base = loadScenario(path.join(SCENARIOS_DIR, 'dane-valid'));
    const broken = { ...base, dns: { zones: base.dns!.zones.map((z, i) => (i === 1 ? { ...z, dnssec: 'corrupt' as const, corruptType: 'SOA' } : z)) } };
    const err = await ScenarioSession.start(broken, inject('postfixImage')).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (e: unknown) => e,
    );
    expect((err as LabError).code).toBe('EDNS');
    expect((err as LabError).message).toMatch(/zone dane\.lab\.test \(corrupt:SOA\): resolver answered SERVFAIL with ad=no, expected NOERROR yes; unbound: 6 \(DNSSEC Bogus\).*signature crypto failed/);
  }, 120_000);
});
