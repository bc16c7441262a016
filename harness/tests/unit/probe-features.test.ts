import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { probe, type ProbeOptions } from '../../enum/probe.js';
import { runProbeCommand } from '../../enum/probe-command.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { renderProbe } from '../../enum/render-probe.js';
import { FakeSmtpServer, type FakeServerOptions } from './probe-fake-server.js';

/**
 * Each feature of the probe fails on its own: a fake server (node:tls on loopback) that stalls
 * on one kind of ClientHello makes exactly that feature fail, with its error (code, stage,
 * message) in featureStatus, and every other finding is the same as against the same server
 * without the stall.
 */

const TLS_FALLBACK_SCSV = 0x5600;
const TLS11 = 0x0302;
/** Short answer waits so a stalled feature fails fast; everything else answers at once on loopback. */
const QUICK: ProbeOptions = { timeouts: { serverAnswer: 300 } };

let tlsOptions: Record<string, unknown>;
const servers: FakeSmtpServer[] = [];
let reference: ProbeResult;

async function server(extra: Partial<FakeServerOptions> = {}): Promise<FakeSmtpServer> {
  const s = await FakeSmtpServer.start({ mode: 'starttls', tls: tlsOptions, ...extra });
  servers.push(s);
  return s;
}

beforeAll(async () => {
  const pki = await LabPki.create();
  const leaf = await pki.issue({ commonName: 'fake.test', sans: ['fake.test'], key: 'rsa-2048' });
  // TLS 1.1 to 1.3, so there is a version to fall back to and a legacy version below the top.
  tlsOptions = {
    cert: `${leaf.cert.trimEnd()}\n${leaf.chain}`,
    key: leaf.key,
    minVersion: 'TLSv1.1',
    maxVersion: 'TLSv1.3',
    ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES128-SHA:TLS_AES_128_GCM_SHA256:@SECLEVEL=0',
    honorCipherOrder: true,
    ecdhCurve: 'X25519:P-256',
  };
  reference = await probe({ host: '127.0.0.1', port: (await server()).port, mode: 'starttls' }, QUICK);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** Everything except the named top-level fields and the counters, which differ between runs. */
function findingsWithout(r: ProbeResult, ...drop: string[]): Record<string, unknown> {
  const { durationMs, startedAt, connections, retries, throttles, helloAttempts, completeHandshakes, peakConcurrency, target, featureStatus, complete, warnings, ...rest } = r;
  void [durationMs, startedAt, connections, retries, throttles, helloAttempts, completeHandshakes, peakConcurrency, target, featureStatus, complete, warnings];
  const out: Record<string, unknown> = { ...rest, features: { ...r.features, clientRenegotiation: r.features.clientRenegotiation?.accepted ?? null } };
  for (const d of drop) delete out[d];
  return out;
}

describe('one feature fails, the others are still found', () => {
  it('the reference run (no stall) is complete: every feature ok or not run', () => {
    expect(reference.complete).toBe(true);
    expect(reference.protocols).toEqual({ SSLv3: false, TLSv1: false, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(reference.features.fallbackScsv).toBe(true);
    expect(Object.values(reference.featureStatus).every((s) => s.status === 'ok')).toBe(true);
  });

  it('fallback SCSV stalls: fallbackScsv fails with ETIMEOUT at handshake, every other finding is the reference', async () => {
    const s = await server({ stallOnHello: (h) => h.ciphers.includes(TLS_FALLBACK_SCSV) });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, QUICK);
    expect(r.complete).toBe(false);
    expect(r.features.fallbackScsv).toBeNull();
    expect(r.featureStatus.fallbackScsv.status).toBe('failed');
    expect(r.featureStatus.fallbackScsv.errors).toEqual([
      { code: 'ETIMEOUT', stage: 'handshake', message: expect.stringContaining('did not answer a ClientHello within 300 ms (TLSv1.2 with TLS_FALLBACK_SCSV'), version: null },
    ]);
    for (const [name, st] of Object.entries(r.featureStatus)) if (name !== 'fallbackScsv') expect(st.status, name).toBe('ok');
    const { fallbackScsv: _a, ...others } = r.features;
    const { fallbackScsv: _b, ...refOthers } = reference.features;
    expect({ ...findingsWithout(r, 'features'), features: { ...others, clientRenegotiation: others.clientRenegotiation?.accepted } }).toEqual({
      ...findingsWithout(reference, 'features'),
      features: { ...refOthers, clientRenegotiation: refOthers.clientRenegotiation?.accepted },
    });
  });

  it('TLS 1.1 hellos stall: TLS 1.1 is unknown (null, not "refused"), its suites and order fail with it; everything found at 1.2 and 1.3 stays', async () => {
    const s = await server({ stallOnHello: (h) => h.legacyVersion === TLS11 });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, QUICK);
    expect(r.protocols).toEqual({ ...reference.protocols, 'TLSv1.1': null });
    expect(r.protocolAnswers['TLSv1.1']).toMatch(/^not determined \(ETIMEOUT at handshake: /);
    expect(r.featureStatus.protocols.errors).toEqual([expect.objectContaining({ code: 'ETIMEOUT', stage: 'handshake', version: 'TLSv1.1' })]);
    expect(r.featureStatus.suites.errors).toEqual([expect.objectContaining({ code: 'ETIMEOUT', version: 'TLSv1.1', message: expect.stringContaining('it needs protocols for TLSv1.1') })]);
    expect(r.featureStatus.order.errors.map((e) => e.version)).toEqual(['TLSv1.1']);
    expect(r.ciphersByProtocol['TLSv1.1']).toEqual([]);
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      expect(r.ciphersByProtocol[v], v).toEqual(reference.ciphersByProtocol[v]);
      expect(r.order[v], v).toBe(reference.order[v]);
    }
    expect(r.groupsByProtocol).toEqual(reference.groupsByProtocol);
    expect(r.certificate).toEqual(reference.certificate);
    // "Never compressed" needs every legacy version: with TLS 1.1 unknown it is not decided either.
    expect(r.features.compression).toBeNull();
    expect(r.featureStatus.compression.status).toBe('failed');
    // Read at TLS 1.2, the top version: unaffected.
    expect(r.features).toMatchObject({ secureRenegotiation: true, extendedMasterSecret: true, fallbackScsv: true, sessionTicketExtension: reference.features.sessionTicketExtension });
    expect(r.features.sessionResumption).toEqual(reference.features.sessionResumption);
    for (const f of ['groups', 'certificate', 'renegotiation', 'resumption', 'extendedMasterSecret', 'fallbackScsv', 'starttls'] as const) expect(r.featureStatus[f].status, f).toBe('ok');
  });

  it('the top version up to TLS 1.2 unknown: what is read there fails as a dependency instead of being read at the version below', async () => {
    // TLS 1.0 and 1.1 only; TLS 1.1 hellos stall, so TLS 1.0 is the highest version known, but maybe not the highest there is.
    const s = await server({ tls: { ...tlsOptions, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' }, stallOnHello: (h) => h.legacyVersion === TLS11 });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, QUICK);
    expect(r.protocols).toEqual({ SSLv3: false, TLSv1: true, 'TLSv1.1': null, 'TLSv1.2': false, 'TLSv1.3': false });
    expect(r.ciphersByProtocol.TLSv1.length).toBeGreaterThan(1);
    for (const f of ['groups', 'renegotiation', 'extendedMasterSecret', 'resumption', 'compression'] as const) {
      expect(r.featureStatus[f].errors, f).toEqual([expect.objectContaining({ code: 'ETIMEOUT', version: 'TLSv1.1', message: expect.stringContaining('it needs protocols for TLSv1.1') })]);
    }
    expect(r.features).toMatchObject({ secureRenegotiation: null, extendedMasterSecret: null, compression: null, sessionTicketExtension: null, sessionResumption: null, clientRenegotiation: null });
    expect(r.groupsByProtocol).toEqual({});
    // The certificate is the server's whichever version carried it: read from TLS 1.0's Certificate message.
    expect(r.certificate).toMatchObject({ commonName: 'fake.test', source: 'certificate-message' });
    expect(r.featureStatus.certificate.status).toBe('ok');
  });

  it('the deadline cuts a stalled feature short: the result keeps what was found, the stalled version fails with the deadline', async () => {
    const s = await server({ stallOnHello: (h) => h.legacyVersion === TLS11 });
    const started = Date.now();
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, { timeouts: { serverAnswer: 60_000 }, deadlineMs: 1_500 });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(r.protocols['TLSv1.1']).toBeNull();
    expect(r.featureStatus.protocols.errors).toEqual([expect.objectContaining({ code: 'ETIMEOUT', version: 'TLSv1.1', message: "timeout 'probe total' expired after 1500 ms" })]);
    expect(r.protocols['TLSv1.2']).toBe(true);
    expect(r.ciphersByProtocol['TLSv1.3']).toEqual(reference.ciphersByProtocol['TLSv1.3']);
  });

  it('the command prints the findings, then the failed feature with its error, and exits 2', async () => {
    const s = await server({ stallOnHello: (h) => h.ciphers.includes(TLS_FALLBACK_SCSV) });
    const out: string[] = [];
    const err: string[] = [];
    const code = await runProbeCommand([`127.0.0.1:${s.port}`, '--timeout', '300'], { out: (l) => out.push(l), err: (l) => err.push(l) });
    expect(code).toBe(2);
    const text = out.join('\n');
    expect(text).toContain('TLSv1.3 suites: 1');
    expect(text).toMatch(/Not determined[^\n]*\n {2}- fallbackScsv: ETIMEOUT at handshake: the server did not answer a ClientHello within 300 ms/);
    expect(err.join('\n')).toContain('some features could not be determined');
    expect(renderProbe(reference).join('\n')).not.toContain('Not determined');
  });
});
