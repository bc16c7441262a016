import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseGnutlsCli, peerCertificateOfGnutls, verificationOfGnutls } from '../../clients/gnutls-output.js';
import { parseLogLine } from '../../postfix/log-parser.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * The parser on real gnutls-cli output of every stack's lab image (3.7.1 bullseye, 3.7.9
 * bookworm, 3.8.9 trixie, 3.8.13 sid), captured through the lab client's own dialogue script
 * (harness/tests/golden/gnutls-cli/README.md says how), each beside what Postfix logged for the
 * same connection: the two sides must name the same handshake.
 */
const dir = path.join(PROJECT_ROOT, 'harness/tests/golden/gnutls-cli');
const read = (name: string) => fs.readFileSync(path.join(dir, `${name}.txt`), 'utf8');
const postfix = (name: string) =>
  fs
    .readFileSync(path.join(dir, `${name}.postfix.log`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => parseLogLine(l));

describe('gnutls-cli of every stack, through the lab dialogue, against seed 000 and a PQ-only server', () => {
  it('bullseye (gnutls-cli 3.7.1 vs Postfix 3.5/OpenSSL 1.1.1, eecdh_grade ultra): TLS 1.3 over P-384, the one curve the server has', () => {
    const p = parseGnutlsCli(read('bullseye-tls13-p384'));
    expect(p).toMatchObject({ handshakeCompleted: true, protocol: 'TLSv1.3', cipherIana: 'TLS_AES_256_GCM_SHA384', status: 'trusted.', chainLength: 2, alert: null });
    expect(p.keyExchange).toEqual({ type: 'ECDH', group: 'secp384r1', bits: 384 });
    expect(p.local).toEqual({ address: expect.stringMatching(/^10\.213\.\d+\.20$/), port: expect.any(Number) });
    expect(verificationOfGnutls(p, 'mx.lab.test')).toEqual({ verified: true, chainError: null, name: 'mx.lab.test', nameError: null });
    const tls = postfix('bullseye-tls13-p384').find((e) => e?.type === 'tls-established');
    expect(tls).toMatchObject({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', keyExchange: { name: 'ECDHE', curve: 'P-384' }, peer: { port: p.local!.port } });
  });

  it.each([
    ['trixie-tls13-x25519', 'gnutls-cli 3.8.9 vs Postfix 3.10/OpenSSL 3.5'],
    ['sid-tls13-x25519', 'gnutls-cli 3.8.13 vs Postfix 3.11/OpenSSL 3.6'],
  ])('%s (%s): X25519, where bookworm gives the same offer P-256', (name) => {
    const p = parseGnutlsCli(read(name));
    expect(p).toMatchObject({ protocol: 'TLSv1.3', cipherIana: 'TLS_AES_256_GCM_SHA384', cipherOpenssl: 'TLS_AES_256_GCM_SHA384', signature: 'RSA-PSS-RSAE-SHA256' });
    expect(p.keyExchange).toEqual({ type: 'ECDH', group: 'X25519', bits: 253 });
    // The lab dialogue: banner and EHLO before TLS (STARTTLS offered), the EHLO reply after it, QUIT answered.
    expect(p.beforeTls?.map((r) => r.code)).toEqual([220, 250, 220]);
    expect(p.beforeTls?.[1]?.lines).toContain('250-STARTTLS');
    expect(p.afterTls?.map((r) => r.code)).toEqual([250, 221]);
    expect(p.afterTls?.[0]?.lines).not.toContain('250-STARTTLS');
    expect(peerCertificateOfGnutls(p)).toMatchObject({ commonName: 'mx.lab.test', chainLength: 2 });
    const tls = postfix(name).find((e) => e?.type === 'tls-established');
    expect(tls).toMatchObject({ protocol: 'TLSv1.3', keyExchange: { name: 'x25519' }, peer: { port: p.local!.port } });
  });

  it('trixie PQ-only server (tls_eecdh_auto_curves = X25519MLKEM768): gnutls-cli 3.8.9 offers no ML-KEM share, alert 40; Postfix: no suitable key share', () => {
    const p = parseGnutlsCli(read('trixie-pq-only-refused'));
    expect(p).toMatchObject({ connected: true, handshakeCompleted: false, protocol: null, keyExchange: null, alert: 40 });
    expect(p.errors).toEqual(['*** Starting TLS handshake', '*** Fatal error: A TLS fatal alert has been received.', '*** Received alert [40]: Handshake failed', '*** Handshake has failed']);
    expect(p.afterTls).toEqual([]);
    const events = postfix('trixie-pq-only-refused');
    expect(events.find((e) => e?.type === 'tls-library-problem')).toMatchObject({ reason: 'no suitable key share' });
    expect(events.find((e) => e?.type === 'tls-handshake-error')).toMatchObject({ peer: { port: p.local!.port } });
  });

  it('bookworm, CCM8 suites only: seed 000 excludes them; alert 40, Postfix: no shared cipher', () => {
    const p = parseGnutlsCli(read('bookworm-ccm8-refused'));
    expect(p).toMatchObject({ handshakeCompleted: false, protocol: null, alert: 40 });
    expect(postfix('bookworm-ccm8-refused').find((e) => e?.type === 'tls-library-problem')).toMatchObject({ reason: 'no shared cipher' });
  });
});
