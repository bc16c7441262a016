import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eximLog } from '../../interop/exim-container.js';
import { parseEximLine, parseEximTls } from '../../interop/exim-log.js';
import { eximPeerRecord, eximSuiteName } from '../../interop/exim-peer-record.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

const read = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/exim-log', name), 'utf8');
const sender = read('postfix-sender.log');

function logOf(text: string) {
  const log = eximLog();
  log.push(text);
  log.end();
  return log;
}

describe('Exim main log reader and record, on real Exim 4.96 logs (Postfix 3.7.11 sending)', () => {
  it('parses the lines the lab reads; every other line is "other", never dropped', () => {
    const events = read('exim-verify-deferred-and-sent.log').split('\n').filter(Boolean).map(parseEximLine);
    expect(events.map((e) => e.type)).toEqual(['daemon-started', 'other', 'other', 'connect', 'connect', 'closed', 'received', 'closed', 'delivered', 'completed']);
    const r = events.find((e) => e.type === 'received');
    expect(r).toMatchObject({ eximId: '1xZ4Vx-00000e-2J', from: 'lab-sender@lab.test', peer: { addr: '10.213.226.10', port: 41058, helo: 'mx.lab.test' }, protocol: 'esmtps', certificateVerified: 'no', sni: null, size: 523, messageId: 'golden-1@smtp-tls-lab.lab.test', recipients: ['user@exim.lab.test'] });
    expect(parseEximTls('TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256')).toEqual({ protocol: 'TLSv1.3', suite: 'ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM', bits: 256 });
  });

  it('a message over TLS 1.3 and a connection that carried none (Postfix at verify deferred and sent QUIT): Exim logs no TLS for the second', async () => {
    const rec = await eximPeerRecord('exim', logOf(read('exim-verify-deferred-and-sent.log')), 0, null, async () => null);
    expect(rec.kind).toBe('exim');
    expect(rec.connections).toHaveLength(2);
    const [sent, quit] = rec.connections;
    expect(sent).toMatchObject({ remotePort: 41058, ehlo: 'mx.lab.test', starttls: true, closed: true, handshakeError: null, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'X25519', sni: null } });
    expect(sent!.messages[0]).toMatchObject({ messageId: 'golden-1@smtp-tls-lab.lab.test', rcptTo: ['user@exim.lab.test'], overTls: true });
    expect(quit).toMatchObject({ remotePort: 41070, tls: null, starttls: false, messages: [], closed: true });
    // The sender's own log says the same: TLSv1.3 TLS_AES_256_GCM_SHA384 key-exchange X25519, and the verify deferral.
    expect(sender).toMatch(/Trusted TLS connection established to mx\.exim\.lab\.test\[10\.213\.226\.30\]:25: TLSv1\.3 with cipher TLS_AES_256_GCM_SHA384 .*key-exchange X25519/);
    expect(sender).toMatch(/to=<user@exim-verify\.lab\.test>.*status=deferred \(Server certificate not verified\)/);
  });

  it('TLS 1.2 by Exim\'s priority, and a version mismatch that GnuTLS calls "No supported cipher suites" while Postfix gets alert 40', async () => {
    const rec = await eximPeerRecord('exim', logOf(read('exim-tls12-and-version-refused.log')), 0, null, async () => null);
    const [ok, refused] = rec.connections;
    expect(ok!.tls).toMatchObject({ protocol: 'TLSv1.2', cipher: 'ECDHE-RSA-AES256-GCM-SHA384', group: 'X25519' });
    expect(refused).toMatchObject({ tls: null, starttls: true, messages: [], ehlo: 'mx.lab.test', handshakeError: 'gnutls_handshake: No supported cipher suites have been found.' });
    expect(sender).toMatch(/SSL alert number 40/);
    expect(sender).toMatch(/to=<user@exim13\.lab\.test>.*dsn=4\.7\.5, status=deferred \(Cannot start TLS: handshake failure\)/);
  });

  it('a marker limits the record to the lines after it', async () => {
    const log = logOf(read('exim-verify-deferred-and-sent.log'));
    const rec = await eximPeerRecord('exim', log, 4, null, async () => null);
    expect(rec.connections.map((c) => c.remotePort)).toEqual([41070]);
  });

  it("Exim's suite words to OpenSSL names; unknown words stay Exim's own", () => {
    expect(eximSuiteName({ protocol: 'TLSv1.2', suite: 'ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_CBC__SHA1', bits: 256 })).toEqual({ openssl: 'ECDHE-RSA-AES256-SHA', group: 'X25519' });
    expect(eximSuiteName({ protocol: 'TLSv1.3', suite: 'ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_128_GCM', bits: 128 })).toEqual({ openssl: 'TLS_AES_128_GCM_SHA256', group: 'prime256v1' });
    expect(eximSuiteName({ protocol: 'TLSv1.2', suite: 'WEIRD_THING', bits: null }).openssl).toBe('WEIRD_THING');
  });
});
