import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { LabNetwork, subnetPool } from '../../engine/lab-network.js';
import { hostIdentity, LAB_LABEL, NODE_LABEL, OWNER_HOST_LABEL, RUN_ID, RUN_LABEL } from '../../engine/labels.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';
import type { LabNodeSpec, Scenario } from '../../scenario/types.js';
import { useScenarioSession } from './scenario-fixture.js';

/**
 * The topology on a real engine: fixed addresses on a subnet the lab chose, lab hostnames
 * without DNS, the lab labels on every node, a failed start that leaves nothing, and the
 * warm-up that brings smtpd's start-up warnings into the start-up log.
 */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-topology-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inspect(id: string): { labels: Record<string, string>; networks: Record<string, { IPAddress: string; IPAMConfig: { IPv4Address?: string } | null }> } {
  const r = spawnSync('docker', ['inspect', '--format', '{{json .Config.Labels}}\t{{json .NetworkSettings.Networks}}', id], { encoding: 'utf8' });
  const [labels, networks] = r.stdout.trim().split('\t');
  return { labels: JSON.parse(labels!), networks: JSON.parse(networks!) };
}

/** A scenario directory written for one test (main.cf and scenario.json). */
function scenarioDir(id: string, mainCf: string, extra: Record<string, unknown> = {}): string {
  const dir = path.join(tmp, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'main.cf'), mainCf);
  fs.writeFileSync(
    path.join(dir, 'scenario.json'),
    JSON.stringify({
      id,
      title: id,
      postfix: { mainCf: 'main.cf' },
      certificates: { server: { commonName: 'mx.lab.test' } },
      checks: [{ id: 'banner', title: 'banner', client: { stopAfter: 'banner' }, expect: { error: null } }],
      ...extra,
    }),
  );
  return dir;
}

const TLS_SERVER = 'smtpd_tls_security_level = may\nsmtpd_tls_cert_file = /etc/postfix/lab/tls/server.crt\nsmtpd_tls_key_file = /etc/postfix/lab/tls/server.key\n';

describe('the default topology: mx and the lazy client at fixed addresses', () => {
  const lab = useScenarioSession('opportunistic-25');

  it('every node is at <subnet>.<hostNumber> on a subnet the lab chose from its pool, carries the lab labels, and resolves the others by lab hostname without DNS', async () => {
    const session = lab();
    const subnet = session.network.subnet;
    const pool = subnetPool();
    expect(subnet).toMatch(/^\d+\.\d+\.\d+\.0\/24$/);
    const net = spawnSync('docker', ['network', 'inspect', '--format', '{{json .IPAM.Config}} {{.Internal}}', session.network.id], { encoding: 'utf8' }).stdout.trim();
    expect(net).toBe(`[{"Subnet":"${subnet}","Gateway":"${session.network.gateway}"}] true`);
    const base = subnet.replace(/\.0\/24$/, '');
    const first = base.split('.').reduce((a, b) => a * 256 + Number(b), 0) * 256;
    expect(first >= pool.base && first < pool.base + 2 ** (32 - pool.bits), `${subnet} lies in the pool`).toBe(true);

    const client = await session.clientContainer();
    expect(await session.node('client')).toBe(client);
    expect(session.postfix.address).toBe(`${base}.10`);
    expect(client.address).toBe(`${base}.20`);
    for (const [node, c] of [['mx', session.postfix], ['client', client]] as const) {
      const { labels, networks } = inspect(c.getId());
      expect(labels).toMatchObject({ [LAB_LABEL]: 'true', [RUN_LABEL]: RUN_ID, [OWNER_HOST_LABEL]: hostIdentity(), [NODE_LABEL]: node });
      expect(Object.values(networks).map((n) => [n.IPAddress, n.IPAMConfig?.IPv4Address])).toEqual([[c.address, c.address]]);
    }
    // /etc/hosts, not DNS: the resolver is still only 127.0.0.1 (egress.test.ts), yet the names resolve.
    const fromClient = await client.exec(['getent', 'hosts', 'mx.lab.test']);
    expect(fromClient.stdout.trim().split(/\s+/)).toEqual([`${base}.10`, 'mx.lab.test']);
    const fromMx = await session.postfix.exec(['getent', 'hosts', 'client.lab.test']);
    expect(fromMx.stdout.trim().split(/\s+/)).toEqual([`${base}.20`, 'client.lab.test']);
    // And one node reaches the other at its lab name: the client gets mx's banner.
    const banner = await client.exec(['bash', '-c', 'exec 3<>/dev/tcp/mx.lab.test/25; head -n 1 <&3']);
    expect(banner.stdout).toMatch(/^220 mx\.lab\.test ESMTP/);
  }, 60_000);

  it('the warm-up connected to every smtpd service once, Postfix logged each end, and startupEvents() holds start-up and warm-up', () => {
    const session = lab();
    expect(session.warmUp.connections.map((c) => [c.service, c.ended, c.problem])).toEqual([['smtp', 'disconnect', null]]);
    const events = session.startupEvents();
    expect(events.some((e) => e.type === 'daemon-started')).toBe(true);
    const c = session.warmUp.connections[0]!;
    expect(events.some((e) => e.type === 'disconnect' && e.peer.port === c.localPort && e.peer.addr === c.localAddress)).toBe(true);
    expect(Object.isFrozen(events)).toBe(true);
    console.log(`warm-up of opportunistic-25: ${session.warmUp.ms} ms (1 service); start to ready ${session.startupMs} ms`);
  });
});

