/**
 * The gnutls client and clientStack on real containers.
 *
 * - interop-gnutls-seed000 on all four stacks: every check passes as judged on its stack
 *   (byStack), each observation made by the client library of that stack (the transcript
 *   names gnutls-cli's or OpenSSL's version) and paired with Postfix's own log line by its port.
 * - gnutls-cli and s_client in ONE check on the same server: on bookworm and sid the lab
 *   reports the two libraries disagreeing on the key-exchange group and its size, nothing else
 *   (each as Postfix logged it); on bullseye and trixie they agree.
 * - client-stack-pq-only on trixie: the clientStack checks' s_client is bullseye's OpenSSL
 *   1.1.1 / bookworm's 3.0, from a container that is no node of the scenario and is gone after
 *   the check; the scenario's own client container is the server's stack.
 *
 * The break-it changes of both scenarios are run by break-it.test.ts (on each scenario's first stack).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { checkForStack } from '../../checks/kinds/spec-common.js';
import type { ClientHandshakeCheck } from '../../checks/kinds/client-handshake/spec.js';
import type { CheckSpec } from '../../checks/kinds/specs.js';
import type { StackName } from '../../core/stacks.js';
import { docker } from '../../engine/docker-cli.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';
import { stackImage } from './stack-image.js';

/** The library each stack's lab image has (the first words of the transcript's first line). */
const LIBRARY: Readonly<Record<StackName, { gnutls: RegExp; openssl: RegExp }>> = {
  bullseye: { gnutls: /gnutls-cli 3\.7\.1\b/, openssl: /OpenSSL 1\.1\.1/ },
  bookworm: { gnutls: /gnutls-cli 3\.7\.9\b/, openssl: /OpenSSL 3\.0\./ },
  trixie: { gnutls: /gnutls-cli 3\.8\.9\b/, openssl: /OpenSSL 3\.5\./ },
  sid: { gnutls: /gnutls-cli 3\.8\.\d+/, openssl: /OpenSSL 3\.6\./ },
};

async function withSession<T>(id: string, stack: StackName, body: (s: ScenarioSession) => Promise<T>): Promise<T> {
  const session = await ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, id)), await stackImage(stack), stack);
  try {
    return await body(session);
  } finally {
    await session.stop();
  }
}

const onNetwork = async (network: string) => (await docker(['ps', '--filter', `network=${network}`, '--format', '{{.Names}}'])).stdout.split('\n').filter((l) => l.trim()).length;

describe('interop: seed 000 against gnutls-cli and s_client (interop-gnutls-seed000)', () => {
  // Where the libraries disagree, and on what: on sid the hybrid group has no size the openssl reader gives, so .bits is not comparable there.
  const disagreeing: Readonly<Record<StackName, { groups: { gnutls: string; openssl: string }; paths: readonly string[] } | null>> = {
    bullseye: null,
    bookworm: { groups: { gnutls: 'prime256v1', openssl: 'X25519' }, paths: ['clients-agree tls.keyExchange.group', 'clients-agree tls.keyExchange.bits'] },
    trixie: null,
    sid: { groups: { gnutls: 'X25519', openssl: 'X25519MLKEM768' }, paths: ['clients-agree tls.keyExchange.group'] },
  };

  for (const stack of ['bullseye', 'bookworm', 'trixie', 'sid'] as const) {
    it(`${stack}: every check passes, made by ${stack}'s own libraries and paired with Postfix's log; gnutls and openssl in one check ${disagreeing[stack] ? 'disagree on the key exchange only' : 'agree'}`, async () => {
      await withSession('interop-gnutls-seed000', stack, async (s) => {
        for (const written of s.scenario.checks) {
          const check = checkForStack(written, stack).check;
          const r = await runCheck(s, check);
          expect(r.status, `${check.id} [${stack}]: ${r.message}`).toBe('pass');
          for (const o of r.observations) {
            expect(o.transcript[0]!.text, `${check.id}: the library that made it`).toMatch(LIBRARY[stack][o.client as 'gnutls' | 'openssl']);
            expect(o.localPort, `${check.id}: paired with Postfix's log by its port`).toEqual(expect.any(Number));
            expect(r.logEvents.some((e) => 'peer' in e && e.type === 'connect' && e.peer.port === o.localPort)).toBe(true);
          }
        }
        // Both libraries on one check, each with the expectations both share (not the group).
        const base = checkForStack(s.scenario.checks.find((c) => c.id === 'gnutls-default-tls13-group') as ClientHandshakeCheck, stack).check;
        // (capabilities.beforeTls is gnutls's alone: s_client -starttls does not print it.)
        const { ['tls.keyExchange.group']: _group, ['capabilities.beforeTls']: _before, ...shared } = base.expect;
        const both = { ...base, clients: ['gnutls', 'openssl'], expect: shared, serverLog: null } as ClientHandshakeCheck;
        const r = await runCheck(s, both as CheckSpec);
        const groups = Object.fromEntries(r.observations.map((o) => [o.client, o.tls?.keyExchange?.group]));
        const failed = r.assertions.filter((a) => !a.ok).map((a) => `${a.subject} ${a.path}`);
        const d = disagreeing[stack];
        if (d) {
          expect(r.status).toBe('fail');
          expect(failed).toEqual(d.paths);
          expect(groups).toEqual(d.groups);
        } else {
          expect(failed).toEqual([]);
          expect(groups.gnutls).toBe(groups.openssl);
        }
        // Postfix's own line for each connection names the group that client got.
        const established = r.logEvents.filter((e) => e.type === 'tls-established');
        expect(established).toHaveLength(2);
      });
    }, 240_000);
  }
});

