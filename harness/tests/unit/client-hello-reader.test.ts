import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { GROUP, suitesFor } from '../../enum/cipher-suites.js';
import { buildClientHello, buildClientHelloMessage, type ClientHelloSpec, DEFAULT_GROUPS, DEFAULT_SIGNATURE_ALGORITHMS, EXT, TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV } from '../../enum/client-hello.js';
import { ClientHelloReader, type ClientHelloRead, type OfferedHello, readClientHello } from '../../tls/client-hello-reader.js';
import { captureFirstBytes } from '../golden/tls-records/client-hellos/capture.js';
import tls from 'node:tls';

/**
 * The ClientHello reader: on the builder's output (every field the builder was asked for
 * comes back), on real hellos from node:tls and openssl s_client (goldens, and node:tls live),
 * across reads and records, and on malformed input, which is a result and never a throw.
 */

const GOLDEN = path.join(PROJECT_ROOT, 'harness/tests/golden/tls-records/client-hellos');
const goldenNames = fs
  .readdirSync(GOLDEN)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => f.slice(0, -4));

function hello(r: ClientHelloRead): OfferedHello {
  if (r.kind !== 'hello') throw new Error(`expected a hello, got ${JSON.stringify(r)}`);
  return r.hello;
}

/** Re-frame one handshake message into records of at most `fragment` bytes, as some clients do. */
function records(message: Buffer, fragment: number, version = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let off = 0; off < message.length; off += fragment) {
    const f = message.subarray(off, off + fragment);
    const h = Buffer.alloc(5);
    h[0] = 22;
    h.writeUInt16BE(version, 1);
    h.writeUInt16BE(f.length, 3);
    out.push(h, f);
  }
  return Buffer.concat(out);
}

function chunks(b: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < b.length; off += size) out.push(b.subarray(off, off + size));
  return out;
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const vec8 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);

/** A hello shaped like a post-quantum one (X25519MLKEM768, 0x11EC: a 1216-byte share beside X25519's 32): ~1.4 kB. */
const X25519MLKEM768 = 0x11ec;
function postQuantumShapedHello(): Buffer {
  const shares = Buffer.concat([u16(X25519MLKEM768), vec16(crypto.randomBytes(1216)), u16(GROUP.x25519), vec16(crypto.randomBytes(32))]);
  return buildClientHelloMessage({
    // Built as TLS 1.2 so the builder adds no TLS 1.3 extensions of its own; they come as extras.
    maxVersion: 'TLSv1.2',
    ciphers: [0x1301, 0x1302, 0x1303, 0xc02f],
    groups: [X25519MLKEM768, GROUP.x25519, GROUP.secp256r1],
    sni: 'mx.lab.test',
    extraExtensions: [
      { type: EXT.supportedVersions, data: vec8(Buffer.concat([u16(0x0304), u16(0x0303)])) },
      { type: EXT.keyShare, data: vec16(shares) },
      { type: EXT.alpn, data: vec16(Buffer.concat([vec8(Buffer.from('smtp'))])) },
    ],
  });
}

