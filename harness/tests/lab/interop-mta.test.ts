/**
 * The interop receiving MXs on real containers: Postfix under test sends to Exim 4 (GnuTLS) and
 * OpenSMTPD, and every check of the two interop scenarios passes on the lab's default stack,
 * judged from the sender's log and from each MTA's own log (the records' kind names the MTA).
 * Each MTA comes from its own image (containers/exim, containers/opensmtpd) on the Postfix image's stack.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';
import { useScenarioSession } from './scenario-fixture.js';
import { stackImage } from './stack-image.js';

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

/**
 * Runs every mta-send check of a sender scenario: each must pass, and its conversation must name
 * the sending MTA's kind and the Postfix under test. Returns who refused whom, by check.
 */
async function refusedByOfEveryCheck(s: ScenarioSession, senderKind: 'exim' | 'opensmtpd'): Promise<Record<string, unknown>> {
  const refusedBy: Record<string, unknown> = {};
  for (const check of s.scenario.checks) {
    const r = await runCheck(s, check);
    expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
    const conversation = (r.tlsSurface as { conversation?: { refusedBy: unknown; sender: { kind: string }; receiver: { kind: string } } }).conversation;
    expect(conversation?.sender.kind).toBe(senderKind);
    expect(conversation?.receiver.kind).toBe('postfix');
    refusedBy[check.id] = conversation?.refusedBy;
  }
  return refusedBy;
}

describe('interop: Exim sends to Postfix (interop-exim-to-postfix-auth-only)', () => {
  const session = useScenarioSession('interop-exim-to-postfix-auth-only');

  it('every check passes from both logs, and each says who refused whom', async () => {
    const refusedBy = await refusedByOfEveryCheck(session(), 'exim');
    // The sender gives up by itself (no AUTH offered; a certificate it cannot verify); the receiver refuses with 530.
    expect(refusedBy).toEqual({
      'starttls-then-auth-on-may': null,
      'no-tls-no-auth-on-may': 'sender',
      'auth-in-clear-on-twin': null,
      'clear-to-encrypt-submission-refused': 'receiver',
      'exim-verifies-postfix-with-lab-ca': null,
      'exim-refuses-unknown-ca': 'sender',
    });
  }, 180_000);
});

describe('interop: OpenSMTPD sends to Postfix (interop-opensmtpd-to-postfix)', () => {
  const session = useScenarioSession('interop-opensmtpd-to-postfix');

  it('every check passes from both logs; the receiver refuses the clear sender with 530, the sender refuses the lab CA', async () => {
    const refusedBy = await refusedByOfEveryCheck(session(), 'opensmtpd');
    expect(refusedBy).toEqual({
      'starttls-then-auth-on-may': null,
      'notls-on-may-delivers-in-clear': null,
      'notls-to-encrypt-submission-refused': 'receiver',
      'default-verify-refuses-the-lab-ca': 'sender',
    });
  }, 180_000);
});

/**
 * One interop scenario on each other stack, where the stack changes what happens (the checks'
 * byStack entries): Postfix 3.5 and '>=TLSv1.3' on bullseye, OpenSMTPD 7.6's working TLS on
 * trixie (as a receiver, and as a sender that refuses the lab CA inside the handshake), Exim
 * 4.100's log on sid. The interop images of those stacks are built here (about
 * 30–40 s each, cold).
 */
describe.each([
  ['bullseye', 'interop-postfix-to-exim'],
  ['trixie', 'interop-postfix-to-opensmtpd'],
  ['sid', 'interop-exim-to-postfix-auth-only'],
  ['trixie', 'interop-opensmtpd-to-postfix'],
] as const)('interop on %s: %s', (stack, id) => {
  it('every check passes by the expectation of its stack', async () => {
    const scenario = loadScenario(path.join(SCENARIOS_DIR, id));
    const s = await ScenarioSession.start(scenario, await stackImage(stack), stack);
    try {
      expect(s.stack).toBe(stack);
      for (const check of scenario.checks) {
        const r = await runCheck(s, check);
        expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
      }
    } finally {
      await s.stop();
    }
  }, 300_000);
});
