import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import type { ClientHandshakeCheck } from '../../checks/kinds/client-handshake/spec.js';
import { useScenarioSession } from './scenario-fixture.js';

/**
 * A missing tool never hides another client's failure. Before, one client's ETOOL made the
 * whole check inconclusive (a skip), even when raw had already failed on the server. Broken on
 * purpose here: openssl is removed from the scenario's throwaway client container, then one
 * check with raw and openssl runs against real Postfix, once with an expectation the server
 * breaks and once with one it meets.
 */
describe('a failing verdict from any client is a fail; inconclusive only when a client could not judge', () => {
  const lab = useScenarioSession('opportunistic-25');
  const tls12Only = (session: ReturnType<typeof lab>): ClientHandshakeCheck => {
    const check = session.scenario.checks.find((c) => c.id === 'tls12-only-client-accepted');
    if (check?.kind !== 'client-handshake') throw new Error('opportunistic-25 has no tls12-only-client-accepted check');
    return { ...check, clients: ['raw', 'openssl'] };
  };

  it('raw fails on the server while openssl is missing: fail, and the missing tool is named', async () => {
    const session = lab();
    const client = await session.clientContainer();
    expect((await client.exec(['rm', '-f', '/usr/bin/openssl'])).exitCode).toBe(0);
    // The server negotiates TLS 1.2 with a TLS 1.2-only client; expecting TLS 1.3 is the server "failing".
    const check = tls12Only(session);
    const r = await runCheck(session, { ...check, expect: { ...check.expect, 'tls.protocol': 'TLSv1.3' } });
    expect(r.status).toBe('fail');
    expect(r.message).toMatch(/client:raw tls\.protocol: expected "TLSv1\.3", observed "TLSv1\.2"/);
    expect(r.unjudged.map((u) => [u.subject, u.error.code])).toEqual([['client:openssl', 'ETOOL']]);
  });

  it('raw passes while openssl is missing: inconclusive, not a pass from fewer clients than asked', async () => {
    const session = lab();
    const r = await runCheck(session, tls12Only(session));
    expect(r.status).toBe('inconclusive');
    expect(r.error?.code).toBe('ETOOL');
    expect(r.assertions.length).toBeGreaterThan(0);
    expect(r.assertions.every((a) => a.ok)).toBe(true);
  });
});
