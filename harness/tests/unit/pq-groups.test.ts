import { afterAll, describe, expect, it } from 'vitest';
import { LabPki } from '../../certs/lab-pki.js';
import { GROUP, groupByCode, groupByName, NAMED_GROUPS } from '../../enum/cipher-suites.js';
import { buildClientHello, keyShareFor } from '../../enum/client-hello.js';
import { groupEntries } from '../../enum/features/groups.js';
import { byteDecode12, byteEncode12, encapsulationKeyBytes, mlKemEncapsulationKey, passesModulusCheck } from '../../enum/ml-kem-share.js';
import { probe } from '../../enum/probe.js';
import type { ProbeResult } from '../../enum/probe-result.js';
import { ALL_GROUPS, EC_GROUPS } from '../../enum/prober.js';
import { renderProbe } from '../../enum/render-probe.js';
import { groupName, helloView } from '../../peer/hello-view.js';
import { readClientHello } from '../../tls/client-hello-reader.js';
import { FakeSmtpServer } from './probe-fake-server.js';

/**
 * The post-quantum groups in the lab's tables: IANA codes and names, the key shares the probe
 * builds for them (valid ML-KEM encapsulation keys, hybrid halves in the draft's order), the
 * captured-hello view naming them, and the probe offering them to a server that does not know
 * them (node:tls on OpenSSL 3.0), which must then say "none". Against real Postfix on trixie
 * and sid: harness/tests/lab/pq-probe.test.ts.
 */

const PQ = [
  [0x0200, 'MLKEM512', 'kem', 800],
  [0x0201, 'MLKEM768', 'kem', 1184],
  [0x0202, 'MLKEM1024', 'kem', 1568],
  [0x11eb, 'SecP256r1MLKEM768', 'hybrid', 65 + 1184],
  [0x11ec, 'X25519MLKEM768', 'hybrid', 1184 + 32],
  [0x11ed, 'SecP384r1MLKEM1024', 'hybrid', 97 + 1568],
] as const;

describe('post-quantum groups in the table', () => {
  it.each(PQ)('code %d is %s (%s)', (code, name, kind) => {
    expect(groupByCode(code)).toMatchObject({ code, iana: name, kind, openssl: null });
    expect(groupByName(name.toLowerCase())?.code).toBe(code);
    expect(groupName(code)).toBe(name);
  });

  it('TLS 1.3 enumerates them; TLS 1.2 never offers them (no ML-KEM below TLS 1.3)', () => {
    for (const [code] of PQ) {
      expect(ALL_GROUPS).toContain(code);
      expect(EC_GROUPS).not.toContain(code);
    }
    expect(new Set(NAMED_GROUPS.map((g) => g.code)).size).toBe(NAMED_GROUPS.length);
  });

  it('a probe result names them and calls them hybrid or kem', () => {
    const { groups, groupsByProtocol } = groupEntries(new Map([['TLSv1.3', [GROUP.x25519mlkem768, GROUP.x25519]]]));
    expect(groupsByProtocol).toEqual({ 'TLSv1.3': ['X25519MLKEM768', 'X25519'] });
    expect(groups[0]).toMatchObject({ code: 0x11ec, name: 'X25519MLKEM768', iana: 'X25519MLKEM768', kind: 'hybrid', bits: 192, protocols: ['TLSv1.3'] });
  });
});

describe('ML-KEM key shares', () => {
  it('ByteEncode12 and ByteDecode12 are inverse; the modulus check refuses a coefficient of q or more', () => {
    const c = Uint16Array.from({ length: 256 }, (_, i) => (i * 13) % 3329);
    expect([...byteDecode12(byteEncode12(c))]).toEqual([...c]);
    const ek = mlKemEncapsulationKey(3);
    expect(passesModulusCheck(ek, 3)).toBe(true);
    const bad = Buffer.from(ek);
    bad[0] = 0xff;
    bad[1] = bad[1]! | 0x0f; // first coefficient 0xfff = 4095 ≥ 3329
    expect(passesModulusCheck(bad, 3)).toBe(false);
    expect(passesModulusCheck(ek.subarray(1), 3)).toBe(false);
  });

  it.each(PQ)('code %d (%s, %s): a share of %d bytes, as the drafts give, its ML-KEM half passing the modulus check', (code, _name, _kind, bytes) => {
    const share = keyShareFor(code);
    expect(share.length).toBe(bytes);
    const k = code === 0x0200 ? 2 : code === 0x0202 || code === 0x11ed ? 4 : 3;
    const ek = code === 0x11ec ? share.subarray(0, encapsulationKeyBytes(3)) : code === 0x11eb ? share.subarray(65) : code === 0x11ed ? share.subarray(97) : share;
    expect(passesModulusCheck(Buffer.from(ek), k)).toBe(true);
    if (code === 0x11eb || code === 0x11ed) expect(share[0]).toBe(0x04); // uncompressed EC point first
    // Fresh every time: a share is never reused.
    expect(keyShareFor(code).equals(share)).toBe(false);
  });
});

describe('a hello with the hybrid share, as the peer record shows it', () => {
  it('names X25519MLKEM768 in groups and key shares (the 1216-byte share keeps the hello in one record)', () => {
    const bytes = buildClientHello({
      maxVersion: 'TLSv1.3',
      ciphers: [0x1301, 0x1302],
      groups: [GROUP.x25519mlkem768, GROUP.x25519, GROUP.secp256r1],
      keyShareGroups: [GROUP.x25519mlkem768, GROUP.x25519],
    });
    const r = readClientHello(bytes);
    if (r.kind !== 'hello') throw new Error(JSON.stringify(r));
    expect(r.hello.keyShares).toEqual([
      { group: 0x11ec, keyBytes: 1216 },
      { group: GROUP.x25519, keyBytes: 32 },
    ]);
    const v = helloView(r.hello);
    expect(v.groups).toEqual(['X25519MLKEM768', 'X25519', 'prime256v1']);
    expect(v.keyShares).toEqual(['X25519MLKEM768', 'X25519']);
    expect(v.bytes).toBe(bytes.length);
    expect(v.bytes).toBeGreaterThan(1216 + 32);
    expect(v.records).toBe(1);
  });
});

describe('the probe against a server without ML-KEM (node:tls, OpenSSL 3.0)', () => {
  const servers: FakeSmtpServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('offers the PQ codes, finds none, and says so; a result with a hybrid group says which', async () => {
    const pki = await LabPki.create();
    const leaf = await pki.issue({ commonName: 'fake.test', sans: ['fake.test'], key: 'ec-p256' });
    const s = await FakeSmtpServer.start({ mode: 'starttls', tls: { cert: `${leaf.cert.trimEnd()}\n${leaf.chain}`, key: leaf.key, minVersion: 'TLSv1.3', ecdhCurve: 'X25519:P-256' } });
    servers.push(s);
    const r = await probe({ host: '127.0.0.1', port: s.port, mode: 'starttls' }, { scope: 'enumeration', timeouts: { serverAnswer: 2_000 } });
    expect(r.groupsByProtocol['TLSv1.3']).toEqual(expect.arrayContaining(['X25519', 'prime256v1']));
    expect(r.groups.filter((g) => g.kind === 'hybrid' || g.kind === 'kem')).toEqual([]);
    expect(renderProbe(r).join('\n')).toContain('post-quantum: none accepted');
    const withHybrid: ProbeResult = { ...r, groups: [...groupEntries(new Map([['TLSv1.3', [GROUP.x25519mlkem768]]])).groups, ...r.groups] };
    expect(renderProbe(withHybrid).join('\n')).toContain('post-quantum: X25519MLKEM768 (hybrid)');
  });
});