describe('ClientHello reader on the builder output', () => {
  const cases: readonly { name: string; spec: ClientHelloSpec }[] = [
    { name: 'TLS 1.2, every TLS 1.2 suite, SNI', spec: { maxVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.2'), sni: 'mx.lab.test' } },
    { name: 'TLS 1.3 with X25519 and P-256 shares', spec: { maxVersion: 'TLSv1.3', minVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.3'), keyShareGroups: [GROUP.x25519, GROUP.secp256r1] } },
    { name: 'TLS 1.3, empty key_share (HelloRetryRequest wanted)', spec: { maxVersion: 'TLSv1.3', ciphers: [0x1301], groups: [GROUP.ffdhe2048] } },
    { name: 'TLS 1.1 with the fallback SCSV', spec: { maxVersion: 'TLSv1.1', ciphers: suitesFor('TLSv1.1'), fallbackScsv: true } },
    { name: 'SSLv3: no extension block', spec: { maxVersion: 'SSLv3', ciphers: suitesFor('SSLv3') } },
  ];

  for (const c of cases) {
    it(`${c.name}: what was built is what is read`, () => {
      const s = c.spec;
      const h = hello(readClientHello(buildClientHello(s)));
      const tls13 = s.maxVersion === 'TLSv1.3';
      expect(h.recordVersion).toBe(s.maxVersion === 'SSLv3' ? 0x0300 : 0x0301);
      expect(h.legacyVersion).toBe({ SSLv3: 0x0300, TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0303 }[s.maxVersion]);
      const scsv = [...(s.maxVersion === 'SSLv3' ? [TLS_EMPTY_RENEGOTIATION_INFO_SCSV] : []), ...(s.fallbackScsv ? [TLS_FALLBACK_SCSV] : [])];
      expect(h.cipherSuites).toEqual([...s.ciphers, ...scsv]);
      expect(h.compressionMethods).toEqual([0]);
      expect(h.serverName).toBe(s.sni ?? null);
      expect(h.alpn).toBeNull();
      if (s.maxVersion === 'SSLv3') {
        expect(h.extensions).toBeNull();
        return;
      }
      expect(h.supportedGroups).toEqual(s.groups ?? DEFAULT_GROUPS);
      expect(h.signatureAlgorithms).toEqual(s.maxVersion === 'TLSv1.2' || tls13 ? DEFAULT_SIGNATURE_ALGORITHMS : null);
      expect(h.supportedVersions).toEqual(tls13 ? (s.minVersion ? [0x0304, 0x0303] : [0x0304]) : null);
      expect(h.keyShareGroups).toEqual(tls13 ? (s.keyShareGroups ?? []) : null);
      if (s.keyShareGroups?.includes(GROUP.x25519)) expect(h.keyShares![0]).toEqual({ group: GROUP.x25519, keyBytes: 32 });
      expect(h.extensions).toContain(EXT.renegotiationInfo);
      expect(h.sessionIdBytes).toBe(tls13 ? 32 : 0);
      expect(h.records).toBe(1);
    });
  }

  it('a hello over 16 kB: the builder splits it into two records, the reader joins them, fed one byte at a time', () => {
    const spec: ClientHelloSpec = { maxVersion: 'TLSv1.2', ciphers: [0xc02f], extraExtensions: [{ type: 0xfe00, data: Buffer.alloc(20_000, 7) }] };
    const bytes = buildClientHello(spec);
    const reader = new ClientHelloReader();
    let r: ClientHelloRead = reader.state();
    for (const b of bytes) {
      expect(r.kind).toBe('incomplete');
      r = reader.push(Buffer.from([b]));
    }
    const h = hello(r);
    expect(h.records).toBe(2);
    expect(h.bytes).toBe(bytes.length);
    expect(h.extensions?.at(-1)).toBe(0xfe00);
  });
});

describe('ClientHello reader across reads and records', () => {
  it('a post-quantum-shaped hello (~1.4 kB) in 512-byte records, arriving in 100-byte reads', () => {
    const message = postQuantumShapedHello();
    expect(message.length).toBeGreaterThan(1400);
    const wire = records(message, 512);
    const reader = new ClientHelloReader();
    let r: ClientHelloRead = reader.state();
    for (const c of chunks(wire, 100)) r = reader.push(c);
    const h = hello(r);
    expect(h.records).toBe(Math.ceil(message.length / 512));
    expect(h.keyShares).toEqual([
      { group: X25519MLKEM768, keyBytes: 1216 },
      { group: GROUP.x25519, keyBytes: 32 },
    ]);
    expect(h.keyShareGroups).toEqual([X25519MLKEM768, GROUP.x25519]);
    expect(h.supportedGroups).toEqual([X25519MLKEM768, GROUP.x25519, GROUP.secp256r1]);
    expect(h.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(h.cipherSuites).toEqual([0x1301, 0x1302, 0x1303, 0xc02f]);
    expect(h.serverName).toBe('mx.lab.test');
    expect(h.alpn).toEqual(['smtp']);
    expect(h.extensions?.slice(-3)).toEqual([EXT.supportedVersions, EXT.keyShare, EXT.alpn]);
  });

  it('the hello and a ChangeCipherSpec in one read: the hello is read, the rest is kept for the caller', () => {
    const ccs = Buffer.from([20, 3, 3, 0, 1, 1]);
    const reader = new ClientHelloReader();
    const r = reader.push(Buffer.concat([buildClientHello({ maxVersion: 'TLSv1.2', ciphers: [0xc02f] }), ccs]));
    expect(r.kind).toBe('hello');
    expect(reader.rest).toEqual(ccs);
  });

  it('an unfinished hello is incomplete, with the bytes counted, never an error', () => {
    const bytes = buildClientHello({ maxVersion: 'TLSv1.3', ciphers: [0x1301], keyShareGroups: [GROUP.x25519] });
    expect(readClientHello(Buffer.alloc(0))).toEqual({ kind: 'incomplete', bytes: 0 });
    expect(readClientHello(bytes.subarray(0, 3))).toEqual({ kind: 'incomplete', bytes: 3 });
    expect(readClientHello(bytes.subarray(0, bytes.length - 1))).toEqual({ kind: 'incomplete', bytes: bytes.length - 1 });
  });
});

describe('ClientHello reader on real clients', () => {
  it('has goldens from node:tls and from openssl s_client', () => {
    expect(goldenNames.filter((n) => n.startsWith('node-tls-')).length).toBeGreaterThanOrEqual(2);
    expect(goldenNames.filter((n) => n.startsWith('openssl-s-client-')).length).toBeGreaterThanOrEqual(3);
  });

  for (const name of goldenNames) {
    it(`${name}: the reader's parse is the reviewed one`, () => {
      const bytes = fs.readFileSync(path.join(GOLDEN, `${name}.bin`));
      const expected = JSON.parse(fs.readFileSync(path.join(GOLDEN, `${name}.json`), 'utf8')) as unknown;
      expect(JSON.parse(JSON.stringify(readClientHello(bytes)))).toEqual(expected);
      // The same bytes in 7-byte reads read the same.
      expect(JSON.parse(JSON.stringify(readClientHello(chunks(bytes, 7))))).toEqual(expected);
    });
  }

  it('openssl s_client -tls1_3 -groups X25519:P-256:ffdhe2048: exactly what was asked, in order', () => {
    const h = hello(readClientHello(fs.readFileSync(path.join(GOLDEN, 'openssl-s-client-tls13-groups.bin'))));
    expect(h.supportedVersions).toEqual([0x0304]);
    expect(h.supportedGroups).toEqual([GROUP.x25519, GROUP.secp256r1, GROUP.ffdhe2048]);
    expect(h.keyShareGroups).toEqual([GROUP.x25519]);
    expect(h.cipherSuites).toEqual([0x1302, 0x1303, TLS_EMPTY_RENEGOTIATION_INFO_SCSV]);
    expect(h.serverName).toBeNull();
  });

  it('openssl s_client -tls1_2 -cipher …: the suites in its order, no TLS 1.3 extensions (as s_client -trace lists them)', () => {
    const h = hello(readClientHello(fs.readFileSync(path.join(GOLDEN, 'openssl-s-client-tls12-ciphers.bin'))));
    expect(h.cipherSuites).toEqual([0xc02f, 0x0035, TLS_EMPTY_RENEGOTIATION_INFO_SCSV]);
    expect(h.extensions).toEqual([EXT.ecPointFormats, EXT.supportedGroups, EXT.sessionTicket, EXT.encryptThenMac, EXT.extendedMasterSecret, EXT.signatureAlgorithms]);
    expect(h.supportedVersions).toBeNull();
  });

  it('live node:tls on loopback: the options given are what the reader sees offered', async () => {
    const bytes = await captureFirstBytes((port) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port,
        servername: 'relay.lab.test',
        ALPNProtocols: ['smtp'],
        ecdhCurve: 'P-384:X25519',
        minVersion: 'TLSv1.2',
        ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_128_GCM_SHA256',
      });
      s.on('error', () => undefined);
      return { stop: () => s.destroy() };
    });
    const h = hello(readClientHello(bytes));
    expect(h.serverName).toBe('relay.lab.test');
    expect(h.alpn).toEqual(['smtp']);
    expect(h.supportedGroups).toEqual([GROUP.secp384r1, GROUP.x25519]);
    expect(h.keyShareGroups).toEqual([GROUP.secp384r1]);
    expect(h.supportedVersions).toEqual([0x0304, 0x0303]);
    expect(h.cipherSuites).toContain(0xc030);
    expect(h.cipherSuites).toContain(0x1301);
  });
});

describe('ClientHello reader on malformed input: a clear result, never a throw', () => {
  const good = buildClientHello({ maxVersion: 'TLSv1.3', ciphers: suitesFor('TLSv1.3'), keyShareGroups: [GROUP.x25519], sni: 'mx.lab.test' });
  const message = buildClientHelloMessage({ maxVersion: 'TLSv1.2', ciphers: [0xc02f] });
  const malformed = (r: ClientHelloRead) => {
    if (r.kind !== 'malformed') throw new Error(`expected malformed, got ${r.kind}`);
    return r.reason;
  };

  it('SMTP text instead of TLS', () => {
    expect(malformed(readClientHello(Buffer.from('EHLO client.lab.test\r\n')))).toMatch(/not a TLS record header at byte 0/);
  });

  it('a record longer than TLS allows', () => {
    expect(malformed(readClientHello(Buffer.from([22, 3, 1, 0x50, 0x00])))).toMatch(/a TLS record of 20480 bytes/);
  });

  it('an alert (or any non-handshake record) first', () => {
    expect(malformed(readClientHello(Buffer.from([21, 3, 3, 0, 2, 2, 40])))).toMatch(/content type 21 before the ClientHello/);
  });

  it('a handshake message that is not a ClientHello', () => {
    const m = Buffer.from(message);
    m[0] = 2;
    expect(malformed(readClientHello(records(m, 16_384)))).toMatch(/handshake message type 2 where a ClientHello/);
  });

  it('a handshake message announcing 16 MB', () => {
    expect(malformed(readClientHello(records(Buffer.from([1, 0xff, 0xff, 0xff, 0, 0]), 100)))).toMatch(/handshake message of 16777215 bytes/);
  });

  it('an SSLv2-compatible hello', () => {
    expect(malformed(readClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15])))).toMatch(/SSLv2-compatible/);
  });

  it('a cipher suite list of odd length', () => {
    // legacy_version(2) random(32) session id(1+0), then the cipher_suites length: make it odd.
    const m = Buffer.from(message);
    const at = 4 + 2 + 32 + 1;
    m.writeUInt16BE(m.readUInt16BE(at) - 1, at);
    expect(malformed(readClientHello(records(m, 16_384)))).toMatch(/cipher_suites: odd length|needs|after its end/);
  });

  it('an extension whose length runs past the block', () => {
    const m = Buffer.from(message);
    // The first extension's length field sits after the extension block length.
    const extStart = 4 + 2 + 32 + 1 + 2 + 2 + 2 + 1 + 2;
    m.writeUInt16BE(0xffff, extStart + 2);
    expect(malformed(readClientHello(records(m, 16_384)))).toMatch(/needs \d+ more bytes/);
  });

  it('the same extension twice', () => {
    const m = buildClientHelloMessage({ maxVersion: 'TLSv1.2', ciphers: [0xc02f], extraExtensions: [{ type: EXT.sessionTicket, data: Buffer.alloc(0) }] });
    expect(malformed(readClientHello(records(m, 16_384)))).toMatch(/extension 35 appears twice/);
  });

  it('fuzz: 3000 mutations and truncations of a real hello never throw, and each is a hello, incomplete or malformed', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k <= rand(4); k++) b[rand(b.length)] = rand(256);
      const cut = rand(3) === 0 ? b.subarray(0, rand(b.length)) : b;
      const r = readClientHello(chunks(cut, 1 + rand(300)));
      expect(['hello', 'incomplete', 'malformed']).toContain(r.kind);
      kinds.add(r.kind);
    }
    expect([...kinds].sort()).toEqual(['hello', 'incomplete', 'malformed']);
  });
});
