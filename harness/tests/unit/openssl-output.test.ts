import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSClient, verificationOf } from '../../clients/openssl-output.js';
import { transcriptLines } from '../../clients/openssl.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

const read = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/openssl-s-client', `${name}.txt`), 'utf8');

describe('openssl s_client output parser, on captured real output', () => {
  it('TLS 1.3 with the lab trust bundle', () => {
    const p = parseSClient(read('tls13-default-lab-trust'));
    expect(p).toMatchObject({ connected: true, protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', reused: false, peerSignatureType: 'RSA-PSS', verifyCode: 0, chainLength: 2, alert: null });
    expect(p.keyExchange).toEqual({ type: 'ECDH', group: 'X25519', bits: 253 });
    expect(p.certificates).toHaveLength(2);
    expect(verificationOf(p, 'mx.lab.test')).toEqual({ verified: true, chainError: null, name: 'mx.lab.test', nameError: null });
    expect(verificationOf(p, 'other.lab.test').nameError).toMatch(/other\.lab\.test/);
    expect(p.replies.find((r) => r.code === 250 && r.lines[0] === 'mx.lab.test')?.lines).toContain('PIPELINING');
  });

  it('TLS 1.2 DHE: the 4096-bit group and the verification error without a trust store', () => {
    const p = parseSClient(read('tls12-dhe-only'));
    expect(p).toMatchObject({ protocol: 'TLSv1.2', cipher: 'DHE-RSA-AES256-GCM-SHA384', secureRenegotiation: true, compression: 'NONE' });
    expect(p.keyExchange).toEqual({ type: 'DH', group: null, bits: 4096 });
    expect(verificationOf(p, undefined)).toMatchObject({ verified: false, chainError: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('TLS 1.1 refused by the server: no protocol, alert 70', () => {
    const p = parseSClient(read('tls11-refused'));
    expect(p).toMatchObject({ connected: true, protocol: null, cipher: null, alert: 70 });
    expect(p.errors[0]).toMatch(/tlsv1 alert protocol version/);
  });

  it('the transcript keeps no session secret and no certificate body', () => {
    for (const name of ['tls13-default-lab-trust', 'tls12-dhe-only', 'tls11-refused']) {
      const lines = transcriptLines(read(name).replace(/<redacted for the repository>/, 'A1B2C3D4E5F6'));
      expect(lines.join('\n')).not.toMatch(/Master-Key: [0-9A-F]|BEGIN CERTIFICATE|^\s*[0-9a-f]{4} - /m);
    }
  });

  // Lines as the bullseye (OpenSSL 1.1.1w) and trixie (OpenSSL 3.5.9) client containers printed them in a real
  // run of opportunistic-25 / key-exchange-ultra-ffdhe4096 (--stack bullseye,trixie, 3 Dec 2026).
  it('OpenSSL 1.1.1 names the curve P-384, OpenSSL 3.5 says "Peer Temp Key": both read as the other clients name them', () => {
    const base = read('tls12-dhe-only').split('\n').filter((l) => !/Temp Key/.test(l));
    const at = base.findIndex((l) => /^Server public key is/.test(l)) ;
    const withLine = (line: string) => parseSClient([...base.slice(0, at < 0 ? 1 : at), line, ...base.slice(at < 0 ? 1 : at)].join('\n'));
    expect(withLine('Server Temp Key: ECDH, P-384, 384 bits').keyExchange).toEqual({ type: 'ECDH', group: 'secp384r1', bits: 384 });
    expect(withLine('Server Temp Key: ECDH, prime256v1, 256 bits').keyExchange).toEqual({ type: 'ECDH', group: 'prime256v1', bits: 256 });
    expect(withLine('Peer Temp Key: DH, 4096 bits').keyExchange).toEqual({ type: 'DH', group: null, bits: 4096 });
  });

  // trixie (OpenSSL 3.5.9) and sid (3.6.5) s_client against Postfix with ML-KEM enabled, 3 Dec 2026:
  // no "Peer Temp Key" line at all for a hybrid group, only the negotiated group's name.
  it('OpenSSL 3.5+ names a KEM or hybrid group only on "Negotiated TLS1.3 group:"', () => {
    const base = read('tls12-dhe-only').split('\n').filter((l) => !/Temp Key/.test(l));
    const withLine = (line: string) => parseSClient([base[0]!, line, ...base.slice(1)].join('\n'));
    expect(withLine('Negotiated TLS1.3 group: X25519MLKEM768').keyExchange).toEqual({ type: 'KEM', group: 'X25519MLKEM768', bits: null });
    expect(withLine('Negotiated TLS1.3 group: <NULL>').keyExchange).toBeNull();
  });
});