describe('warm-up: warnings logged only when smtpd starts', () => {
  it('">=TLSv1.4" disables TLS in smtpd; the warning is in startupEvents() before any check connects, for every service', async () => {
    // Wrapper mode (smtps) counts as mandatory TLS, so its smtpd reads the mandatory list.
    const dir = scenarioDir('warm-up-tls14', `${TLS_SERVER}smtpd_tls_protocols = >=TLSv1.4\nsmtpd_tls_mandatory_protocols = >=TLSv1.4\n`);
    fs.writeFileSync(path.join(dir, 'master.cf'), 'smtps     inet  n       -       n       -       -       smtpd\n  -o syslog_name=postfix/smtps\n  -o smtpd_tls_wrappermode=yes\n');
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8')) as { postfix: Record<string, string> };
    json.postfix.masterCf = 'master.cf';
    fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify(json));
    const session = await ScenarioSession.start(loadScenario(dir), inject('postfixImage'));
    try {
      const warnings = session.startupEvents().filter((e) => e.type === 'warning' && /Invalid TLS protocol list ">=TLSv1\.4": disabling TLS support/.test(e.text));
      // One per smtpd process: the plain service's and the wrapper-mode service's.
      expect(new Set(warnings.map((w) => w.program))).toEqual(new Set(['postfix/smtpd', 'postfix/smtps/smtpd']));
      expect(session.warmUp.connections.map((c) => [c.service, c.wrapper])).toEqual([['smtp', false], ['smtps', true]]);
      for (const c of session.warmUp.connections) expect(c.ended === null ? c.problem : c.ended).toMatch(/disconnect|fatal/);
      // Without the warm-up those lines come only at the first check's connection: none was made before.
      expect(session.startupEvents().filter((e) => e.type === 'connect').length).toBe(2);
      console.log(`warm-up with TLS disabled (2 services): ${session.warmUp.ms} ms; ${warnings.length} warning(s): ${warnings[0]?.raw}`);
    } finally {
      expect(await session.stop()).toEqual([]);
    }
  }, 120_000);

  it('a service that stays silent (a sleep restriction) costs the warm-up its bound, not the scenario: a named wait, recorded, and the session starts', async () => {
    const dir = scenarioDir('warm-up-silent', `${TLS_SERVER}smtpd_delay_reject = no\nsmtpd_client_restrictions = sleep 30, permit\n`);
    const session = await ScenarioSession.start(loadScenario(dir), inject('postfixImage'));
    try {
      const [c] = session.warmUp.connections;
      expect(c?.ended).toBeNull();
      expect(c?.problem).toMatch(/timeout 'warm-up smtp\/25: the 220 greeting' expired/);
      expect(session.warmUp.ms).toBeLessThan(8_000);
    } finally {
      expect(await session.stop()).toEqual([]);
    }
  }, 120_000);
});

