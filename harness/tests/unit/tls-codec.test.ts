import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import {
  ALL_SUITES,
  byCode,
  byIanaName,
  byOpenSslName,
  GROUP,
  groupByCode,
  groupByName,
  keyExchangeOf,
  NAMED_GROUPS,
  suitesFor,
  TLS13_SUITES,
} from '../../enum/cipher-suites.js';
import {
  buildClientHello,
  buildClientHelloMessage,
  type ClientHelloSpec,
  DEFAULT_GROUPS,
  DEFAULT_SIGNATURE_ALGORITHMS,
  EXT,
  MAX_FRAGMENT,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
  TLS_FALLBACK_SCSV,
} from '../../enum/client-hello.js';
import { answerToJson, HRR_RANDOM, MAX_RECORD_BYTES, MAX_TOTAL_BYTES, type ServerAnswer, ServerAnswerReader } from '../../enum/server-answer.js';

const GOLDEN = path.join(PROJECT_ROOT, 'harness/tests/golden/tls-records');
const golden = (name: string) => fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
const expected = (name: string) => JSON.parse(fs.readFileSync(path.join(GOLDEN, `${name}.json`), 'utf8')) as unknown;
const goldenNames = fs
  .readdirSync(GOLDEN)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -4));

/** Splits our own ClientHello output back into fields, so builder tests read structure, not hex. */
function readHello(records: Buffer) {
  const frags: Buffer[] = [];
  const recordVersions: number[] = [];
  for (let off = 0; off < records.length; ) {
    expect(records[off]).toBe(22);
    recordVersions.push(records.readUInt16BE(off + 1));
    const len = records.readUInt16BE(off + 3);
    frags.push(records.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  const msg = Buffer.concat(frags);
  expect(msg[0]).toBe(1);
  expect(msg.readUIntBE(1, 3)).toBe(msg.length - 4);
  let p = 4;
  const legacyVersion = msg.readUInt16BE(p);
  p += 2;
  const random = msg.subarray(p, p + 32);
  p += 32;
  const sessionId = msg.subarray(p + 1, p + 1 + msg[p]!);
  p += 1 + sessionId.length;
  const cl = msg.readUInt16BE(p);
  const ciphers: number[] = [];
  for (let i = 0; i < cl; i += 2) ciphers.push(msg.readUInt16BE(p + 2 + i));
  p += 2 + cl;
  const compression = [...msg.subarray(p + 1, p + 1 + msg[p]!)];
  p += 1 + compression.length;
  const extensions = new Map<number, Buffer>();
  const order: number[] = [];
  let hasExtensionBlock = false;
  if (p < msg.length) {
    hasExtensionBlock = true;
    const end = p + 2 + msg.readUInt16BE(p);
    expect(end).toBe(msg.length);
    p += 2;
    while (p < end) {
      const type = msg.readUInt16BE(p);
      const len = msg.readUInt16BE(p + 2);
      extensions.set(type, msg.subarray(p + 4, p + 4 + len));
      order.push(type);
      p += 4 + len;
    }
  }
  return { recordVersions, frags, msg, legacyVersion, random, sessionId, ciphers, compression, extensions, order, hasExtensionBlock };
}

const u16list = (b: Buffer, lenBytes: 1 | 2) => {
  const n = lenBytes === 1 ? b[0]! : b.readUInt16BE(0);
  expect(n).toBe(b.length - lenBytes);
  const out: number[] = [];
  for (let i = lenBytes; i < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
};

function keyShares(ext: Buffer): { group: number; key: Buffer }[] {
  expect(ext.readUInt16BE(0)).toBe(ext.length - 2);
  const out: { group: number; key: Buffer }[] = [];
  for (let p = 2; p < ext.length; ) {
    const group = ext.readUInt16BE(p);
    const len = ext.readUInt16BE(p + 2);
    out.push({ group, key: ext.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

function feedAll(chunks: readonly Buffer[]): ServerAnswer | null {
  const r = new ServerAnswerReader();
  for (const c of chunks) {
    r.push(c);
    if (r.answer()) break;
  }
  return r.answer();
}

function bytewise(b: Buffer): Buffer[] {
  return [...b].map((x) => Buffer.from([x]));
}

describe('cipher table (generated from the lab OpenSSL, plus IANA-only classics)', () => {
  it('is complete, consistent and unique by code and by name', () => {
    const fromOpenSsl = ALL_SUITES.filter((s) => s.source === 'openssl');
    const fromIana = ALL_SUITES.filter((s) => s.source === 'iana');
    expect(fromOpenSsl).toHaveLength(160);
    expect(fromIana.every((s) => s.openssl === null)).toBe(true);
    expect(fromIana.length).toBeGreaterThanOrEqual(80);
    expect(new Set(ALL_SUITES.map((s) => s.code)).size).toBe(ALL_SUITES.length);
    expect(new Set(ALL_SUITES.map((s) => s.iana)).size).toBe(ALL_SUITES.length);
    expect(new Set(fromOpenSsl.map((s) => s.openssl)).size).toBe(fromOpenSsl.length);
    for (const s of ALL_SUITES) {
      expect(s.hex).toBe(`0x${(s.code >> 8).toString(16).toUpperCase().padStart(2, '0')},0x${(s.code & 0xff).toString(16).toUpperCase().padStart(2, '0')}`);
      expect(s.iana).toMatch(/^TLS_/);
      expect(Object.isFrozen(s)).toBe(true);
    }
  });

  it('looks suites up by code, OpenSSL name and IANA name', () => {
    const s = byCode(0xc02f)!;
    expect(s).toMatchObject({ hex: '0xC0,0x2F', openssl: 'ECDHE-RSA-AES128-GCM-SHA256', iana: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', minVersion: 'TLSv1.2', kx: 'ECDH', au: 'RSA', enc: 'AESGCM(128)', bits: 128, mac: 'AEAD', source: 'openssl' });
    expect(byOpenSslName('ECDHE-RSA-AES128-GCM-SHA256')).toBe(s);
    expect(byIanaName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')).toBe(s);
    expect(byCode(0x0005)).toMatchObject({ openssl: null, iana: 'TLS_RSA_WITH_RC4_128_SHA', minVersion: 'SSLv3', kx: 'RSA', au: 'RSA', enc: 'RC4(128)', bits: 128, mac: 'SHA1', source: 'iana' });
    expect(byCode(0x000a)).toMatchObject({ iana: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA', enc: '3DES(168)', source: 'iana' });
    expect(byCode(0x0003)).toMatchObject({ iana: 'TLS_RSA_EXPORT_WITH_RC4_40_MD5', kx: 'RSA(512)', enc: 'RC4(40)', mac: 'MD5' });
    expect(byCode(0xc02d)).toMatchObject({ iana: 'TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256', kx: 'ECDH/ECDSA', au: 'ECDH', mac: 'AEAD', minVersion: 'TLSv1.2' });
    expect(byCode(0xffff)).toBeUndefined();
    expect(byOpenSslName('RC4-SHA')).toBeUndefined(); // the lab's OpenSSL has no RC4 at all
  });

  it('has the five TLS 1.3 suites', () => {
    expect(TLS13_SUITES.map((s) => s.code)).toEqual([0x1301, 0x1302, 0x1303, 0x1304, 0x1305]);
    expect(TLS13_SUITES.map((s) => s.openssl)).toEqual(['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_CCM_SHA256', 'TLS_AES_128_CCM_8_SHA256']);
  });

  it('gives each version the suites a server may choose with it', () => {
    const ssl3 = suitesFor('SSLv3');
    const tls1 = suitesFor('TLSv1');
    const tls12 = suitesFor('TLSv1.2');
    expect(ssl3).toContain(0x002f); // AES128-SHA
    expect(ssl3).toContain(0x0005); // RC4-SHA, IANA-only
    expect(ssl3).not.toContain(0xc013); // ECDHE needs TLS extensions
    expect(tls1).toContain(0xc013);
    expect(tls1).not.toContain(0xc02f);
    expect(suitesFor('TLSv1.1')).toEqual(tls1);
    expect(tls12).toContain(0xc02f);
    expect(tls12).toEqual(expect.arrayContaining([...tls1]));
    expect(tls12).not.toContain(0x1301);
    expect(suitesFor('TLSv1.3')).toEqual(TLS13_SUITES.map((s) => s.code));
    expect(tls12.length + suitesFor('TLSv1.3').length).toBe(ALL_SUITES.length);
  });

  it('tells the key exchange from the IANA name', () => {
    expect(keyExchangeOf(0xc030)).toBe('ecdhe');
    expect(keyExchangeOf(0x009f)).toBe('dhe');
    expect(keyExchangeOf(0x00a7)).toBe('dhe'); // DH_anon is ephemeral too
    expect(keyExchangeOf(0x0030)).toBe('dh-static');
    expect(keyExchangeOf(0xc004)).toBe('ecdh-static');
    expect(keyExchangeOf(0x002f)).toBe('rsa');
    expect(keyExchangeOf(0x1301)).toBe('tls13');
    expect(keyExchangeOf(0xc0aa)).toBe('dhe-psk'); // registered as TLS_PSK_DHE_WITH_AES_128_CCM_8
    expect(keyExchangeOf(0xc037)).toBe('ecdhe-psk');
    expect(keyExchangeOf(0xc01d)).toBe('srp');
    for (const s of ALL_SUITES) expect(keyExchangeOf(s.code), s.iana).not.toBeNull();
  });

  it('names groups by IANA code, and OpenSSL accepts every name it gives', () => {
    expect(groupByCode(29)).toMatchObject({ iana: 'x25519', openssl: 'X25519', kind: 'ecdhe' });
    expect(groupByCode(23)).toMatchObject({ iana: 'secp256r1', openssl: 'prime256v1' });
    expect(groupByName('P-256')?.code).toBe(23);
    expect(groupByName('secp384r1')?.code).toBe(24);
    expect(groupByName('ffdhe4096')).toMatchObject({ code: 258, kind: 'ffdhe', bits: 4096 });
    expect(GROUP).toMatchObject({ x25519: 29, secp256r1: 23, secp384r1: 24, secp521r1: 25, x448: 30, ffdhe2048: 256, ffdhe8192: 260 });
    // node:tls runs on the host's OpenSSL 3.0 (the same Debian build family as the lab's).
    for (const grp of NAMED_GROUPS) {
      for (const name of [grp.openssl, ...grp.aliases]) {
        if (name === null) continue;
        expect(() => tls.createSecureContext({ ecdhCurve: name }), name).not.toThrow();
      }
    }
  });
});

describe('ClientHello builder', () => {
  const random = Buffer.alloc(32, 0xab);

  it('frames one handshake record: type 22, record version 0x0301, lengths that add up', () => {
    const out = buildClientHello({ maxVersion: 'TLSv1.2', ciphers: [0xc02f, 0x009e], random });
    expect(out[0]).toBe(22);
    expect(out.readUInt16BE(1)).toBe(0x0301);
    expect(out.readUInt16BE(3)).toBe(out.length - 5);
    const h = readHello(out);
    expect(h.frags).toHaveLength(1);
    expect(h.legacyVersion).toBe(0x0303);
    expect(h.random).toEqual(random);
    expect(h.sessionId.length).toBe(0);
    expect(h.ciphers).toEqual([0xc02f, 0x009e]);
    expect(h.compression).toEqual([0]);
  });

  it('writes the default TLS 1.2 extensions, each well formed', () => {
    const h = readHello(buildClientHello({ maxVersion: 'TLSv1.2', ciphers: [0xc02f], sni: 'mx.lab.test', random }));
    expect(h.order).toEqual([EXT.serverName, EXT.ecPointFormats, EXT.supportedGroups, EXT.sessionTicket, EXT.extendedMasterSecret, EXT.signatureAlgorithms, EXT.renegotiationInfo]);
    const sni = h.extensions.get(EXT.serverName)!;
    expect(sni.readUInt16BE(0)).toBe(sni.length - 2);
    expect(sni[2]).toBe(0); // host_name
    expect(sni.subarray(5).toString()).toBe('mx.lab.test');
    expect([...h.extensions.get(EXT.ecPointFormats)!]).toEqual([1, 0]);
    expect(u16list(h.extensions.get(EXT.supportedGroups)!, 2)).toEqual(DEFAULT_GROUPS);
    expect(u16list(h.extensions.get(EXT.signatureAlgorithms)!, 2)).toEqual(DEFAULT_SIGNATURE_ALGORITHMS);
    expect(h.extensions.get(EXT.sessionTicket)!.length).toBe(0);
    expect(h.extensions.get(EXT.extendedMasterSecret)!.length).toBe(0);
    expect([...h.extensions.get(EXT.renegotiationInfo)!]).toEqual([0]); // empty renegotiated_connection
    expect(h.extensions.has(EXT.supportedVersions)).toBe(false);
    expect(h.extensions.has(EXT.keyShare)).toBe(false);
  });

  it('leaves EC extensions out when only DHE is offered, and switches defaults off on request', () => {
    const h = readHello(buildClientHello({ maxVersion: 'TLSv1.2', ciphers: [0x009f], random, sessionTicket: false, extendedMasterSecret: false, renegotiationInfo: false }));
    expect(h.order).toEqual([EXT.signatureAlgorithms]);
    const forced = readHello(buildClientHello({ maxVersion: 'TLSv1.2', ciphers: [0x009f], groups: [GROUP.ffdhe4096], ecPointFormats: true }));
    expect(u16list(forced.extensions.get(EXT.supportedGroups)!, 2)).toEqual([258]);
    expect(forced.extensions.has(EXT.ecPointFormats)).toBe(true);
  });

  it('TLS 1.0/1.1: client version 0x0301/0x0302, no signature_algorithms', () => {
    for (const [v, code] of [['TLSv1', 0x0301], ['TLSv1.1', 0x0302]] as const) {
      const h = readHello(buildClientHello({ maxVersion: v, ciphers: suitesFor(v) }));
      expect(h.legacyVersion).toBe(code);
      expect(h.recordVersions).toEqual([0x0301]);
      expect(h.extensions.has(EXT.signatureAlgorithms)).toBe(false);
      expect(h.extensions.has(EXT.extendedMasterSecret)).toBe(true);
    }
  });

  it('SSLv3: record and client version 0x0300, no extension block, renegotiation SCSV instead', () => {
    const h = readHello(buildClientHello({ maxVersion: 'SSLv3', ciphers: [0x002f, 0x0005] }));
    expect(h.recordVersions).toEqual([0x0300]);
    expect(h.legacyVersion).toBe(0x0300);
    expect(h.hasExtensionBlock).toBe(false);
    expect(h.ciphers).toEqual([0x002f, 0x0005, TLS_EMPTY_RENEGOTIATION_INFO_SCSV]);
    expect(readHello(buildClientHello({ maxVersion: 'SSLv3', ciphers: [0x002f], renegotiationInfo: false })).ciphers).toEqual([0x002f]);
  });

  it('adds TLS_FALLBACK_SCSV last, and offers DEFLATE when asked', () => {
    const h = readHello(buildClientHello({ maxVersion: 'TLSv1.1', ciphers: [0x002f, 0xc013], fallbackScsv: true, compressionMethods: [1, 0] }));
    expect(h.ciphers).toEqual([0x002f, 0xc013, TLS_FALLBACK_SCSV]);
    expect(h.compression).toEqual([1, 0]);
  });

  it('TLS 1.3: legacy_version 0x0303, supported_versions from max down to min, empty key_share by default', () => {
    const h = readHello(buildClientHello({ maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3') }));
    expect(h.legacyVersion).toBe(0x0303);
    expect(h.recordVersions).toEqual([0x0301]);
    expect(h.sessionId.length).toBe(32); // middlebox compatibility mode
    expect(u16list(h.extensions.get(EXT.supportedVersions)!, 1)).toEqual([0x0304]);
    expect([...h.extensions.get(EXT.pskKeyExchangeModes)!]).toEqual([1, 1]);
    expect(keyShares(h.extensions.get(EXT.keyShare)!)).toEqual([]);
    expect(h.extensions.has(EXT.signatureAlgorithms)).toBe(true);
    const wide = readHello(buildClientHello({ maxVersion: 'TLSv1.3', minVersion: 'TLSv1', ciphers: [...suitesFor('TLSv1.3'), ...suitesFor('TLSv1.2')] }));
    expect(u16list(wide.extensions.get(EXT.supportedVersions)!, 1)).toEqual([0x0304, 0x0303, 0x0302, 0x0301]);
  });

  it('TLS 1.3 key shares are real public keys of the right size and form', () => {
    const h = readHello(buildClientHello({ maxVersion: 'TLSv1.3', ciphers: [0x1301], keyShareGroups: [GROUP.x25519, GROUP.secp256r1, GROUP.secp384r1, GROUP.x448, GROUP.secp521r1] }));
    const shares = keyShares(h.extensions.get(EXT.keyShare)!);
    expect(shares.map((s) => [s.group, s.key.length])).toEqual([
      [29, 32],
      [23, 65],
      [24, 97],
      [30, 56],
      [25, 133],
    ]);
    // NIST shares are uncompressed points on the curve: OpenSSL derives a secret from them.
    for (const [i, curve] of [[1, 'prime256v1'], [2, 'secp384r1'], [4, 'secp521r1']] as const) {
      expect(shares[i]!.key[0]).toBe(0x04);
      const ecdh = crypto.createECDH(curve);
      ecdh.generateKeys();
      expect(() => ecdh.computeSecret(shares[i]!.key)).not.toThrow();
    }
    const x = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: shares[0]!.key.toString('base64url') }, format: 'jwk' });
    expect(x.asymmetricKeyType).toBe('x25519');
  });

  it('refuses what it cannot build, with a LabError naming the problem', () => {
    const bad: [ClientHelloSpec, RegExp][] = [
      [{ maxVersion: 'TLSv1.3', ciphers: [0x1301], keyShareGroups: [GROUP.ffdhe2048] }, /no key share generator for group 256 \(ffdhe2048\)/],
      [{ maxVersion: 'TLSv1.3', ciphers: [0x1301], groups: [GROUP.secp256r1], keyShareGroups: [GROUP.x25519] }, /not in supported_groups/],
      [{ maxVersion: 'TLSv1.1', minVersion: 'TLSv1.2', ciphers: [0x002f] }, /minVersion TLSv1.2 is above maxVersion TLSv1.1/],
      [{ maxVersion: 'TLSv1.2', ciphers: [] }, /no cipher suites/],
      [{ maxVersion: 'TLSv1.2', ciphers: [0x10000] }, /not a two-byte code/],
      [{ maxVersion: 'TLSv1.2', ciphers: [0x002f], sni: 'mx.lab.test\r\nX' }, /SNI must be an ASCII host name/],
      [{ maxVersion: 'TLSv1.2', ciphers: [0x002f], random: Buffer.alloc(31) }, /random must be 32 bytes/],
    ];
    for (const [spec, msg] of bad) {
      let err: unknown;
      try {
        buildClientHello(spec);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(LabError);
      expect((err as LabError).code).toBe('EINTERNAL');
      expect((err as LabError).message).toMatch(msg);
    }
  });

  it('splits a hello larger than 2^14 bytes into several records that reassemble to the message', () => {
    const ciphers = Array.from({ length: 9000 }, (_, i) => i % 0xff00);
    const spec: ClientHelloSpec = { maxVersion: 'TLSv1.2', ciphers, random };
    const out = buildClientHello(spec);
    const h = readHello(out);
    expect(h.frags.map((f) => f.length)).toEqual([MAX_FRAGMENT, h.msg.length - MAX_FRAGMENT]);
    expect(h.msg).toEqual(buildClientHelloMessage(spec));
    expect(h.ciphers).toHaveLength(9000);
    const small = buildClientHello({ maxVersion: 'TLSv1.3', ciphers: [...suitesFor('TLSv1.3'), ...suitesFor('TLSv1.2')], keyShareGroups: [GROUP.x25519, GROUP.secp256r1] });
    expect(small.length).toBeLessThan(MAX_FRAGMENT);
  });
});

describe('server answer reader, on captured real Postfix answers (golden files)', () => {
  it('has golden files to test', () => expect(goldenNames.length).toBeGreaterThanOrEqual(7));

  for (const name of goldenNames) {
    it(`${name}: whole, byte by byte and in odd chunks, the same answer`, () => {
      const bytes = golden(name);
      const want = expected(name);
      expect(answerToJson(feedAll([bytes])!)).toEqual(want);
      expect(answerToJson(feedAll(bytewise(bytes))!)).toEqual(want);
      const chunks: Buffer[] = [];
      for (let off = 0, n = 1; off < bytes.length; off += n, n = (n * 7) % 97 + 3) chunks.push(bytes.subarray(off, off + n));
      expect(answerToJson(feedAll(chunks)!)).toEqual(want);
    });
  }

  it('TLS 1.2 ECDHE: ServerHello, the certificate chain, the X25519 key exchange, ServerHelloDone', () => {
    const a = feedAll([golden('tls12-ecdhe-rsa')]);
    expect(a?.kind).toBe('server-hello');
    if (a?.kind !== 'server-hello') return;
    expect(a).toMatchObject({ version: 'TLSv1.2', helloRetryRequest: false, complete: true, serverKeyExchange: { kind: 'ecdhe', group: GROUP.x25519 }, downgradeSentinel: 'TLSv1.2' });
    expect(byCode(a.cipher)?.openssl).toBe('ECDHE-RSA-AES256-GCM-SHA384');
    expect(a.certificates).toHaveLength(2);
    const leaf = new X509Certificate(a.certificates![0]!);
    expect(leaf.subject).toContain('CN=mx.lab.test');
    expect(leaf.checkIssued(new X509Certificate(a.certificates![1]!))).toBe(true);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.certificates)).toBe(true);
  });

  it('TLS 1.2 DHE-only: the ffdhe4096 prime, 4096 bits', () => {
    const a = feedAll([golden('tls12-dhe-only')]);
    expect(a).toMatchObject({ kind: 'server-hello', cipher: 0x009f, serverKeyExchange: { kind: 'dhe', primeBits: 4096 } });
  });

  it('TLS 1.3: a HelloRetryRequest is known by its random and names the group; a ServerHello carries the share group', () => {
    const hrr = golden('tls13-hrr-empty-key-share');
    expect(hrr.subarray(11, 43)).toEqual(HRR_RANDOM); // record(5) + handshake header(4) + legacy_version(2)
    expect(feedAll([hrr])).toMatchObject({ kind: 'server-hello', version: 'TLSv1.3', helloRetryRequest: true, selectedGroup: GROUP.x25519, certificates: null });
    expect(feedAll([golden('tls13-x25519')])).toMatchObject({ version: 'TLSv1.3', helloRetryRequest: false, selectedGroup: GROUP.x25519 });
    expect(feedAll([golden('tls13-p256-only')])).toMatchObject({ version: 'TLSv1.3', helloRetryRequest: false, selectedGroup: GROUP.secp256r1 });
  });

  it('alerts carry their level, code and name', () => {
    expect(feedAll([golden('tls11-protocol-version')])).toEqual({ kind: 'alert', level: 2, description: 70, name: 'protocol_version' });
    expect(feedAll([golden('tls12-rc4-only-handshake-failure')])).toEqual({ kind: 'alert', level: 2, description: 40, name: 'handshake_failure' });
    expect(feedAll([golden('tls12-fallback-scsv')])).toEqual({ kind: 'alert', level: 2, description: 86, name: 'inappropriate_fallback' });
  });

  it('SMTP text instead of TLS is garbage, showing the first line', () => {
    const a = feedAll([golden('smtp-text-without-starttls')]);
    expect(a).toMatchObject({ kind: 'garbage', reason: 'the answer is not TLS', printable: '500 5.5.2 Error: bad UTF-8 syntax\\r\\n' });
  });

  it('waits while more is needed, and finish() makes the best of a flight cut short', () => {
    const full = golden('tls12-ecdhe-rsa');
    const firstRecord = full.subarray(0, 5 + full.readUInt16BE(3));
    const r = new ServerAnswerReader();
    r.push(firstRecord);
    expect(r.answer()).toBeNull();
    const a = r.finish('closed');
    expect(a).toMatchObject({ kind: 'server-hello', version: 'TLSv1.2', cipher: 0xc030, certificates: null, serverKeyExchange: null, complete: false });
    expect(r.answer()).toBe(a);

    const partial = new ServerAnswerReader();
    partial.push(full.subarray(0, 3));
    expect(partial.finish('timeout')).toEqual({ kind: 'timeout', bytes: 3 });
    expect(new ServerAnswerReader().finish('closed')).toEqual({ kind: 'closed', bytes: 0 });

    const text = new ServerAnswerReader();
    text.push(golden('smtp-text-without-starttls').subarray(0, 10)); // no line end yet: keep reading
    expect(text.answer()).toBeNull();
    expect(text.finish('timeout')).toMatchObject({ kind: 'garbage', printable: '500 5.5.2 ' });
  });

  it('ignores what comes after the answer', () => {
    const r = new ServerAnswerReader();
    r.push(golden('tls11-protocol-version'));
    const a = r.answer();
    r.push(golden('tls12-ecdhe-rsa'));
    expect(r.answer()).toBe(a);
    expect(r.bytes).toBe(golden('tls11-protocol-version').length + golden('tls12-ecdhe-rsa').length);
  });

  it('refuses an oversized record (a real capture with its first length field raised past the bound)', () => {
    const b = Buffer.from(golden('tls12-ecdhe-rsa'));
    b.writeUInt16BE(MAX_RECORD_BYTES + 1, 3);
    const a = feedAll([b]);
    expect(a).toMatchObject({ kind: 'garbage', firstBytes: b.subarray(0, 5).toString('hex') });
    expect(a?.kind === 'garbage' && a.reason).toMatch(/record of 18433 bytes/);
  });

  it('refuses a flight that never ends (a real ServerHello, then its real Certificate record over and over)', () => {
    const full = golden('tls12-ecdhe-rsa');
    const helloEnd = 5 + full.readUInt16BE(3);
    const certRecord = full.subarray(helloEnd, helloEnd + 5 + full.readUInt16BE(helloEnd + 3));
    const r = new ServerAnswerReader();
    r.push(full.subarray(0, helloEnd));
    let pushed = helloEnd;
    while (!r.answer() && pushed < 2 * MAX_TOTAL_BYTES) {
      r.push(certRecord);
      pushed += certRecord.length;
    }
    expect(pushed).toBeGreaterThan(MAX_TOTAL_BYTES);
    expect(pushed).toBeLessThan(MAX_TOTAL_BYTES + 2 * certRecord.length);
    expect(r.answer()).toMatchObject({ kind: 'garbage', reason: `more than ${MAX_TOTAL_BYTES} bytes without a complete answer` });
  });
});