describe('clientStack: old s_clients on purpose against a PQ-only trixie Postfix (client-stack-pq-only)', () => {
  it('the clientStack checks run bullseye\'s and bookworm\'s OpenSSL from a container of the check, gone after it; the same-stack checks run trixie\'s', async () => {
    await withSession('client-stack-pq-only', 'trixie', async (s) => {
      const nodeAddresses = new Set(s.topology.nodes.map((n) => s.network.address(n.hostNumber)));
      for (const check of s.scenario.checks as readonly ClientHandshakeCheck[]) {
        const before = await onNetwork(s.network.name);
        const r = await runCheck(s, check);
        expect(r.status, `${check.id}: ${r.message}`).toBe('pass');
        const o = r.observations[0]!;
        const want = check.clientStack ? LIBRARY[check.clientStack].openssl : LIBRARY.trixie[o.client as 'gnutls' | 'openssl'];
        expect(o.transcript[0]!.text, check.id).toMatch(want);
        expect(nodeAddresses.has(o.localAddress!), `${check.id}: from ${o.localAddress}`).toBe(check.clientStack === null);
        // The check's own container is stopped when the check ends; the scenario's client container stays the topology's.
        expect(await onNetwork(s.network.name), `${check.id}: containers on the network after the check`).toBe(check.clientStack ? before : Math.max(before, 2));
      }
    });
  }, 240_000);
});

describe('clientStack: gnutls-cli of every stack against one server (client-stack-key-share)', () => {
  for (const stack of ['bookworm', 'trixie'] as const) {
    it(`${stack}: every GnuTLS version gets the group the ${stack} server's OpenSSL picks, each observation from its own stack's library`, async () => {
      await withSession('client-stack-key-share', stack, async (s) => {
        const groups = new Set<string>();
        for (const written of s.scenario.checks as readonly ClientHandshakeCheck[]) {
          const check = checkForStack(written, stack).check;
          const r = await runCheck(s, check);
          expect(r.status, `${check.id} [${stack}]: ${r.message}`).toBe('pass');
          const o = r.observations[0]!;
          expect(o.transcript[0]!.text, check.id).toMatch(LIBRARY[check.clientStack!][o.client as 'gnutls' | 'openssl']);
          if (o.client === 'gnutls') groups.add(o.tls!.keyExchange!.group!);
        }
        expect([...groups]).toEqual([stack === 'bookworm' ? 'prime256v1' : 'X25519']);
      });
    }, 240_000);
  }
});