describe('a failed start undoes everything the topology made', () => {
  it('Postfix refuses its config while an eager client node starts beside it: EPOSTFIX_CHECK, and no container or network of the scenario remains', async () => {
    const dir = scenarioDir(`undo-${process.pid}`, `${TLS_SERVER}this line is not a parameter\n`);
    const loaded = loadScenario(dir);
    const nodes: LabNodeSpec[] = [
      { name: 'mx', kind: 'postfix', hostnames: ['mx.lab.test'], hostNumber: 10, dependsOn: [], lazy: false },
      { name: 'client', kind: 'client', hostnames: ['client.lab.test'], hostNumber: 20, dependsOn: [], lazy: false },
    ];
    const scenario: Scenario = { ...loaded, nodes };
    const err = await ScenarioSession.start(scenario, inject('postfixImage')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('EPOSTFIX_CHECK');
    expect(await countLabObjects({ scenario: scenario.id })).toEqual({ containers: 0, networks: 0 });
  }, 120_000);

  it('a topology the lab cannot build is refused before anything is created', async () => {
    const loaded = loadScenario(scenarioDir(`bad-topology-${process.pid}`, TLS_SERVER));
    const cycle: LabNodeSpec[] = [
      { name: 'mx', kind: 'postfix', hostnames: ['mx.lab.test'], hostNumber: 10, dependsOn: ['client'], lazy: false },
      { name: 'client', kind: 'client', hostnames: ['client.lab.test'], hostNumber: 20, dependsOn: ['mx'], lazy: true },
    ];
    const err = await ScenarioSession.start({ ...loaded, nodes: cycle }, inject('postfixImage')).catch((e: unknown) => e);
    expect((err as LabError).code).toBe('ESCENARIO');
    expect((err as LabError).message).toMatch(/form a cycle/);
    expect(await countLabObjects({ scenario: loaded.id })).toEqual({ containers: 0, networks: 0 });
  });
});

describe('lab networks side by side', () => {
  it('six networks created at once get six different /24s from the pool', async () => {
    const made = await Promise.all(Array.from({ length: 6 }, (_, i) => LabNetwork.create(`subnets-${process.pid}-${i}`)));
    try {
      const subnets = made.map((n) => n.subnet);
      expect(new Set(subnets).size).toBe(6);
      for (const n of made) expect(n.address(10)).toBe(n.subnet.replace(/0\/24$/, '10'));
    } finally {
      await Promise.all(made.map((n) => n.remove()));
    }
  }, 60_000);

  it('two scenarios racing for the two /24s of a small pool both get one (the loser of the race chooses again); a third is told none is left', async () => {
    const before = process.env.LAB_SUBNET_POOL;
    process.env.LAB_SUBNET_POOL = '10.214.6.0/23';
    try {
      // Each pair picks at random, so in four rounds the two almost surely collide at least once.
      for (let round = 0; round < 4; round++) {
        const pair = await Promise.all([0, 1].map((i) => LabNetwork.create(`race-${process.pid}-${round}-${i}`)));
        try {
          expect(new Set(pair.map((n) => n.subnet))).toEqual(new Set(['10.214.6.0/24', '10.214.7.0/24']));
          const third = await LabNetwork.create(`race-${process.pid}-${round}-2`).catch((e: unknown) => e);
          expect((third as LabError).code).toBe('ECONTAINER');
          expect((third as LabError).message).toMatch(/no free \/24 left in 10\.214\.6\.0\/23/);
        } finally {
          await Promise.all(pair.map((n) => n.remove()));
        }
      }
    } finally {
      if (before === undefined) delete process.env.LAB_SUBNET_POOL;
      else process.env.LAB_SUBNET_POOL = before;
    }
  }, 120_000);
});
