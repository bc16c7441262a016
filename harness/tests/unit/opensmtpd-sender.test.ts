import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { opensmtpdSendFrom, renderOpensmtpdConfig } from '../../interop/opensmtpd-config.js';
import { parseOpensmtpdLine, type OpensmtpdLogEvent } from '../../interop/opensmtpd-log.js';
import { opensmtpdSendRecord } from '../../interop/opensmtpd-send-record.js';

/**
 * OpenSMTPD as a sending client, on the real logs of one run of interop-opensmtpd-to-postfix
 * (golden/opensmtpd-log/README.md): each check's lines begin at its `smtp envelope` line, as the
 * check's marker does in the lab.
 */
function checksOf(name: string): OpensmtpdLogEvent[][] {
  const events = fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/opensmtpd-log', name), 'utf8').split('\n').filter(Boolean).map(parseOpensmtpdLine);
  const out: OpensmtpdLogEvent[][] = [];
  for (const e of events) (e.type === 'envelope' ? out.push([e]) : out[out.length - 1]!.push(e));
  return out;
}
const recordOf = (events: readonly OpensmtpdLogEvent[], relay: string) => opensmtpdSendRecord('osmtpd-sender', relay, (events[0] as { evpid: string }).evpid, events);

describe('OpenSMTPD mta lines and the sender record', () => {
  it('6.8.0p2 (bookworm): TLS 1.3 with its failing, disabled certificate check; in clear; PermFail 530; refused after the handshake', () => {
    const [tls, clear, refused, verify] = checksOf('sender-6.8.0p2-bookworm.log');
    expect(recordOf(tls!, 'starttls_auth')).toMatchObject({ kind: 'opensmtpd', status: 'sent', host: { name: 'mx.lab.test', port: 5870 }, tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', certificateVerified: 'failure' }, authenticated: null, queueId: expect.stringMatching(/^[0-9A-F]+$/) });
    expect(recordOf(clear!, 'notls')).toMatchObject({ status: 'sent', tls: null, host: { port: 5870 } });
    expect(recordOf(refused!, 'notls')).toMatchObject({ status: 'failed', host: { port: 587 }, reason: '530 5.7.0 Must issue a STARTTLS command first' });
    // The failed session has its own id; the envelope's TempFail comes later on session 0000…
    expect(recordOf(verify!, 'starttls_default_verify')).toMatchObject({ status: 'deferred', host: { port: 587 }, tls: { protocol: 'TLSv1.3' }, reason: 'SSL certificate check failed' });
  });

  it('7.6.0 (trixie): cert-check "unverified" when told not to verify, and refused inside the handshake when it verifies', () => {
    const [tls, , , verify] = checksOf('sender-7.6.0-trixie.log');
    expect(recordOf(tls!, 'starttls_auth').tls).toMatchObject({ protocol: 'TLSv1.3', certificateVerified: 'unverified' });
    expect(recordOf(verify!, 'starttls_default_verify')).toMatchObject({ status: 'deferred', tls: null, reason: 'IO Error: certificate verification failed: self-signed certificate in certificate chain' });
  });

  it('an envelope never logged is not-attempted', () => {
    expect(opensmtpdSendRecord('n', 'r', null, [])).toMatchObject({ status: 'not-attempted', lines: [] });
  });
});

describe("the sender's smtpd.conf", () => {
  const spec = { certificate: null, ciphers: null, protocols: null, sender: { login: 'alice@lab.test', relays: { starttls_auth: { scheme: 'smtp+tls' as const, auth: true, options: 'tls no-verify' }, notls: { scheme: 'smtp+notls' as const, auth: false, options: null } } } };
  const r = renderOpensmtpdConfig(spec, 'sender.opensmtpd.lab.test', { host: 'mx.lab.test', ports: [587, 5870] });

  it('one relay action per relay and port, chosen by the envelope sender, before the catch-all that receives', () => {
    expect(r.config).toContain('action "send_starttls_auth_5870" relay host smtp+tls://lab@mx.lab.test:5870 auth <labsecrets> tls no-verify');
    expect(r.config).toContain(`match from local mail-from "${opensmtpdSendFrom('notls', 587)}" for any action "send_notls_587"`);
    expect(r.config.indexOf('send_notls_587')).toBeLessThan(r.config.indexOf('match from any for any action "lab"'));
  });

  it('the password is never in the configuration: only the login, for the entrypoint to look up', () => {
    expect(r.config).toContain('table labsecrets file:/etc/smtpd/lab-tls/lab-secrets');
    expect(r.senderLogin).toBe('alice@lab.test\n');
    expect(renderOpensmtpdConfig({ ...spec, sender: null }, 'x').config).not.toContain('send_');
  });
});

describe('an OpenSMTPD sender in a scenario file: mistakes name the file and the field', () => {
  it('AUTH over a relay without TLS is refused when the file loads (OpenSMTPD itself only fails at run time)', async () => {
    const os = await import('node:os');
    const { loadScenario } = await import('../../scenario/load.js');
    const { SCENARIOS_DIR } = await import('../../engine/paths.js');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-osmtpd-'));
    const dir = path.join(tmp, 'interop-opensmtpd-to-postfix');
    try {
      fs.cpSync(path.join(SCENARIOS_DIR, 'interop-opensmtpd-to-postfix'), dir, { recursive: true });
      const file = path.join(dir, 'scenario.json');
      const s = JSON.parse(fs.readFileSync(file, 'utf8')) as { nodes: { opensmtpd?: { sender: { relays: Record<string, Record<string, unknown>> } } }[] };
      s.nodes[1]!.opensmtpd!.sender.relays.notls!.auth = true;
      fs.writeFileSync(file, JSON.stringify(s));
      expect(() => loadScenario(dir)).toThrow(/relays\.notls\.auth.*smtp\+tls or smtps/s);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
