import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ianaSuite, opensslSuite, parseGnutlsCli, peerCertificateOfGnutls, verificationOfGnutls } from '../../clients/gnutls-output.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

const read = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/gnutls-cli', `${name}.txt`), 'utf8');
/** What the Postfix under test logged for the same connections (golden README: same order). */
const postfixSide = fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/gnutls-cli/postfix-side.log'), 'utf8').split('\n').filter((l) => /TLS connection established|SSL_accept error/.test(l));

describe('gnutls-cli output parser, on captured real output (gnutls-cli 3.7.9 against seed 000 on Postfix 3.7.11)', () => {
  it('TLS 1.3: the P-256 key share GnuTLS sends first, the chain of two, trusted', () => {
    const p = parseGnutlsCli(read('tls13-verified'));
    expect(p).toMatchObject({ connected: true, handshakeCompleted: true, protocol: 'TLSv1.3', cipherIana: 'TLS_AES_256_GCM_SHA384', cipherOpenssl: 'TLS_AES_256_GCM_SHA384', signature: 'RSA-PSS-RSAE-SHA256', resumed: false, status: 'trusted.', chainLength: 2, alert: null });
    expect(p.keyExchange).toEqual({ type: 'ECDH', group: 'prime256v1', bits: 256 });
    expect(p.certificates).toHaveLength(2);
    expect(peerCertificateOfGnutls(p)).toMatchObject({ commonName: 'mx.lab.test', chainLength: 2, keyType: 'rsa', keyBits: 2048 });
    expect(verificationOfGnutls(p, 'mx.lab.test')).toEqual({ verified: true, chainError: null, name: 'mx.lab.test', nameError: null });
    expect(p.replies.find((r) => r.code === 250)?.lines).toContain('250-PIPELINING');
    expect(p.replies.map((r) => r.code)).toEqual([250, 221]);
    // Postfix logged the same handshake: TLSv1.3, TLS_AES_256_GCM_SHA384, prime256v1.
    expect(postfixSide[0]).toMatch(/TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 .*key-exchange ECDHE \(prime256v1\)/);
  });

  it('TLS 1.2 only: X25519 (server preference orders TLS 1.2 groups), ECDHE-RSA-AES256-GCM-SHA384', () => {
    const p = parseGnutlsCli(read('tls12-only'));
    expect(p).toMatchObject({ protocol: 'TLSv1.2', cipherIana: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', cipherOpenssl: 'ECDHE-RSA-AES256-GCM-SHA384' });
    expect(p.keyExchange).toEqual({ type: 'ECDH', group: 'X25519', bits: 253 });
    expect(postfixSide[1]).toMatch(/TLSv1\.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 /);
  });

  it('TLS 1.0/1.1 only: refused with alert 70, no protocol, exit 1', () => {
    const p = parseGnutlsCli(read('tls11-refused'));
    expect(p).toMatchObject({ connected: true, handshakeCompleted: false, protocol: null, cipherIana: null, keyExchange: null, alert: 70 });
    expect(p.errors).toContain('*** Fatal error: A TLS fatal alert has been received.');
    expect(read('tls11-refused')).toMatch(/lab-exit=1/);
    expect(postfixSide[2]).toMatch(/SSL_accept error/);
  });

  it('no AEAD offered: seed 000 accepts CBC with SHA-1 MAC (ECDHE-RSA-AES256-SHA)', () => {
    const p = parseGnutlsCli(read('tls12-cbc-only'));
    expect(p.description).toEqual(['TLS1.2', 'ECDHE-X25519', 'RSA-PSS-RSAE-SHA256', 'AES-256-CBC', 'SHA1']);
    expect(p).toMatchObject({ protocol: 'TLSv1.2', cipherIana: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', cipherOpenssl: 'ECDHE-RSA-AES256-SHA' });
    expect(postfixSide[3]).toMatch(/TLSv1\.2 with cipher ECDHE-RSA-AES256-SHA /);
  });

  it('name mismatch under --insecure: the chain is trusted, the name is not (judged apart, as for s_client)', () => {
    const p = parseGnutlsCli(read('name-mismatch'));
    expect(p.status).toBe('NOT trusted. The name in the certificate does not match the expected.');
    expect(p.handshakeCompleted).toBe(true);
    const v = verificationOfGnutls(p, 'wrong.lab.test');
    expect(v).toMatchObject({ verified: false, chainError: null, name: 'wrong.lab.test' });
    expect(v.nameError).toMatch(/wrong\.lab\.test/);
  });

  it('DHE only: the RFC 7919 group Postfix uses (ffdhe4096), which s_client and Node do not name', () => {
    const p = parseGnutlsCli(read('tls12-dhe-only'));
    expect(p).toMatchObject({ cipherOpenssl: 'DHE-RSA-AES256-GCM-SHA384' });
    expect(p.keyExchange).toEqual({ type: 'DH', group: 'ffdhe4096', bits: 4096 });
    expect(postfixSide[5]).toMatch(/DHE-RSA-AES256-GCM-SHA384/);
  });

  it('no trust anchor: issuer unknown, as OpenSSL names a chain ending in an untrusted root', () => {
    const p = parseGnutlsCli(read('no-trust'));
    expect(p.status).toBe('NOT trusted. The certificate issuer is unknown.');
    expect(verificationOfGnutls(p, undefined)).toMatchObject({ verified: false, chainError: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('suite names: static RSA, ECDSA, TLS 1.3 CHACHA20; unknown parts give null, never a guess', () => {
    expect(ianaSuite(['TLS1.2', 'RSA', 'AES-128-CBC', 'SHA1'])).toBe('TLS_RSA_WITH_AES_128_CBC_SHA');
    expect(opensslSuite('TLS_RSA_WITH_AES_128_CBC_SHA')).toBe('AES128-SHA');
    expect(ianaSuite(['TLS1.2', 'ECDHE-SECP256R1', 'ECDSA-SECP256R1-SHA256', 'AES-128-GCM'])).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(ianaSuite(['TLS1.3', 'ECDHE-X25519', 'EdDSA-Ed25519', 'CHACHA20-POLY1305'])).toBe('TLS_CHACHA20_POLY1305_SHA256');
    expect(ianaSuite(['TLS1.2', 'ECDHE-X25519', 'RSA-SHA256', 'GOST28147-TC26Z-CNT'])).toBeNull();
  });
});

describe("gnutls-cli in the lab client's own form (--starttls, the dialogue driven by the lab's script)", () => {
  it('TLS 1.3: replies before and after the handshake apart, the local socket from ss, no "Handshake was completed" line', () => {
    const p = parseGnutlsCli(read('starttls-manual-tls13'));
    expect(p).toMatchObject({ handshakeCompleted: true, protocol: 'TLSv1.3', cipherOpenssl: 'TLS_AES_256_GCM_SHA384', local: { address: '10.213.226.40', port: 39790 } });
    expect(p.beforeTls!.map((r) => r.code)).toEqual([220, 250, 220]);
    expect(p.beforeTls![1]!.lines).toContain('250-STARTTLS');
    expect(p.afterTls!.map((r) => r.code)).toEqual([250, 221]);
    expect(p.afterTls![0]!.lines).not.toContain('250-STARTTLS');
  });

  it('TLS 1.1 only: alert 70, "Handshake has failed", the local socket still known', () => {
    const p = parseGnutlsCli(read('starttls-manual-tls11-refused'));
    expect(p).toMatchObject({ handshakeCompleted: false, protocol: null, alert: 70, local: { port: 39802 } });
    expect(p.errors).toContain('*** Handshake has failed');
    expect(p.afterTls).toEqual([]);
  });
});
