import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { labMatchers } from '../../matchers/lab-matchers.js';
import { PostfixLog } from '../../postfix/log-stream.js';
import { parseLogLine } from '../../postfix/log-parser.js';
import type { TlsObservation } from '../../tls/observation.js';

expect.extend(labMatchers);

/**
 * The library's matchers on recorded real data, without containers: the observations of a real
 * run (harness/tests/fixtures/report/real-run, with one scenario whose TLS 1.1 refusal was
 * broken on purpose) and real Postfix logs (harness/tests/golden/postfix-log). Each matcher
 * passes where the data says so and fails, with a message naming what it saw, where it does not.
 * The same matchers against a live Postfix, through the package name: harness/tests/lab/library-example.test.ts.
 */
interface FixtureReport {
  readonly scenarios: readonly { readonly id: string; readonly checks: readonly { readonly id: string; readonly observations: readonly TlsObservation[] }[] }[];
}
const report = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/fixtures/report/real-run/report.json'), 'utf8')) as FixtureReport;
function observation(scenario: string, check: string, client: string): TlsObservation {
  const o = report.scenarios.find((s) => s.id === scenario)?.checks.find((c) => c.id === check)?.observations.find((x) => x.client === client);
  if (!o) throw new Error(`fixture has no ${client} observation for ${scenario}/${check}`);
  return o;
}
const golden = (name: string) => fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/postfix-log', name), 'utf8');
function logOf(name: string): PostfixLog {
  const log = new PostfixLog();
  log.push(golden(name));
  log.end();
  return log;
}

const tls13 = observation('opportunistic-25-tls11-allowed', 'default-handshake-tls13', 'raw');
const tls11Accepted = observation('opportunistic-25-tls11-allowed', 'tls11-only-client-refused', 'openssl');
const beforeTls = observation('submission-587', 'auth-hidden-before-starttls', 'raw');
const wrongPassword = observation('submission-587', 'wrong-password-refused', 'raw');
const relayRefused = observation('submission-587', 'relay-without-auth-refused', 'raw');
const inbound = logOf('opportunistic-25-session.log');
const outbound = logOf('outbound-verify-sender.log');

