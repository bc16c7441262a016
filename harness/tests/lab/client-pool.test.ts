/**
 * The client pool (lab/client-pool.ts) as the catalogue runner uses it: a client container
 * leaves its scenario with it, and the next scenario on the same image gets the same container
 * moved onto its own network, with no route out, its own hosts, an empty /tmp, and checks that
 * pass against the new scenario's Postfix. Draining removes it; with the pool off, a session's
 * client goes with the session.
 */
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { docker } from '../../engine/docker-cli.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { CLIENT_POOL, POOL_SCENARIO_ID } from '../../lab/client-pool.js';

/** Whether a container or network exists now (by id: other test files run lab objects with the same labels at the same time). */
const exists = async (what: 'container' | 'network', id: string) => (await docker([what, 'inspect', '--format', '{{.Id}}', id], { timeoutMs: 15_000 })).code === 0;
const labelOf = async (id: string) => (await docker(['container', 'inspect', '--format', '{{index .Config.Labels "org.smtp-tls-lab.scenario"}}', id], { timeoutMs: 15_000 })).stdout.trim();
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';

const scenario = (id: string) => loadScenario(path.join(SCENARIOS_DIR, id));
afterAll(() => CLIENT_POOL.drain());

async function opensslChecks(session: ScenarioSession) {
  const checks = session.scenario.checks.filter((c) => JSON.stringify(c).includes('"openssl"'));
  expect(checks.length).toBeGreaterThan(0);
  const results = [];
  for (const c of checks) results.push(await runCheck(session, c));
  return results.map((r) => ({ id: r.id, status: r.status, why: r.status === 'pass' ? '' : r.message.slice(0, 300) }));
}

describe('client pool', () => {
  it('one client container serves two scenarios in turn: moved, cut off, re-hosted, and its checks pass', async () => {
    CLIENT_POOL.enable();
    const first = await ScenarioSession.start(scenario('opportunistic-25'), inject('postfixImage'));
    let id: string;
    const firstNetwork = first.network.id;
    const firstPostfix = first.postfix.getId();
    try {
      const client = await first.node('client', 'client');
      id = client.getId();
      expect((await opensslChecks(first)).filter((r) => r.status !== 'pass')).toEqual([]);
      await client.exec(['sh', '-c', 'echo left-behind > /tmp/lab-left-behind']);
    } finally {
      await first.stop();
    }
    // Off the first scenario's network, which is gone with its Postfix; the client waits in the pool.
    expect(await exists('network', firstNetwork)).toBe(false);
    expect(await exists('container', firstPostfix)).toBe(false);
    expect(await exists('container', id)).toBe(true);
    expect(await labelOf(id)).toBe(POOL_SCENARIO_ID);

    const second = await ScenarioSession.start(scenario('smtps-465'), inject('postfixImage'));
    try {
      const client = await second.node('client', 'client');
      expect(client.getId()).toBe(id);
      expect(client.startSteps.map((s) => s.step)).toEqual(['moved from the client pool']);
      expect(client.address).toBe(second.network.address(20));
      const routes = await client.exec(['sh', '-c', 'ip -4 route show; echo ---; ip -6 route show default; echo ---; cat /etc/hosts; echo ---; ls -A /tmp']);
      const [v4, v6, hosts, tmp] = routes.output.split('---\n');
      expect(v4).not.toMatch(/default/);
      expect(v4).toContain(second.network.subnet);
      expect(v6!.trim()).toBe('');
      expect(hosts).toMatch(new RegExp(`^${second.postfix.address.replace(/\./g, '\\.')}\\s+mx\\.lab\\.test$`, 'm'));
      expect(hosts).toMatch(new RegExp(`^${client.address.replace(/\./g, '\\.')}\\s+client\\.lab\\.test$`, 'm'));
      expect(tmp!.trim()).toBe('');
      expect((await opensslChecks(second)).filter((r) => r.status !== 'pass')).toEqual([]);
    } finally {
      await second.stop();
    }
    await CLIENT_POOL.drain();
    expect(await exists('container', id)).toBe(false);
  }, 180_000);

  it('with the pool off (drained), a session\'s client is removed with the session', async () => {
    await CLIENT_POOL.drain();
    expect(CLIENT_POOL.isEnabled).toBe(false);
    const s = await ScenarioSession.start(scenario('opportunistic-25'), inject('postfixImage'));
    let id: string;
    try {
      id = (await s.node('client', 'client')).getId();
      expect(await labelOf(id)).toBe('opportunistic-25');
    } finally {
      await s.stop();
    }
    expect(await exists('container', id)).toBe(false);
  }, 120_000);
});
