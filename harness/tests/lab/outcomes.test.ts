import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import type { ClientHandshakeCheck } from '../../checks/kinds/client-handshake/spec.js';
import type { ScenarioSession } from '../../lab/scenario-session.js';
import { useScenarioSession } from './scenario-fixture.js';

/**
 * Three outcomes, honestly: when the lab's own tooling is missing, a check is inconclusive
 * with the reason, never a pass and never a fail. Broken on purpose here: openssl is removed
 * from the scenario's (throwaway) client container before the check runs.
 */
function handshakeCheck(session: ScenarioSession, id: string): ClientHandshakeCheck {
  const check = session.scenario.checks.find((c) => c.id === id);
  if (check?.kind !== 'client-handshake') throw new Error(`${session.scenario.id} has no client handshake check ${id}`);
  return check;
}

describe('a missing client tool is inconclusive, never pass or fail', () => {
  const lab = useScenarioSession('opportunistic-25');

  it('openssl removed from the client container: inconclusive, with the reason', async () => {
    const session = lab();
    const check = handshakeCheck(session, 'default-handshake-tls13');
    const before = await runCheck(session, { ...check, clients: ['openssl'] });
    expect(before.status).toBe('pass');
    const client = await session.clientContainer();
    expect((await client.exec(['rm', '-f', '/usr/bin/openssl'])).exitCode).toBe(0);
    const after = await runCheck(session, { ...check, clients: ['openssl'] });
    expect(after.status).toBe('inconclusive');
    expect(after.error?.code).toBe('ETOOL');
    expect(after.message).toMatch(/openssl is not installed/);
  });

  it('the same check with a client that is present still gives a verdict', async () => {
    const session = lab();
    const check = handshakeCheck(session, 'default-handshake-tls13');
    expect((await runCheck(session, { ...check, clients: ['raw'] })).status).toBe('pass');
  });
});
