import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { useScenarioSession } from './scenario-fixture.js';

/**
 * Three outcomes, honestly: when the lab's own tooling is missing, a check is inconclusive
 * with the reason, never a pass and never a fail. Broken on purpose here: openssl is removed
 * from the scenario's (throwaway) client container before the check runs.
 */
describe('a missing client tool is inconclusive, never pass or fail', () => {
  const lab = useScenarioSession('opportunistic-25');

  it('openssl removed from the client container: inconclusive, with the reason', async () => {
    const session = lab();
    const check = session.scenario.checks.find((c) => c.id === 'default-handshake-tls13')!;
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
    const check = session.scenario.checks.find((c) => c.id === 'default-handshake-tls13')!;
    expect((await runCheck(session, { ...check, clients: ['raw'] })).status).toBe('pass');
  });
});