/** The message of a failed expectation (the test fails when it does not fail). */
function failure(assertion: () => void): string {
  try {
    assertion();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the assertion passed; it was expected to fail');
}

describe('toNegotiate', () => {
  it('passes on what the client negotiated, by OpenSSL or IANA name, and fails on anything else', () => {
    const { protocol, cipher } = tls13.tls!;
    expect(protocol).toBe('TLSv1.3');
    expect(tls13).toNegotiate({ protocol, cipher: cipher.openssl });
    if (cipher.iana) expect(tls13).toNegotiate({ cipher: cipher.iana });
    expect(tls13).toNegotiate();
    expect(failure(() => expect(tls13).toNegotiate({ protocol: 'TLSv1.2' }))).toMatch(/to negotiate protocol TLSv1\.2; it negotiated TLSv1\.3 with /);
    expect(failure(() => expect(tls13).toNegotiate({ cipher: 'ECDHE-RSA-AES128-GCM-SHA256' }))).toContain('cipher ECDHE-RSA-AES128-GCM-SHA256');
    expect(failure(() => expect(tls13).not.toNegotiate({ protocol: 'TLSv1.3' }))).toMatch(/not to negotiate protocol TLSv1\.3/);
  });

  it('the broken scenario: its TLS 1.1-only client really got TLS 1.1', () => {
    expect(tls11Accepted).toNegotiate({ protocol: 'TLSv1.1' });
    expect(failure(() => expect(tls11Accepted).not.toNegotiate())).toMatch(/it negotiated TLSv1\.1 with /);
  });

  it('a connection with no TLS fails with its error', () => {
    expect(beforeTls.tls).toBeNull();
    expect(beforeTls).not.toNegotiate();
    expect(failure(() => expect(beforeTls).toNegotiate())).toMatch(/it negotiated no TLS/);
  });

  it('on a Postfix log: some TLS summary line shows them', () => {
    expect(inbound).toNegotiate({ protocol: 'TLSv1.2', cipher: 'DHE-RSA-AES256-GCM-SHA384' });
    expect(failure(() => expect(inbound).toNegotiate({ protocol: 'TLSv1.1' }))).toMatch(/TLS summary line\(s\) \(last: .*TLSv1\.2 ECDHE-RSA-AES128-GCM-SHA256/);
  });
});

describe('toAdvertise', () => {
  it('reads the EHLO replies by keyword or whole line, before or after TLS', () => {
    expect(beforeTls).toAdvertise('STARTTLS');
    expect(beforeTls).toAdvertise('starttls', { when: 'before-tls' });
    expect(beforeTls).not.toAdvertise('AUTH');
    expect(failure(() => expect(beforeTls).toAdvertise('AUTH'))).toMatch(/to advertise AUTH; before TLS: .*STARTTLS/);
    const after = observation('submission-587', 'auth-offered-after-starttls', 'raw');
    expect(after).toAdvertise('AUTH', { when: 'after-tls' });
    expect(after).toAdvertise('AUTH PLAIN LOGIN', { when: 'after-tls' });
    expect(after).not.toAdvertise('STARTTLS', { when: 'after-tls' });
    expect(failure(() => expect(after).toAdvertise('STARTTLS', { when: 'after-tls' }))).toMatch(/\(after-tls\); after TLS: .*AUTH PLAIN LOGIN/);
  });

  it('says so when no EHLO reply was seen', () => {
    expect(failure(() => expect(tls13).toAdvertise('STARTTLS', { when: 'after-tls' }))).toMatch(/STARTTLS/);
    const openssl = observation('opportunistic-25-tls11-allowed', 'default-handshake-tls13', 'openssl');
    expect(openssl.capabilities.beforeTls).toBeNull();
    expect(failure(() => expect(openssl).toAdvertise('STARTTLS', { when: 'before-tls' }))).toMatch(/no EHLO reply before-tls was seen by the openssl client/);
  });
});

describe('toHaveLogged', () => {
  it('matches every field given, nested objects and RegExps too', () => {
    expect(outbound).toHaveLogged({ trust: 'Verified' });
    expect(outbound).toHaveLogged({ type: 'tls-established', trust: 'Verified', direction: 'to', peer: { name: 'good-peer.lab.test', port: 25 } });
    expect(outbound).toHaveLogged({ type: 'delivery', status: 'deferred', reason: /Server certificate not verified/ });
    expect(inbound).not.toHaveLogged({ trust: 'Verified' });
    expect(failure(() => expect(inbound).toHaveLogged({ trust: 'Verified' }))).toMatch(/none of its \d+ line\(s\) did; lines with those fields:\n {2}.*Anonymous TLS connection established from/);
    expect(failure(() => expect(outbound).not.toHaveLogged({ trust: 'Verified' }))).toMatch(/not to have a line matching \{ trust: "Verified" \}; \d+ did:\n {2}.*Verified TLS connection established to good-peer/);
  });

  it('takes a started container (its .log) or a list of events as well', () => {
    const events = golden('outbound-verify-sender.log').split('\n').filter(Boolean).map(parseLogLine);
    expect(events).toHaveLogged({ trust: 'Verified' });
    expect({ log: outbound }).toHaveLogged({ trust: 'Verified' });
    expect(failure(() => expect({ nothing: 1 }).toHaveLogged({ trust: 'Verified' }))).toMatch(/toHaveLogged: expected a Postfix log .* received an object with keys nothing/);
  });
});

describe('toFailAt', () => {
  it('passes at the stage the connection failed, and names the stage it failed at otherwise', () => {
    expect(wrongPassword).toFailAt('auth');
    expect(relayRefused).toFailAt('mail');
    expect(failure(() => expect(wrongPassword).toFailAt('handshake'))).toMatch(/to fail at handshake; it failed at auth: /);
    expect(failure(() => expect(tls13).toFailAt('handshake'))).toMatch(/it did not fail \(negotiated TLSv1\.3/);
    expect(failure(() => expect(wrongPassword).not.toFailAt('auth'))).toMatch(/not to fail at auth/);
  });

  it('refuses a stage that does not exist, and anything that is not an observation', () => {
    expect(failure(() => expect(tls13).toFailAt('tls' as never))).toMatch(/'tls' is not a stage \(stages: tcp, banner/);
    expect(failure(() => expect(inbound).toFailAt('handshake'))).toMatch(/toFailAt: expected a TlsObservation/);
    // Thrown, not a failed match: .not cannot turn a mistake into a pass.
    expect(failure(() => expect(inbound).not.toFailAt('handshake'))).toMatch(/toFailAt: expected a TlsObservation/);
    expect(failure(() => expect(tls13).not.toFailAt('tls' as never))).toMatch(/'tls' is not a stage/);
    expect(failure(() => expect(tls13).not.toHaveLogged({ trust: 'Verified' }))).toMatch(/toHaveLogged: expected a Postfix log/);
    expect(failure(() => expect(inbound).not.toAdvertise('STARTTLS'))).toMatch(/toAdvertise: expected a TlsObservation/);
  });
});
