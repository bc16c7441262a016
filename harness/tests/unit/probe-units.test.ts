import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { LabError } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { describeDer, signatureAlgorithmOf, summarizeChain } from '../../enum/cert-summary.js';
import { AdaptivePool } from '../../enum/pool.js';
import { parseProbeArgs } from '../../enum/probe-command.js';
import { ServerAnswerReader } from '../../enum/server-answer.js';

const RECORDS = path.join(PROJECT_ROOT, 'harness/tests/golden/tls-records');

/** The certificates real Postfix sent in the golden TLS 1.2 flight (opportunistic-25). */
function goldenChain(): Buffer[] {
  const r = new ServerAnswerReader();
  r.push(fs.readFileSync(path.join(RECORDS, 'tls12-ecdhe-rsa.bin')));
  const a = r.answer();
  if (a?.kind !== 'server-hello' || !a.certificates) throw new Error('golden flight without certificates');
  return [...a.certificates];
}

describe('certificate summary from DER', () => {
  it('the chain real Postfix sent: RSA 2048 leaf signed sha256WithRSAEncryption by the lab RSA CA', () => {
    const s = summarizeChain(goldenChain(), 'certificate-message', new Date('2026-12-01T00:00:00Z'))!;
    expect(s).toMatchObject({
      commonName: 'mx.lab.test',
      sans: ['DNS:mx.lab.test'],
      keyType: 'rsa',
      keyBits: 2048,
      curve: null,
      signatureAlgorithm: 'sha256WithRSAEncryption',
      chainLength: 2,
      source: 'certificate-message',
      selfIssued: false,
    });
    expect(s.issuer).toContain('CN=smtp-tls-lab RSA CA');
    expect(s.chain[1]).toMatchObject({ selfIssued: true, signatureAlgorithm: 'sha256WithRSAEncryption' });
    expect(s.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('an ECDSA P-256 certificate from the lab PKI: ec 256 bits, ecdsa-with-SHA256', async () => {
    const pki = await LabPki.create();
    const leaf = await pki.issue({ commonName: 'ec.lab.test', key: 'ec-p256' });
    const der = Buffer.from(leaf.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    expect(describeDer(der)).toMatchObject({ keyType: 'ec', keyBits: 256, curve: 'prime256v1', signatureAlgorithm: 'ecdsa-with-SHA256', commonName: 'ec.lab.test' });
  });

  it('bytes that are not a certificate: "unknown" signature, a placeholder entry, never a throw', () => {
    expect(signatureAlgorithmOf(Buffer.from([0x30, 0x82, 0xff]))).toBe('unknown');
    const s = summarizeChain([Buffer.from('not a certificate')], 'certificate-message')!;
    expect(s).toMatchObject({ subject: '(unparseable certificate)', chainLength: 1, validNow: false });
    expect(summarizeChain([], 'certificate-message')).toBeNull();
  });
});

describe('AdaptivePool', () => {
  const tick = () => new Promise((r) => setImmediate(r));

  it('never runs more than its limit; halves on throttle, grows back one slot per clean streak', async () => {
    const pool = new AdaptivePool(4, 2);
    let running = 0;
    let most = 0;
    const gates: (() => void)[] = [];
    const job = () =>
      pool.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
      });
    const jobs = Array.from({ length: 10 }, job);
    await tick();
    expect(running).toBe(4);
    pool.throttled();
    expect(pool.limit).toBe(2);
    while (gates.length) {
      gates.shift()!();
      await tick();
      await tick();
    }
    await Promise.all(jobs);
    expect(most).toBe(4);
    expect(pool.peak).toBe(4);
    for (let i = 0; i < 4; i++) pool.succeeded();
    expect(pool.limit).toBe(4);
    pool.throttled();
    pool.throttled();
    pool.throttled();
    expect(pool.limit).toBe(1);
  });

  it('abort rejects waiting and later acquires with the reason', async () => {
    const pool = new AdaptivePool(1);
    const release = await pool.acquire();
    const waiting = pool.acquire();
    const reason = new LabError('ETIMEOUT', 'stop');
    pool.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    await expect(pool.acquire()).rejects.toBe(reason);
    release();
    expect(() => new AdaptivePool(0)).toThrow(LabError);
  });
});

describe('probe command line', () => {
  it('mode from the port unless given; IPv6 in brackets; --timeout bounds every wait', () => {
    expect(parseProbeArgs(['192.0.2.1:25'])).toMatchObject({ host: '192.0.2.1', port: 25, mode: 'starttls', json: null });
    expect(parseProbeArgs(['192.0.2.1:465'])).toMatchObject({ port: 465, mode: 'implicit' });
    expect(parseProbeArgs(['192.0.2.1:465', '--starttls'])).toMatchObject({ mode: 'starttls' });
    expect(parseProbeArgs(['192.0.2.1', '--implicit'])).toMatchObject({ port: 465, mode: 'implicit' });
    expect(parseProbeArgs(['[2001:db8::1]:587'])).toMatchObject({ host: '2001:db8::1', port: 587, mode: 'starttls' });
    expect(parseProbeArgs(['h:25', '--plain', '--json=out.json', '--concurrency', '3', '--timeout', '700', '--scope', 'enumeration']).options).toEqual({
      concurrency: 3,
      timeouts: { connect: 700, banner: 700, reply: 700, serverAnswer: 700, handshake: 700 },
      scope: 'enumeration',
    });
    expect(parseProbeArgs(['h:25', '--json', '-']).json).toBe('-');
  });
});
