import { ensureImage } from '../../../engine/images.js';
import type { StackName } from '../../../core/stacks.js';
import { ClientContainer, type LabClientContainer } from '../../../lab/client-container.js';
import type { ScenarioSession } from '../../../lab/scenario-session.js';

/**
 * The client container of a check's `clientStack`: the lab image of another stack than the
 * server's (so its OpenSSL and GnuTLS), idling on the scenario's own network until the
 * check's openssl/gnutls clients exec into it. It belongs to the check, not to the
 * scenario's topology: started on the check's first use, stopped when the check ends (it
 * carries the lab's labels, so a run that dies in between leaves nothing the next run's
 * sweep misses). Its address is a host number no node of the scenario has, from 250 down.
 */
export class ClientOnStack {
  private starting: Promise<LabClientContainer> | null = null;

  constructor(
    private readonly session: ScenarioSession,
    readonly stack: StackName,
  ) {}

  container(): Promise<LabClientContainer> {
    if (this.session.stack === this.stack) return this.session.clientContainer();
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<LabClientContainer> {
    const s = this.session;
    const image = (await ensureImage('postfix', () => {}, this.stack)).tag;
    const taken = new Set(s.topology.nodes.map((n) => n.hostNumber));
    let hostNumber = 250;
    while (taken.has(hostNumber)) hostNumber--;
    const name = `client-${this.stack}`;
    let builder = new ClientContainer(image)
      .withScenarioId(s.scenario.id)
      .withNode({ name, hostnames: [`${name}.lab.test`], hostNumber })
      .withLabNetwork(s.network)
      .withLabHosts(s.topology.hosts);
    // With a lab DNS node, every lab container resolves through it, this one too.
    const dns = s.topology.firstOfKind('dns');
    if (dns) builder = builder.withLabDns(s.network.address(dns.hostNumber));
    return builder.start();
  }

  /** Stop the container if this check started one (the scenario's own client container stays the topology's). */
  async stop(): Promise<void> {
    const started = this.starting;
    this.starting = null;
    if (!started) return;
    const c = await started.catch(() => null);
    await c?.stop();
  }
}
