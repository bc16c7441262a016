import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import { renderEximConfig } from '../../interop/exim-config.js';
import { parseEximLine } from '../../interop/exim-log.js';
import { eximSendRecord } from '../../interop/exim-send-record.js';
import { parseLogLine } from '../../postfix/log-parser.js';
import { loadScenario } from '../../scenario/load.js';

/**
 * Exim as a sending client (mta-send checks), on the real logs of one run of
 * interop-exim-to-postfix-auth-only (harness/tests/golden/exim-log/README.md says how they were
 * made): the delivery lines (=>, ==, **) are read into the sender's record, the sender's
 * configuration is what Exim accepted there, and a scenario's mistakes name file and field.
 */
const golden = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/exim-log', name), 'utf8').split('\n').filter(Boolean);
const events = golden('exim-sender.log').map(parseEximLine);
const idOf = (check: string) => (events.find((e) => e.type === 'received' && e.messageId?.startsWith(`${check}.`)) as { eximId: string }).eximId;
const recordOf = (check: string, transport: string) => eximSendRecord('exim-sender', transport, idOf(check), events);

describe("Exim's delivery lines and the sender's record (Exim 4.96 sending to Postfix 3.7.11)", () => {
  it('a delivery over TLS 1.3 with a login: host and port, the suite in OpenSSL names, CV, DN, A= and Postfix\'s queue id from C=', () => {
    expect(recordOf('starttls-then-auth-on-may', 'starttls_auth')).toMatchObject({
      status: 'sent',
      host: { name: 'mx.lab.test', port: 5870, continued: false },
      tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'prime256v1', certificateVerified: 'no', peerDn: 'CN=mx.lab.test' },
      authenticated: true,
      authenticator: 'lab_plain',
      queueId: expect.stringMatching(/^[0-9A-F]{11}$/),
      reason: null,
    });
    expect(recordOf('exim-verifies-postfix-with-lab-ca', 'verify_lab_ca').tls?.certificateVerified).toBe('yes');
  });

  it('a defer in Exim\'s own words before any MAIL (errno -42), and one after the host (errno -37, H= after the errno)', () => {
    expect(recordOf('no-tls-no-auth-on-may', 'clear_auth')).toMatchObject({ status: 'deferred', host: null, tls: null, authenticated: false, errno: -42, reason: 'authentication required but server did not advertise AUTH support' });
    expect(recordOf('exim-refuses-unknown-ca', 'verify_system_ca')).toMatchObject({
      status: 'deferred',
      host: { name: 'mx.lab.test', port: 587 },
      errno: -37,
      reason: 'TLS session: (certificate verification failed): certificate invalid',
    });
  });

  it('a permanent failure quoting the server (**), and a login in clear with no TLS', () => {
    expect(recordOf('clear-to-encrypt-submission-refused', 'clear_noauth')).toMatchObject({ status: 'failed', host: { port: 587 }, tls: null, errno: null, reason: expect.stringMatching(/^SMTP error from remote mail server after pipelined end of data: 530 5\.7\.0 Must issue a STARTTLS command first$/) });
    expect(recordOf('auth-in-clear-on-twin', 'clear_auth')).toMatchObject({ status: 'sent', tls: null, authenticated: true, host: { port: 5871 } });
  });

  it('a message that was never logged is not-attempted, with no lines', () => {
    expect(eximSendRecord('exim-sender', 'x', null, events)).toMatchObject({ status: 'not-attempted', lines: [] });
    expect(eximSendRecord('exim-sender', 'x', '1xZ9zz-00000a-00', events)).toMatchObject({ status: 'not-attempted', lines: [] });
  });

  it("Postfix's side of the same run: the login's sasl_method and sasl_username, and Exim's message read as a command", () => {
    const pf = golden('postfix-from-exim-sender.log').map((l) => parseLogLine(l));
    expect(pf.filter((e) => e.type === 'queue-client').map((e) => (e as { saslMethod: string | null }).saslMethod)).toEqual(['PLAIN', 'PLAIN', 'PLAIN']);
    expect(pf.find((e) => e.type === 'warning' && /non-SMTP command/.test(e.raw))?.raw).toMatch(/non-SMTP command from sender\.exim\.lab\.test\[[\d.]+\]:\d+: Received: from root by sender\.exim\.lab\.test with local \(Exim 4\.96\)/);
  });
});

