import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { opensmtpdLog } from '../../interop/opensmtpd-container.js';
import { parseOpensmtpdLine } from '../../interop/opensmtpd-log.js';
import { opensmtpdPeerRecord } from '../../interop/opensmtpd-peer-record.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

const read = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/opensmtpd-log', name), 'utf8');
const sender = read('postfix-sender.log');
function logOf(text: string) {
  const log = opensmtpdLog();
  log.push(text);
  log.end();
  return log;
}
/** What the lab Maildir held for golden-8 (its Received: header names OpenSMTPD's id). */
const maildir = (msgid: string) =>
  Promise.resolve(msgid === 'c13dd937' ? `Received: from mx.lab.test (<unknown> [10.213.226.10])\n\tby mx.opensmtpd.lab.test (OpenSMTPD) with ESMTPS id c13dd937 (TLSv1.3:TLS_AES_256_GCM_SHA384:256:NO)\nSubject: t8\nMessage-ID: <golden-8@smtp-tls-lab.lab.test>\n\nhello\n` : null);

describe('OpenSMTPD log reader and record, on real smtpd -d output', () => {
  it('trixie (7.6.0): two sessions over TLS 1.3, each with its message and envelope', async () => {
    const events = read('trixie-tls13-two-messages.log').split('\n').filter(Boolean).map(parseOpensmtpdLine);
    expect(events.find((e) => e.type === 'starting')).toMatchObject({ version: '7.6.0-portable' });
    const rec = await opensmtpdPeerRecord('osmtpd', logOf(read('trixie-tls13-two-messages.log')), 0, null, maildir);
    expect(rec.kind).toBe('opensmtpd');
    expect(rec.connections).toHaveLength(2);
    for (const c of rec.connections) expect(c).toMatchObject({ remoteAddress: '10.213.226.10', remotePort: null, starttls: true, closed: true, handshakeError: null, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: null } });
    const golden8 = rec.messages.find((m) => m.rcptTo.includes('user@osmtpd.lab.test'));
    expect(golden8).toMatchObject({ mailFrom: 'lab-sender@lab.test', messageId: 'golden-8@smtp-tls-lab.lab.test', overTls: true, bytes: 470 });
    expect(golden8!.receivedHeader).toMatch(/with ESMTPS id c13dd937 \(TLSv1\.3:TLS_AES_256_GCM_SHA384:256:NO\)/);
    expect(sender).toMatch(/to=<user@osmtpd\.lab\.test>.*status=sent \(250 2\.0\.0 c13dd937 Message accepted for delivery\)/);
  });

  it('bookworm (6.8.0p2): the handshake fails inside OpenSMTPD ("EVP lib"); Postfix gets alert 80 and defers 4.7.5', async () => {
    const rec = await opensmtpdPeerRecord('osmtpd', logOf(read('bookworm-tls-fails-ec-key.log')), 0, null, async () => null);
    const fromPostfix = rec.connections.find((c) => c.remoteAddress === '10.213.226.10');
    expect(fromPostfix).toMatchObject({ tls: null, starttls: true, messages: [], handshakeError: 'io-error: error:0A080006:SSL routines::EVP lib' });
    expect(sender).toMatch(/SSL alert number 80/);
    expect(sender).toMatch(/to=<user@osmtpd\.lab\.test>.*dsn=4\.7\.5, status=deferred \(Cannot start TLS: handshake failure\)/);
  });
});
