import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { labLabels } from '../../engine/labels.js';
import { withoutNetAdmin } from '../../engine/isolation.js';
import { PostfixContainer } from '../../postfix/postfix-container.js';
import { ClientContainer } from '../../lab/client-container.js';
import { PostfixLog } from '../../postfix/log-stream.js';
import { PostfixReadyWaitStrategy } from '../../postfix/ready-wait-strategy.js';
import { runRawClient } from '../../smtp/raw-client.js';
import { useScenarioSession } from './scenario-fixture.js';

/**
 * Egress, proved without a packet leaving: a lab container has no default route, so a connect()
 * to an address outside its own subnet fails in the kernel with ENETUNREACH before anything is
 * sent. The test first checks the routing table and only then tries; if a route out existed,
 * it would fail without ever aiming a connection outward.
 *
 * The addresses are the documentation ranges (RFC 5737 TEST-NET-1/2/3, RFC 3849), which belong
 * to nobody.
 */
const TEST_NETS = ['192.0.2.1', '198.51.100.1', '203.0.113.1', '2001:db8::1'];
const NET_ADMIN_BIT = 1n << 12n;

function dockerExec(id: string, script: string): { status: number | null; out: string } {
  const r = spawnSync('docker', ['exec', id, ...withoutNetAdmin(['bash', '-c', script])], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** The container's routes as the kernel has them: IPv4 from /proc/net/route, IPv6 from /proc/net/ipv6_route. */
function routes(id: string): { v4: { dest: string; mask: string }[]; v6Default: boolean } {
  const v4 = dockerExec(id, 'cat /proc/net/route').out.split('\n').slice(1).filter(Boolean)
    .map((l) => l.trim().split(/\s+/)).map((f) => ({ dest: f[1]!, mask: f[7]! }));
  const v6 = dockerExec(id, 'cat /proc/net/ipv6_route 2>/dev/null || true').out.split('\n').filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
  // An IPv6 default route: destination ::/0 that is not the unreachable placeholder on lo.
  const v6Default = v6.some((f) => f[0] === '0'.repeat(32) && f[1] === '00' && f[9] !== 'lo');
  return { v4, v6Default };
}

function hexToIpv4(hex: string): string {
  // /proc/net/route prints addresses in host (little-endian) byte order.
  return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
}

function onLink(v4: { dest: string; mask: string }[], ip: string): boolean {
  const n = (s: string) => s.split('.').reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
  return v4.some((r) => ((n(ip) & n(hexToIpv4(r.mask))) >>> 0) === n(hexToIpv4(r.dest)));
}

function dropCounters(): string {
  const r = spawnSync('iptables', ['-L', 'DOCKER-USER', '-v', '-x', '-n'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => /\bDROP\b/.test(l)).map((l) => l.trim().split(/\s+/)[0]).join(',');
}

/** Tries each address from inside the container only after its routing table shows no way there. */
function tryOutward(id: string, addresses: readonly string[]): { address: string; said: string }[] {
  const table = routes(id);
  expect(table.v4.filter((r) => r.dest === '00000000'), `container ${id} has an IPv4 default route: not trying`).toEqual([]);
  expect(table.v6Default, `container ${id} has an IPv6 default route: not trying`).toBe(false);
  for (const a of addresses.filter((x) => !x.includes(':'))) expect(onLink(table.v4, a), `${a} is on a link of ${id}`).toBe(false);
  return addresses.map((address) => {
    const target = address.includes(':') ? `[${address}]` : address;
    const r = dockerExec(id, `exec 3<>/dev/tcp/${address}/25 && echo CONNECTED to ${target}`);
    return { address, said: r.out.trim() };
  });
}

describe('egress: no lab container has a way out', () => {
  const lab = useScenarioSession('opportunistic-25');

  it('Postfix and client containers: no default route, and connecting to TEST-NET fails with "Network is unreachable" in their own namespace', async () => {
    const session = lab();
    const ids = { postfix: session.postfix.getId(), client: (await session.clientContainer()).getId() };
    const before = dropCounters();
    let attempts = 0;
    let unreachable = 0;
    for (const [role, id] of Object.entries(ids)) {
      for (const { address, said } of tryOutward(id, TEST_NETS)) {
        attempts++;
        expect(said, `${role} → ${address}`).not.toMatch(/CONNECTED/);
        // IPv4: no route (ENETUNREACH). IPv6: Docker gave the container no IPv6 address at all,
        // so the kernel has no source address to send from (EADDRNOTAVAIL); either way nothing is sent.
        expect(said, `${role} → ${address}`).toMatch(address.includes(':') ? /Network is unreachable|Cannot assign requested address/ : /Network is unreachable/);
        unreachable++;
      }
    }
    // Nothing reached the host's forwarding path either: the egress guard's drop counters did not move.
    expect(dropCounters()).toBe(before);
    console.log(`egress: ${attempts} connection attempts to TEST-NET from 2 lab containers, ${unreachable} refused inside the container (IPv4 ENETUNREACH, IPv6 no address; no packet sent); egress guard drop counters unchanged (${before || 'none'})`);
  }, 60_000);

  it('the route cannot be put back: NET_ADMIN is gone from PID 1 and from commands run inside', async () => {
    const session = lab();
    for (const id of [session.postfix.getId(), (await session.clientContainer()).getId()]) {
      const capBnd = /CapBnd:\s*([0-9a-f]+)/.exec(dockerExec(id, 'cat /proc/1/status').out)![1]!;
      expect(BigInt(`0x${capBnd}`) & NET_ADMIN_BIT, `PID 1 of ${id} still holds NET_ADMIN`).toBe(0n);
      const gw = hexToIpv4(routes(id).v4[0]!.dest).replace(/\.0$/, '.1');
      const add = dockerExec(id, `ip route add default via ${gw} 2>&1; ip -4 route show default`);
      expect(add.out).toMatch(/Operation not permitted/);
      expect(add.out).not.toMatch(/^default/m);
    }
    const own = await session.postfix.exec(['sh', '-c', 'grep CapEff /proc/self/status']);
    expect(BigInt(`0x${/CapEff:\s*([0-9a-f]+)/.exec(own.output)![1]}`) & NET_ADMIN_BIT).toBe(0n);
  });

  it('no resolver: the only nameserver is the container\'s own loopback, and an outside name resolves to nothing', async () => {
    const session = lab();
    for (const id of [session.postfix.getId(), (await session.clientContainer()).getId()]) {
      const conf = dockerExec(id, 'cat /etc/resolv.conf').out;
      expect(conf.split('\n').filter((l) => /^\s*nameserver/.test(l))).toEqual(['nameserver 127.0.0.1']);
      // The query can only go to 127.0.0.1 inside the container's namespace, where nothing answers.
      const r = dockerExec(id, 'getent ahosts example.com; echo "exit=$?"');
      expect(r.out).toMatch(/exit=2/);
    }
  });

  it('no ports are published on the host, so no two scenarios can collide on one', () => {
    const session = lab();
    const r = spawnSync('docker', ['inspect', '--format', '{{json .HostConfig.PortBindings}} {{json .NetworkSettings.Ports}} {{.HostConfig.NetworkMode}}', session.postfix.getId()], { encoding: 'utf8' });
    const [bindings, ports, mode] = r.stdout.trim().split(' ');
    expect(bindings === '{}' || bindings === 'null').toBe(true);
    expect(Object.values(JSON.parse(ports!) as Record<string, unknown>).every((v) => v === null)).toBe(true);
    expect(mode).toMatch(/^smtp-tls-lab-/);
  });
});

describe('no lab container on the default bridge', () => {
  it('PostfixContainer refuses to start without a lab network, before anything is created', async () => {
    const id = `no-network-${process.pid}`;
    const err = await new PostfixContainer(inject('postfixImage')).withScenarioId(id).withMainCf('').withMasterCf('').start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).message).toMatch(/withLabNetwork\(\) is required \(lab containers never sit on the default bridge\)/);
    expect(await countLabObjects({ scenario: id })).toEqual({ containers: 0, networks: 0 });
  });

  it('so does the client container: the rule is in LabContainer, the base of every lab container', async () => {
    const id = `no-network-client-${process.pid}`;
    const err = await new ClientContainer(inject('postfixImage')).withScenarioId(id).start().catch((e: unknown) => e);
    expect((err as LabError).message).toMatch(/ClientContainer: withLabNetwork\(\) is required \(lab containers never sit on the default bridge\)/);
    expect(await countLabObjects({ scenario: id })).toEqual({ containers: 0, networks: 0 });
  });
});

describe('scenarios running side by side cannot see each other', () => {
  const a = useScenarioSession('opportunistic-25');
  const b = useScenarioSession('submission-587');

  it("each container is on its own scenario's network only, and A's containers cannot reach B's Postfix", async () => {
    const [A, B] = [a(), b()];
    const networksOf = (id: string) => Object.keys(JSON.parse(spawnSync('docker', ['inspect', '--format', '{{json .NetworkSettings.Networks}}', id], { encoding: 'utf8' }).stdout) as object);
    const netA = networksOf(A.postfix.getId());
    const netB = networksOf(B.postfix.getId());
    expect(netA).toHaveLength(1);
    expect(netB).toHaveLength(1);
    expect(netA[0]).not.toBe(netB[0]);
    expect(networksOf((await A.clientContainer()).getId())).toEqual(netA);

    // B's address is on no link of A's containers and there is no default route: the kernel refuses at once.
    for (const id of [A.postfix.getId(), (await A.clientContainer()).getId()]) {
      const said = tryOutward(id, [B.postfix.address])[0]!.said;
      expect(said).toMatch(/Network is unreachable/);
    }
    // Docker's embedded DNS is not there either: B's container name resolves to nothing in A.
    const name = spawnSync('docker', ['inspect', '--format', '{{.Name}}', B.postfix.getId()], { encoding: 'utf8' }).stdout.trim().replace(/^\//, '');
    expect(dockerExec(A.postfix.getId(), `getent hosts ${name} || echo NOT-FOUND`).out).toMatch(/NOT-FOUND/);
  }, 60_000);

  it("mail delivered in A is in A's mailbox and nowhere in B's", async () => {
    const [A, B] = [a(), b()];
    const token = `isolation-${randomBytes(8).toString('hex')}`;
    const ep = A.postfix.endpoint('smtp');
    const { observation } = await runRawClient({ host: ep.host, port: ep.port, mode: 'starttls', message: { from: 'sender@client.lab.test', to: ['postmaster@lab.test'], data: `Subject: ${token}\r\n\r\n${token}\r\n` } });
    expect(observation.error).toBeNull();
    const queueId = observation.delivery!.queueId!;
    await A.postfix.log.waitFor(`delivery of ${queueId}`, (e) => e.type === 'delivery' && e.queueId === queueId, 20_000);
    expect(await A.postfix.deliveredMessage(queueId)).toContain(token);
    const inB = await B.postfix.exec(['sh', '-c', `grep -rl ${token} /var/mail /var/spool/postfix 2>/dev/null | wc -l`]);
    expect(inB.output.trim()).toBe('0');
    expect(B.postfix.events().some((e) => e.raw.includes(queueId))).toBe(false);
  }, 60_000);
});

describe('isolation fails closed', () => {
  it('the lab image refuses to run anything when it cannot delete its route (no NET_ADMIN): exit 78, EISOLATION in the harness', async () => {
    const net = `smtp-tls-lab-isolation-${process.pid}`;
    // Labelled as this run's own, so that no other run's leftover sweep removes it meanwhile.
    const labels = Object.entries(labLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
    expect(spawnSync('docker', ['network', 'create', '--internal', ...labels, net]).status).toBe(0);
    try {
      const r = spawnSync('docker', ['run', '--rm', '--network', net, ...labels, '--entrypoint', '/usr/local/bin/lab-isolate', inject('postfixImage'), 'echo', 'REACHED'], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(78);
      expect(r.stdout).toMatch(/^lab-isolate: FAILED deleting the default route \(-4\): .*Operation not permitted.*NET_ADMIN/m);
      expect(r.stdout).not.toMatch(/REACHED/);
      // The same line, read by the harness's wait strategy, is an isolation error (not "Postfix refused the configuration").
      const log = new PostfixLog();
      const waiting = new PostfixReadyWaitStrategy(log).withStartupTimeout(5_000).waitUntilReady(undefined as never);
      log.push(r.stdout);
      await expect(waiting).rejects.toMatchObject({ code: 'EISOLATION' });
    } finally {
      spawnSync('docker', ['network', 'rm', net]);
    }
  });
});
