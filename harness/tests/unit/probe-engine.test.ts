import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { probe } from '../../enum/probe.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { renderProbe } from '../../enum/render-probe.js';
import { FakeSmtpServer } from './probe-fake-server.js';

/**
 * The engine end to end against node:tls as the server, on 127.0.0.1 (no Docker): what it
 * finds must be exactly what the server was configured with, through STARTTLS, implicit TLS
 * and plain TLS, and the same again when the server pushes back with 421s and resets.
 */

let tlsOptions: { cert: string; key: string };
const servers: FakeSmtpServer[] = [];

const SERVER_CIPHERS = 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256';

async function server(o: Parameters<typeof FakeSmtpServer.start>[0]): Promise<FakeSmtpServer> {
  const s = await FakeSmtpServer.start(o);
  servers.push(s);
  return s;
}

function baseTls(extra: object = {}) {
  return { ...tlsOptions, minVersion: 'TLSv1.2' as const, maxVersion: 'TLSv1.3' as const, ciphers: SERVER_CIPHERS, honorCipherOrder: true, ecdhCurve: 'P-256:X25519', ...extra };
}

const codes = (r: ProbeResult, v: keyof ProbeResult['ciphersByProtocol']) => r.ciphersByProtocol[v].map((s) => s.code);

beforeAll(async () => {
  const pki = await LabPki.create();
  const leaf = await pki.issue({ commonName: 'fake.test', sans: ['fake.test'], key: 'rsa-2048' });
  tlsOptions = { cert: `${leaf.cert.trimEnd()}\n${leaf.chain}`, key: leaf.key };
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('probe against node:tls on loopback', () => {
  let clean: ProbeResult;
  let cleanServer: FakeSmtpServer;

  it('STARTTLS: finds exactly the configured versions, suites in server order, groups, certificate and features', async () => {
    cleanServer = await server({
      mode: 'starttls',
      banner: '220 fake.test ESMTP \x1b[31mred\x1b[0m',
      ehloReply: () => '250-fake.test\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 STARTTLS\r\n',
      tls: baseTls(),
    });
    clean = await probe({ host: '127.0.0.1', port: cleanServer.port, mode: 'starttls' });
    expect(clean.protocols).toEqual({ SSLv3: false, TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': true, 'TLSv1.3': true });
    expect(codes(clean, 'TLSv1.2')).toEqual([0xc030, 0xc02f, 0x002f]);
    expect(codes(clean, 'TLSv1.3')).toEqual([0x1303, 0x1301]);
    expect(clean.order).toMatchObject({ 'TLSv1.2': 'server', 'TLSv1.3': 'server' });
    expect(clean.groupsByProtocol).toEqual({ 'TLSv1.3': ['prime256v1', 'X25519'], 'TLSv1.2': ['prime256v1', 'X25519'] });
    expect(clean.groups.map((g) => g.code).sort()).toEqual([23, 29]);
    expect(clean.dhe).toBeNull();
    expect(clean.certificate).toMatchObject({ commonName: 'fake.test', keyType: 'rsa', keyBits: 2048, signatureAlgorithm: 'sha256WithRSAEncryption', chainLength: 2, source: 'certificate-message' });
    expect(clean.features).toMatchObject({ secureRenegotiation: true, compression: false, extendedMasterSecret: true, fallbackScsv: true });
    expect(clean.features.sessionResumption?.ticket).toBe(true);
    expect(clean.features.clientRenegotiation).not.toBeNull();
    expect(clean.starttls).toMatchObject({ authBeforeTls: true, authMechanismsBeforeTls: ['PLAIN', 'LOGIN'], capabilitiesAfter: ['PIPELINING', 'SIZE 1000'] });
    expect(clean.starttls?.banner?.lines[0]).toContain('\x1b[31m'); // stored exactly
    expect(clean.retries).toBe(0);
    expect(clean.complete).toBe(true);
    expect(Object.entries(clean.featureStatus).filter(([, st]) => st.status !== 'ok')).toEqual([]);
    expect(clean.connections).toBe(cleanServer.connections);
    expect(cleanServer.maxOpen).toBeLessThanOrEqual(8);
    expect(clean.peakConcurrency).toBeLessThanOrEqual(8);
  });

  it('the human report escapes server text (no raw escape sequences reach the terminal)', () => {
    const text = renderProbe(clean).join('\n');
    expect(text).not.toContain('\x1b');
    expect(text).toContain('\\x1b[31mred');
    expect(text).toContain('AUTH offered before TLS: PLAIN LOGIN');
  });

  it('under pushback (421 on every 3rd connection, reset on every 7th) it retries and finds the same', async () => {
    const s = await server({ mode: 'starttls', tls: baseTls(), pushback: (n) => (n % 7 === 0 ? 'reset' : n % 3 === 0 ? '421' : null) });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' });
    expect(r.protocols).toEqual(clean.protocols);
    expect(r.ciphersByProtocol).toEqual(clean.ciphersByProtocol);
    expect(r.groupsByProtocol).toEqual(clean.groupsByProtocol);
    expect(r.retries).toBeGreaterThan(0);
    expect(r.throttles).toBeGreaterThan(0);
    expect(r.connections).toBe(s.connections);
  });

  it('concurrency 1 makes one connection at a time and finds the same', async () => {
    const s = await server({ mode: 'starttls', tls: baseTls() });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, { concurrency: 1, scope: 'enumeration' });
    expect(r.peakConcurrency).toBe(1);
    expect(s.maxOpen).toBeLessThanOrEqual(2); // the server may see the next connection before the last one's close
    expect(r.ciphersByProtocol).toEqual(clean.ciphersByProtocol);
    expect(r.features.sessionResumption).toBeNull();
    expect(r.starttls?.capabilitiesAfter).toBeNull();
  });

  it('client order: a server without honorCipherOrder follows the client, and probe says so', async () => {
    const s = await server({ mode: 'starttls', tls: baseTls({ honorCipherOrder: false }) });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, { scope: 'enumeration' });
    expect(r.order['TLSv1.2']).toBe('client');
    expect(new Set(codes(r, 'TLSv1.2'))).toEqual(new Set([0xc030, 0xc02f, 0x002f]));
  });

  it('implicit TLS: TLS 1.0 to 1.2 at security level 0, the greeting and EHLO inside TLS', async () => {
    const s = await server({
      mode: 'implicit',
      tls: { ...tlsOptions, minVersion: 'TLSv1', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0', honorCipherOrder: true, ecdhCurve: 'X25519' },
    });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'implicit' });
    expect(r.protocols).toEqual({ SSLv3: false, TLSv1: true, 'TLSv1.1': true, 'TLSv1.2': true, 'TLSv1.3': false });
    for (const v of ['TLSv1', 'TLSv1.1', 'TLSv1.2'] as const) expect(codes(r, v)).toEqual([0xc013, 0x0035]);
    expect(r.groupsByProtocol).toEqual({ 'TLSv1.2': ['X25519'] });
    expect(r.features.fallbackScsv).toBe(true);
    expect(r.starttls).toMatchObject({ banner: { code: 220 }, capabilitiesBefore: null, capabilitiesAfter: ['PIPELINING', 'SIZE 1000'] });
  });

  it('plain TLS (no SMTP): TLS 1.3 only; the certificate comes from one complete node:tls handshake', async () => {
    const s = await server({ mode: 'plain', tls: { ...tlsOptions, minVersion: 'TLSv1.3', ciphers: 'TLS_AES_256_GCM_SHA384' } });
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'plain' });
    expect(r.protocols).toEqual({ SSLv3: false, TLSv1: false, 'TLSv1.1': false, 'TLSv1.2': false, 'TLSv1.3': true });
    expect(codes(r, 'TLSv1.3')).toEqual([0x1302]);
    expect(r.certificate).toMatchObject({ commonName: 'fake.test', source: 'node-tls-handshake', keyType: 'rsa' });
    expect(r.starttls).toBeNull();
    expect(r.features).toMatchObject({ secureRenegotiation: null, clientRenegotiation: null, fallbackScsv: null });
    expect(r.features.sessionResumption).toMatchObject({ protocol: 'TLSv1.3', id: null });
    // Not applicable is not a failure: those features say why they did not run.
    expect(r.complete).toBe(true);
    expect(r.featureStatus.fallbackScsv).toMatchObject({ status: 'not-run', note: expect.stringContaining('fewer than two versions') });
    expect(r.featureStatus.renegotiation).toMatchObject({ status: 'not-run', note: expect.stringContaining('TLS 1.3 only') });
    expect(r.featureStatus.starttls).toMatchObject({ status: 'not-run', note: expect.stringContaining('plain TLS') });
  });
});
