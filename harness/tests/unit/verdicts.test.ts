/**
 * How a check's records become its verdict, and how Postfix's log is paired with a
 * connection. Each case here was a verdict that could lie before "verdicts that cannot lie":
 * a missing tool hid a failure, nothing judged read as a pass, null = null counted as
 * agreement, and a port reused by another connection paired the wrong log lines.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { verdictOf } from '../../checks/verdict.js';
import { agreement } from '../../checks/kinds/client-handshake/run.js';
import { emptyOutcome } from '../../checks/kinds/runner.js';
import { inboundSmtpd } from '../../checks/log-correlation.js';
import { startupFindings } from '../../checks/findings.js';
import { PostfixLog } from '../../postfix/log-stream.js';
import { parseLog } from '../../postfix/log-parser.js';
import type { Assertion } from '../../checks/result.js';
import type { TlsObservation } from '../../tls/observation.js';

const ok: Assertion = { subject: 'client:raw', path: 'tls.protocol', expected: 'TLSv1.3', observed: 'TLSv1.3', ok: true };
const bad: Assertion = { ...ok, observed: 'TLSv1.2', ok: false };
const missingTool = { subject: 'client:openssl', error: new LabError('ETOOL', 'openssl is not installed in the lab client container').toRecord() };
const GOLDEN = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'golden', 'postfix-log');

describe('verdicts', () => {
  it('a failing client is a fail even when another client could not run', () => {
    expect(verdictOf([bad], [], [missingTool]).status).toBe('fail');
  });

  it('a pass from fewer clients than the check names is inconclusive, with the reason', () => {
    const v = verdictOf([ok], [], [missingTool]);
    expect(v.status).toBe('inconclusive');
    expect(v.error?.code).toBe('ETOOL');
  });

  it('a lab failure is an error, never a pass', () => {
    expect(verdictOf([ok], [new LabError('ECONTAINER', 'client container did not start')], []).status).toBe('error');
  });

  it('a check that asserted nothing is an error (every over nothing is true)', () => {
    const v = verdictOf([], [], []);
    expect(v.status).toBe('error');
    expect(v.error?.code).toBe('ENO_ASSERTIONS');
  });

  it('all held: pass', () => {
    expect(verdictOf([ok, ok], [], []).status).toBe('pass');
  });
});

describe('clients agree only where two of them observed a value', () => {
  const obs = (client: string, group: string | null, protocol: string | null) => ({ client, tls: protocol ? { protocol, cipher: { iana: 'TLS_X' }, keyExchange: { group, bits: null } } : null }) as unknown as TlsObservation;

  it('null from every client (DHE group, refused handshakes) is not comparable and no assertion', () => {
    const out = emptyOutcome();
    agreement([obs('raw', null, null), obs('openssl', null, null)], out);
    expect(out.assertions).toEqual([]);
    expect(out.notComparable.map((n) => n.path)).toEqual(['tls.protocol', 'tls.cipher.iana', 'tls.keyExchange.group', 'tls.keyExchange.bits']);
  });

  it('two values are compared, and a disagreement fails', () => {
    const out = emptyOutcome();
    agreement([obs('raw', 'X25519', 'TLSv1.3'), obs('openssl', 'P-256', 'TLSv1.3')], out);
    expect(out.assertions.find((a) => a.path === 'tls.keyExchange.group')?.ok).toBe(false);
    expect(out.assertions.find((a) => a.path === 'tls.protocol')?.ok).toBe(true);
  });
});

describe('smtpd log lines are paired by address and port, after the connection opened', () => {
  // A real session log (opportunistic-25, see golden/postfix-log/README.md), with one older
  // connection from another address on the same port put in front.
  const real = fs.readFileSync(path.join(GOLDEN, 'opportunistic-25-session.log'), 'utf8');
  const firstConnect = parseLog(real).find((e) => e.type === 'connect')!;
  const port = (firstConnect as { peer: { port: number } }).peer.port;

  it('an older connection from another address with the same port is not this one', () => {
    const log = new PostfixLog();
    log.push(`Nov 22 05:20:50 mx postfix/smtpd[99]: connect from unknown[172.17.0.9]:${port}\nNov 22 05:20:50 mx postfix/smtpd[99]: disconnect from unknown[172.17.0.9]:${port} ehlo=1 commands=1\n`);
    log.push(real);
    const own = inboundSmtpd.events(log, { address: '172.17.0.1', port, since: 0 });
    expect(own[0]!.raw).toBe(firstConnect.raw);
    expect(own.some((e) => e.pid === 99)).toBe(false);
  });

  it('lines logged before the connection opened are not this connection, even from the same address', () => {
    const log = new PostfixLog();
    log.push(real);
    const since = log.size;
    expect(inboundSmtpd.events(log, { address: '172.17.0.1', port, since })).toEqual([]);
  });

  it('the wait for the end ignores an old disconnect with the same port', async () => {
    const log = new PostfixLog();
    log.push(`Nov 22 05:20:50 mx postfix/smtpd[99]: disconnect from unknown[172.17.0.1]:${port} ehlo=1 commands=1\n`);
    const since = log.size;
    const ended = inboundSmtpd.waitForEnd(log, { address: '172.17.0.1', port, since }, 2_000);
    log.push(real);
    await expect(ended).resolves.toBeUndefined();
    await expect(inboundSmtpd.waitForEnd(log, { address: '172.17.0.1', port, since: log.size }, 50)).rejects.toThrow(/postfix-disconnect/);
  });
});

describe('Postfix start-up warnings become findings; one that disables TLS is a config error', () => {
  const scenario = { id: 's', file: 'scenarios/s/scenario.json', expectedWarnings: [] as string[] };
  const line = (text: string) => parseLog(`Dec  1 21:00:00 mx postfix/smtpd[300]: ${text}\n`);

  it('an unused (misspelt) parameter is a finding, once, not an error', () => {
    const events = parseLog(fs.readFileSync(path.join(GOLDEN, 'unused-parameter.log'), 'utf8'));
    const r = startupFindings(scenario, events);
    expect(r.configError).toBeNull();
    expect(r.findings.filter((f) => /unused parameter: nosuch_parameter_xyz/.test(f.text))).toHaveLength(1);
    expect(r.findings.every((f) => !f.expected)).toBe(true);
  });

  it('a declared warning is expected', () => {
    const events = parseLog(fs.readFileSync(path.join(GOLDEN, 'unused-parameter.log'), 'utf8'));
    expect(startupFindings({ ...scenario, expectedWarnings: ['unused parameter: nosuch_parameter_xyz='] }, events).findings.some((f) => f.expected)).toBe(true);
  });

  it('"disabling TLS support" is a config error naming Postfix\'s words', () => {
    const r = startupFindings(scenario, line('warning: Invalid TLS protocol list ">=TLSv1.4": disabling TLS support'));
    expect(r.configError?.code).toBe('EPOSTFIX_CHECK');
    expect(r.configError?.message).toMatch(/disabling TLS support/);
  });

  it('smtpd dying at its first connection (a bad TLS level) is a config error', () => {
    const events = parseLog(fs.readFileSync(path.join(GOLDEN, 'invalid-tls-level.log'), 'utf8'));
    expect(startupFindings(scenario, events).configError?.message).toMatch(/Invalid TLS level "bogus"/);
  });
});
