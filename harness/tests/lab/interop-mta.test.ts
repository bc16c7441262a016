/**
 * The interop receiving MXs on real containers: Postfix under test sends to Exim 4 (GnuTLS) and
 * OpenSMTPD, and every check of the two interop scenarios passes on the lab's default stack,
 * judged from the sender's log and from each MTA's own log (the records' kind names the MTA).
 * Each MTA comes from its own image (containers/exim, containers/opensmtpd) on the Postfix image's stack.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { useScenarioSession } from './scenario-fixture.js';

describe('interop: Postfix sends to Exim (interop-postfix-to-exim)', () => {
  const session = useScenarioSession('interop-postfix-to-exim');

  it('Exim runs from its own image with GnuTLS, and every check passes from both logs', async () => {
    const s = session();
    const exim = await s.node('exim', 'exim');
    expect(exim.version).toMatch(/^Exim version 4\.\d+/);
    for (const check of s.scenario.checks) {
      const r = await runCheck(s, check);
      expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
      const peers = (r.tlsSurface as { delivery?: { peers: Record<string, { kind: string }> } }).delivery?.peers ?? {};
      expect(Object.values(peers).map((p) => p.kind)).toEqual(['exim', 'exim']);
    }
  }, 180_000);
});

describe('interop: Postfix sends to OpenSMTPD (interop-postfix-to-opensmtpd)', () => {
  const session = useScenarioSession('interop-postfix-to-opensmtpd');

  it('every check passes: TLS fails inside OpenSMTPD 6.8 (its log says why), only the no-TLS twin delivers', async () => {
    const s = session();
    for (const check of s.scenario.checks) {
      const r = await runCheck(s, check);
      expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
    }
  }, 180_000);
});

describe('interop: Postfix at dane sends to Exim (interop-dane-to-exim)', () => {
  const session = useScenarioSession('interop-dane-to-exim');

  it('a matching TLSA is Verified and Exim logs the SNI Postfix sent; a TLSA of another key defers', async () => {
    const s = session();
    for (const check of s.scenario.checks) {
      const r = await runCheck(s, check);
      expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
    }
  }, 180_000);
});