describe("Exim 4.100's delivery lines (sid): the group in X=, no errno on a defer, a space before the host's colon", () => {
  const sid = golden('exim-4.100-sender.log').map(parseEximLine);
  const rec = (check: string, transport: string) => {
    const id = (sid.find((e) => e.type === 'received' && e.messageId?.startsWith(`${check}.`)) as { eximId: string }).eximId;
    return eximSendRecord('exim-sender', transport, id, sid);
  };

  it('reads the same records as from 4.96', () => {
    expect(rec('starttls-then-auth-on-may', 'starttls_auth')).toMatchObject({ status: 'sent', tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', group: 'prime256v1' }, authenticated: true, host: { port: 5870 } });
    expect(rec('no-tls-no-auth-on-may', 'clear_auth')).toMatchObject({ status: 'deferred', errno: null, reason: 'authentication required but server did not advertise AUTH support' });
    expect(rec('clear-to-encrypt-submission-refused', 'clear_noauth')).toMatchObject({ status: 'failed', host: { port: 587 }, reason: expect.stringMatching(/^SMTP error from remote mail server after pipelined end of data: 530 /) });
    expect(rec('exim-refuses-unknown-ca', 'verify_system_ca')).toMatchObject({ status: 'deferred', errno: null, host: { name: 'mx.lab.test', port: 587 }, reason: 'TLS session: (certificate verification failed): certificate invalid' });
  });
});

describe("the sender's Exim configuration", () => {
  const spec = { certificate: null, priority: null, sender: { login: 'alice@lab.test', transports: { starttls: { hosts_require_tls: '*' }, clear: { hosts_avoid_tls: '*' } } } };
  const conf = renderEximConfig(spec, 'sender.exim.lab.test', 'mx.lab.test');

  it('one router per transport, chosen by the X-Lab-Transport header, to the Postfix under test; the port from X-Lab-Port; one message per connection', () => {
    expect(conf).toContain('send_starttls:\n  driver = manualroute\n  condition = ${if eq{$h_x-lab-transport:}{starttls}}\n  route_list = * mx.lab.test byname\n  transport = lab_send_starttls');
    expect(conf).toContain('lab_send_clear:\n  driver = smtp\n  port = $h_x-lab-port:\n  connection_max_messages = 1\n  hosts_avoid_tls = *');
    // The sending routers come before the lab mailbox, which takes every other message (bounces included).
    expect(conf.indexOf('send_clear:')).toBeLessThan(conf.indexOf('lab_mailbox:'));
  });

  it('the password is looked up in the run\'s secrets file, never written into the configuration', () => {
    expect(conf).toContain('client_send = ^alice@lab.test^${lookup{alice@lab.test}lsearch{/etc/exim4/lab-tls/sasl-users}}');
    expect(renderEximConfig({ ...spec, sender: { ...spec.sender, login: null } }, 's', 'mx.lab.test')).not.toContain('begin authenticators');
  });

  it('a receiving-only Exim has no sending router', () => {
    expect(renderEximConfig({ certificate: null, priority: null, sender: null }, 's')).not.toContain('send_');
  });
});

describe('mta-send checks in scenario files: mistakes name the file and the field', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-mta-send-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const source = path.join(SCENARIOS_DIR, 'interop-exim-to-postfix-auth-only');
  const base = JSON.parse(fs.readFileSync(path.join(source, 'scenario.json'), 'utf8')) as { nodes: { exim?: { sender: { transports: Record<string, Record<string, string>> } } }[]; checks: Record<string, unknown>[] };

  function refusal(name: string, edit: (s: typeof base) => void): string {
    const dir = path.join(tmp, name);
    fs.cpSync(source, dir, { recursive: true });
    const s = structuredClone(base);
    edit(s);
    fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify({ ...s, id: name }));
    try {
      loadScenario(dir);
    } catch (err) {
      expect(err).toBeInstanceOf(LabError);
      return (err as LabError).message;
    }
    return 'loaded';
  }

  it('the scenario as written loads', () => {
    expect(refusal('as-written', () => {})).toBe('loaded');
  });

  it('a transport the node does not have, a misspelt path of the record, and a port set by hand are refused', () => {
    expect(refusal('bad-transport', (s) => ((s.checks[0]!.from as { transport: string }).transport = 'starttls'))).toMatch(/checks\[0\]\.from\.transport.*starttls_auth/s);
    expect(refusal('bad-path', (s) => ((s.checks[0]!.expect as Record<string, unknown>)['tls.protocl'] = 'TLSv1.3'))).toMatch(/expect\["tls\.protocl"\].*which no sending MTA's record has/s);
    expect(refusal('port-by-hand', (s) => (s.nodes[1]!.exim!.sender.transports.starttls_auth!.port = '25'))).toMatch(/transports\.starttls_auth\.port.*the port is the check's service/s);
  });

  it('a check that expects nothing cannot fail, and is refused', () => {
    expect(refusal('expects-nothing', (s) => {
      for (const k of ['expect', 'serverLog', 'serverLogAbsent', 'serverLogCounts']) delete s.checks[0]![k];
    })).toMatch(/at least one expectation/);
  });
});
