import { getContainerRuntimeClient, type StoppedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import type { LabHostEntry, LabNodeIdentity } from '../engine/lab-container.js';
import type { LabNetwork } from '../engine/lab-network.js';
import { ClientContainer, LabClientContainer } from './client-container.js';

/**
 * Lab client containers kept between the scenarios of one process, by image. A client holds
 * nothing of its scenario's that a check relies on (checks write what they use into /tmp
 * before using it), so instead of removing it when its scenario stops, the pool takes it off
 * that scenario's network; the next scenario on the same image gets it moved onto its own
 * network at its fixed address, with its hosts, its resolver and an empty /tmp. A move is one
 * network disconnect, one connect and one exec: about a tenth of the CPU of a container's
 * create, start and removal (Docker re-executes itself three times per new container, and
 * sets up its netfilter rules and resolver again).
 *
 * Only the catalogue runner turns it on (many scenarios in one process); everything else
 * starts and removes its client as before. Pooled clients carry the scenario label
 * 'client-pool' (Docker labels cannot change), the run's labels as every lab container, and
 * are removed by drain(), or by the run's sweep if the process dies first.
 */
export const POOL_SCENARIO_ID = 'client-pool';

/** What the move exec does inside the client, after lab-isolate cut the new route out: the new scenario's view, and lab-isolate's check once more. */
const MOVE_SCRIPT = [
  'set -e',
  'rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null || true',
  'printf "%s" "$1" > /etc/hosts',
  'printf "%s" "$2" > /etc/resolv.conf',
  'left=$(ip -4 route show default; ip -6 route show default 2>/dev/null)',
  '[ -z "$left" ] || { echo "lab-pool: FAILED a route out remains: $left"; exit 1; }',
  'ip -4 -o addr show | grep -q " inet $3/" || { echo "lab-pool: FAILED address $3 not on any interface"; exit 1; }',
  'echo "lab-pool: moved ($(ip -4 route show | tr "\\n" ";"))"',
].join('\n');

class PooledClient extends LabClientContainer {
  constructor(
    private readonly pool: ClientPool,
    private readonly image: string,
    private readonly inner: LabClientContainer,
    node: LabNodeIdentity,
    address: string,
    private readonly network: LabNetwork,
    scenarioId: string,
    startSteps: LabClientContainer['startSteps'],
  ) {
    super(inner, node, address, network.name, scenarioId, startSteps);
  }

  /** Back to the pool (off this scenario's network); removed instead when that fails or the pool is draining. */
  override async stop(): Promise<StoppedTestContainer> {
    await this.pool.park(this.image, this.inner, this.network);
    return { getId: () => this.inner.getId(), copyArchiveFromContainer: (p: string) => this.inner.copyArchiveFromContainer(p) } as StoppedTestContainer;
  }
}

export class ClientPool {
  private readonly parked = new Map<string, LabClientContainer[]>();
  private enabled = false;

  enable(): void {
    this.enabled = true;
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  /**
   * A client for a scenario: a parked one of the image moved onto the scenario's network,
   * else a fresh one started for the pool. With the pool off, a plain client (as before).
   */
  async take(o: { image: string; node: LabNodeIdentity; network: LabNetwork; hosts: readonly LabHostEntry[]; labDns: string | null; scenarioId: string; fresh: (scenarioId: string) => ClientContainer }): Promise<LabClientContainer> {
    if (!this.enabled) return o.fresh(o.scenarioId).start();
    const started = Date.now();
    const address = o.network.address(o.node.hostNumber);
    for (let inner = this.parked.get(o.image)?.pop(); inner; inner = this.parked.get(o.image)?.pop()) {
      try {
        await this.move(inner, o.network, address, o.node, o.hosts, o.labDns);
        return new PooledClient(this, o.image, inner, o.node, address, o.network, o.scenarioId, [{ step: 'moved from the client pool', atMs: Date.now() - started }]);
      } catch {
        // A client that cannot be moved is not trusted again: removed, and the next one tried.
        await this.remove(inner);
      }
    }
    const fresh = await o.fresh(POOL_SCENARIO_ID).start();
    return new PooledClient(this, o.image, fresh, o.node, address, o.network, o.scenarioId, fresh.startSteps);
  }

  /** Off the scenario's network and into the pool; removed when the pool is off or the disconnect fails. */
  async park(image: string, inner: LabClientContainer, network: LabNetwork): Promise<void> {
    try {
      if (!this.enabled) throw new Error('pool off');
      const client = await getContainerRuntimeClient();
      await client.network.getById(network.id).disconnect({ Container: inner.getId(), Force: true });
      const list = this.parked.get(image) ?? [];
      list.push(inner);
      this.parked.set(image, list);
    } catch {
      await this.remove(inner);
    }
  }

  /** Removes every parked client and turns the pool off (later stops remove their client). */
  async drain(): Promise<void> {
    this.enabled = false;
    const all = [...this.parked.values()].flat();
    this.parked.clear();
    await Promise.all(all.map((c) => this.remove(c)));
  }

  private async remove(inner: LabClientContainer): Promise<void> {
    await inner.stop().catch(() => undefined);
  }

  private async move(inner: LabClientContainer, network: LabNetwork, address: string, node: LabNodeIdentity, hosts: readonly LabHostEntry[], labDns: string | null): Promise<void> {
    const client = await getContainerRuntimeClient();
    await client.network.getById(network.id).connect({ Container: inner.getId(), EndpointConfig: { IPAMConfig: { IPv4Address: address } } });
    const own = node.hostnames.map((hostname) => ({ hostname, address }));
    const entries = [...own, ...hosts.filter((e) => !node.hostnames.includes(e.hostname))];
    const hostsFile = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', ...entries.map((e) => `${e.address}\t${e.hostname}`)].join('\n') + '\n';
    const resolv = labDns ? `nameserver ${labDns}\n` : '# smtp-tls-lab: no resolver (nothing listens here)\nnameserver 127.0.0.1\n';
    // lab-isolate again (Docker gave the new endpoint a default route via the bridge), then the script without NET_ADMIN.
    const r = await inner.execIsolated(['sh', '-c', MOVE_SCRIPT, 'lab-pool', hostsFile, resolv, address]);
    if (r.exitCode !== 0) throw new LabError('EISOLATION', `a pooled client could not be moved onto ${network.name}: ${r.output.trim()}`);
  }
}

/** The process's client pool (off unless the catalogue runner turns it on). */
export const CLIENT_POOL = new ClientPool();
