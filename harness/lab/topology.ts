import { LabError } from '../core/errors.js';
import type { MaterializedCerts } from '../certs/materialize.js';
import { spkiSha256 } from '../certs/lab-pki.js';
import { checkNodeIdentity, type LabContainer, type LabHostEntry, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { LabNetwork } from '../engine/lab-network.js';
import type { EffectiveConfig } from '../postfix/effective-config.js';
import { PostfixContainer, type StartedPostfixContainer } from '../postfix/postfix-container.js';
import { effectiveConfig } from '../postfix/effective-config.js';
import { SmtpPeer, type StartedSmtpPeer } from '../peer/smtp-peer.js';
import { DnsContainer, type StartedDnsContainer } from '../dns/dns-container.js';
import { renderZones } from '../dns/zone.js';
import type { LabNodeKind, LabNodeSpec, Scenario } from '../scenario/types.js';
import { CLIENT_POOL } from './client-pool.js';
import { ClientContainer, type LabClientContainer } from './client-container.js';
import { EximContainer, type StartedEximContainer } from '../interop/exim-container.js';
import { OpensmtpdContainer, type StartedOpensmtpdContainer } from '../interop/opensmtpd-container.js';
import { parseMasterCf } from '../postfix/master-cf.js';
import { smtpdInetServices } from './warm-up.js';
import { interopImage } from '../interop/interop-image.js';
import { DEFAULT_EXIM_SPEC, DEFAULT_OPENSMTPD_SPEC } from '../interop/mta-spec.js';
import { StsPolicyContainer, type StartedStsPolicy } from '../sts/policy-container.js';
import { StsResolverContainer, type StartedStsResolver } from '../sts/resolver-container.js';

/** What a node kind gets to build and start one node. */
export interface NodeStartContext {
  readonly scenario: Scenario;
  readonly image: string;
  readonly network: LabNetwork;
  readonly node: LabNodeSpec;
  /** Every node's lab hostnames at its fixed address (this node's own too), for /etc/hosts. */
  readonly hosts: readonly LabHostEntry[];
  /** Another node's address by name (a node on the host is at the gateway). */
  readonly addressOf: (node: string) => string;
  /** The scenario's certificates (temp dir, keys 0600) and its Postfix's effective config. */
  readonly certs: MaterializedCerts;
  readonly config: EffectiveConfig;
}

/** What every started node is, container or not: the topology stops it and the bench reads its steps. */
export interface StartedLabNode {
  readonly node: LabNodeIdentity;
  readonly address: string;
  readonly startSteps: readonly StartStep[];
  stop(): Promise<unknown>;
}

/** One kind of lab node: how to build and start it. */
export interface NodeKind<Started extends StartedLabNode = StartedLabNode> {
  /** What the kind is, for errors and docs. */
  readonly about: string;
  /**
   * 'container': a lab container at <subnet>.<hostNumber>. 'host': runs in the harness's own
   * process, listening on the network's gateway address (.1), which only the network's nodes reach.
   */
  readonly placement: 'container' | 'host';
  /** At most this many nodes of the kind in one scenario, or null for any number. */
  readonly maxPerScenario: number | null;
  start(ctx: NodeStartContext): Promise<Started>;
}

/** The started container type of each kind. A new kind adds a line here and one in NODE_KINDS. */
export interface StartedNodeByKind {
  postfix: StartedPostfixContainer;
  client: LabClientContainer;
  'smtp-peer': StartedSmtpPeer;
  dns: StartedDnsContainer;
  exim: StartedEximContainer;
  opensmtpd: StartedOpensmtpdContainer;
  'sts-policy': StartedStsPolicy;
  'sts-resolver': StartedStsResolver;
}

/** Puts a LabContainer builder of any kind in its place: scenario, node, network, the others' hostnames. */
function placed<B extends LabContainer>(builder: B, ctx: NodeStartContext): B {
  const placedBuilder = builder.withScenarioId(ctx.scenario.id).withNode(ctx.node).withLabNetwork(ctx.network).withLabHosts(ctx.hosts);
  const dns = labDnsOf(ctx);
  return dns ? placedBuilder.withLabDns(dns) : placedBuilder;
}

/** The Postfix under test: the postfix node that runs the scenario's own postfix block. */
function postfixUnderTest(ctx: NodeStartContext): LabNodeSpec {
  const mx = ctx.scenario.nodes?.find((n) => n.kind === 'postfix' && !n.postfix);
  if (!mx) throw new LabError('ESCENARIO', `scenario ${ctx.scenario.id}: no Postfix under test among its nodes`);
  return mx;
}

/** The lab host name a sending MTA node reaches the Postfix under test by (its first host name, from /etc/hosts). */
function postfixUnderTestHost(ctx: NodeStartContext): string {
  const mx = postfixUnderTest(ctx);
  return mx.hostnames[0] ?? mx.name;
}

/** With a lab DNS node, every other container resolves through it (and through nothing else). */
function labDnsOf(ctx: NodeStartContext): string | null {
  const dns = ctx.scenario.nodes.find((n) => n.kind === 'dns');
  return dns && dns.name !== ctx.node.name ? ctx.addressOf(dns.name) : null;
}

/**
 * The node kinds: kind → how to build and start one. The outbound and DANE labs add a second
 * Postfix (with its own config), a Node SMTP peer, nsd and unbound here.
 */
export const NODE_KINDS: { readonly [K in LabNodeKind]: NodeKind<StartedNodeByKind[K]> } = {
  postfix: {
    about: "lab Postfix; the one under test runs the scenario's postfix block, any other its node's own postfix block",
    placement: 'container',
    maxPerScenario: null,
    start: (ctx) => {
      const own = ctx.node.postfix ?? null;
      const config = own ? effectiveConfig(own, `scenario ${ctx.scenario.id}, node ${ctx.node.name}`) : ctx.config;
      const files = own ?? ctx.scenario;
      let builder = placed(new PostfixContainer(ctx.image), ctx)
        .withMainCf(config.mainCf, files.mainCf.file)
        .withMasterCf(config.masterCf, files.masterCf?.file ?? 'master.cf (lab base)')
        .withTlsDirectory(ctx.certs.dir);
      for (const m of files.maps) {
        // Fingerprints of this run's certificates (e.g. for relay_clientcerts) are filled in here.
        const content = fillFingerprints(m.text, ctx.certs);
        builder = builder.withMapFile({ name: m.name, content, postmap: m.postmap, fileContents: m.fileContents });
      }
      return builder.start();
    },
  },
  client: {
    about: 'lab client container (openssl s_client and gnutls-cli of the lab image\'s stack), idle until a check execs into it; the catalogue runner moves it from scenario to scenario (lab/client-pool.ts)',
    placement: 'container',
    maxPerScenario: null,
    // From the process's client pool when the catalogue runner turned it on (lab/client-pool.ts), else started fresh.
    start: (ctx) =>
      CLIENT_POOL.take({ image: ctx.image, node: ctx.node, network: ctx.network, hosts: ctx.hosts, labDns: labDnsOf(ctx), scenarioId: ctx.scenario.id, fresh: (id) => placed(new ClientContainer(ctx.image), ctx).withScenarioId(id) }),
  },
  dns: {
    about: "the lab's DNS: nsd serving the scenario's zones (signed at start) and unbound validating them, the lab's only resolver",
    placement: 'container',
    maxPerScenario: 1,
    start: (ctx) => {
      if (!ctx.scenario.dns) throw new LabError('ESCENARIO', `scenario ${ctx.scenario.id}: node ${ctx.node.name}: a dns node needs the scenario's "dns" block (its zones)`);
      const zones = renderZones(ctx.scenario.dns, { address: ctx.addressOf, dnsAddress: ctx.addressOf(ctx.node.name), certs: ctx.certs.pairs });
      return placed(new DnsContainer(ctx.image, ctx.node), ctx).withZones(zones).start();
    },
  },
  exim: {
    about: "interop receiving MX: Exim 4 with GnuTLS (containers/exim, the Postfix image's stack), its record read from Exim's own log",
    placement: 'container',
    maxPerScenario: null,
    start: async (ctx) =>
      placed(new EximContainer(await interopImage('exim', ctx.image)), ctx)
        .withExim(ctx.node.exim ?? DEFAULT_EXIM_SPEC, [...ctx.certs.pairs.keys()])
        .withSendTo(postfixUnderTestHost(ctx))
        .withTlsDirectory(ctx.certs.dir)
        .start(),
  },
  opensmtpd: {
    about: "interop receiving MX: OpenSMTPD (containers/opensmtpd, the Postfix image's stack), its record read from smtpd's own log",
    placement: 'container',
    maxPerScenario: null,
    start: async (ctx) =>
      placed(new OpensmtpdContainer(await interopImage('opensmtpd', ctx.image)), ctx)
        .withOpensmtpd(ctx.node.opensmtpd ?? DEFAULT_OPENSMTPD_SPEC, [...ctx.certs.pairs.keys()])
        .withSendTo(postfixUnderTestHost(ctx), smtpdInetServices(parseMasterCf(ctx.config.masterCf, 'master.cf'), ctx.config.items).map((s) => s.port))
        .withTlsDirectory(ctx.certs.dir)
        .start(),
  },
  'sts-policy': {
    about: "MTA-STS policy host: HTTPS on 443 of its lab address (python3's ssl in the lab image), one site mta-sts.<domain> per policy domain, each with its own certificate and answer",
    placement: 'container',
    maxPerScenario: 1,
    start: (ctx) => placed(new StsPolicyContainer(ctx.image, ctx.node), ctx).withSites(ctx.node.sts!).withTlsDirectory(ctx.certs.dir).withCertificateSpecs(ctx.scenario.certificates).start(),
  },
  'sts-resolver': {
    about: "postfix-mta-sts-resolver's mta-sts-daemon (the stack's Debian package): Postfix's socketmap on port 8461, trusting the STS lab's web CA only (sts/web-pki.ts), resolving through the lab DNS",
    placement: 'container',
    maxPerScenario: 1,
    start: (ctx) => placed(new StsResolverContainer(ctx.image, ctx.node), ctx).withTlsDirectory(ctx.certs.dir).start(),
  },
  'smtp-peer': {
    about: 'capturing SMTP/LMTP peer (smtp-server in the harness process, on the network gateway); records what a lab Postfix sends it, ClientHello included',
    placement: 'host',
    maxPerScenario: null,
    start: (ctx) => {
      const spec = ctx.node.peer;
      if (!spec) throw new LabError('ESCENARIO', `scenario ${ctx.scenario.id}: node ${ctx.node.name}: an smtp-peer node needs "peer" settings`);
      const peer = new SmtpPeer(spec, ctx.node, ctx.scenario.id).withBindAddress(ctx.network.gateway);
      if (spec.certificate) {
        const pair = ctx.certs.pairs.get(spec.certificate);
        if (!pair) throw new LabError('ESCENARIO', `scenario ${ctx.scenario.id}: node ${ctx.node.name}: no certificate '${spec.certificate}' (certificates: ${[...ctx.certs.pairs.keys()].join(', ')})`);
        peer.withKeyPair(pair);
      }
      return peer.start();
    },
  },
};

/**
 * A map's placeholders for this run's certificates: {{sha256:NAME}} is the certificate's
 * SHA-256 fingerprint, {{spki-sha256:NAME}} its public key's (both colon-separated, upper case,
 * as Postfix prints and matches them).
 */
export function fillFingerprints(text: string, certs: MaterializedCerts): string {
  return text.replace(/\{\{(sha256|spki-sha256):([^}]*)\}\}/g, (_, what: string, name: string) => {
    const pair = certs.pairs.get(name)!;
    return what === 'sha256' ? pair.sha256 : spkiSha256(pair.cert).toUpperCase().replace(/(..)(?!$)/g, '$1:');
  });
}

/** Where a node is reached: its fixed container address, or the gateway for a node on the host. */
export function nodeAddress(network: LabNetwork, node: LabNodeSpec): string {
  return NODE_KINDS[node.kind].placement === 'host' ? network.gateway : network.address(node.hostNumber);
}

/**
 * The scenario's nodes checked and put in start order (dependencies first, otherwise as
 * declared): unique names, hostnames and host numbers, known kinds within their limits,
 * dependencies that exist and form no cycle.
 */
export function planTopology(scenarioId: string, nodes: readonly LabNodeSpec[]): readonly LabNodeSpec[] {
  const bad = (what: string): never => {
    throw new LabError('ESCENARIO', `scenario ${scenarioId}: nodes: ${what}`);
  };
  if (nodes.length === 0) bad('a scenario needs at least one node');
  const byName = new Map<string, LabNodeSpec>();
  const owners = new Map<string, string>();
  const numbers = new Map<number, string>();
  for (const n of nodes) {
    if (!Object.hasOwn(NODE_KINDS, n.kind)) bad(`node ${n.name}: unknown kind '${n.kind}' (known: ${Object.keys(NODE_KINDS).join(', ')})`);
    const onHost = NODE_KINDS[n.kind].placement === 'host';
    // A node on the host has no address of its own (it is at the gateway); its identity is checked without one.
    checkNodeIdentity(onHost ? { ...n, hostNumber: 10 } : n, `scenario ${scenarioId}: nodes`);
    if (byName.has(n.name)) bad(`two nodes are named ${n.name}`);
    byName.set(n.name, n);
    if (!onHost) {
      const other = numbers.get(n.hostNumber);
      if (other) bad(`nodes ${other} and ${n.name} have the same hostNumber ${n.hostNumber}`);
      numbers.set(n.hostNumber, n.name);
    }
    for (const h of n.hostnames) {
      const owner = owners.get(h);
      if (owner) bad(`hostname ${h} belongs to both ${owner} and ${n.name}`);
      owners.set(h, n.name);
    }
  }
  for (const [kind, def] of Object.entries(NODE_KINDS) as [LabNodeKind, NodeKind][]) {
    const count = nodes.filter((n) => n.kind === kind).length;
    if (def.maxPerScenario !== null && count > def.maxPerScenario) bad(`${count} nodes of kind ${kind}; at most ${def.maxPerScenario} (${def.about})`);
  }
  const peerPorts = new Map<number, string>();
  for (const n of nodes) {
    if (n.kind !== 'smtp-peer' || !n.peer) continue;
    const other = peerPorts.get(n.peer.port);
    if (other) bad(`peers ${other} and ${n.name} both listen on port ${n.peer.port} of the gateway; give one another "port"`);
    peerPorts.set(n.peer.port, n.name);
  }
  for (const n of nodes) {
    for (const d of n.dependsOn) {
      if (d === n.name) bad(`node ${n.name} depends on itself`);
      if (!byName.has(d)) bad(`node ${n.name} depends on ${d}, which is not a node of the scenario`);
    }
  }
  const ordered: LabNodeSpec[] = [];
  const placedNames = new Set<string>();
  while (ordered.length < nodes.length) {
    const next = nodes.find((n) => !placedNames.has(n.name) && n.dependsOn.every((d) => placedNames.has(d)));
    if (!next) bad(`the dependencies of ${nodes.filter((n) => !placedNames.has(n.name)).map((n) => n.name).join(', ')} form a cycle`);
    ordered.push(next!);
    placedNames.add(next!.name);
  }
  return ordered;
}

/**
 * A scenario's lab nodes on their own internal network, each at its fixed address. start()
 * creates the network and starts every node that is not lazy, in dependency order (nodes
 * whose dependencies are up start at once, side by side); a lazy node starts on first use.
 * A failed start undoes everything the topology made. stop() stops it as one and reports,
 * never throws, what it could not remove.
 */
export class Topology {
  private readonly starts = new Map<string, Promise<StartedLabNode>>();
  private stopping = false;

  private constructor(
    readonly network: LabNetwork,
    /** How long creating the network took (the bench's breakdown). */
    readonly networkMs: number,
    readonly nodes: readonly LabNodeSpec[],
    private readonly base: Omit<NodeStartContext, 'node' | 'network' | 'hosts' | 'addressOf'>,
  ) {}

  /**
   * `made`: the scenario's network when the caller created it already (side by side with its
   * certificates), with what creating it took; the topology owns it from here on. Without it,
   * the network is created here.
   */
  static async start(
    nodes: readonly LabNodeSpec[],
    base: Omit<NodeStartContext, 'node' | 'network' | 'hosts' | 'addressOf'>,
    made?: { readonly network: LabNetwork; readonly ms: number },
  ): Promise<Topology> {
    let ordered: readonly LabNodeSpec[];
    try {
      ordered = planTopology(base.scenario.id, nodes);
    } catch (err) {
      await made?.network.remove().catch(() => undefined);
      throw err;
    }
    const { network, ms } = made ?? (await LabNetwork.createTimed(base.scenario.id));
    const topology = new Topology(network, ms, ordered, base);
    const eager = ordered.filter((n) => !n.lazy);
    const results = await Promise.allSettled(eager.map((n) => topology.node(n.name)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Leftovers are found by label at the next run's start; the original error matters more.
      await topology.stop();
      throw failed.reason;
    }
    return topology;
  }

  /** Every node's lab hostnames at its fixed address. */
  get hosts(): readonly LabHostEntry[] {
    return this.nodes.flatMap((n) => n.hostnames.map((hostname) => ({ hostname, address: nodeAddress(this.network, n) })));
  }

  spec(name: string): LabNodeSpec {
    const spec = this.nodes.find((n) => n.name === name);
    if (!spec) throw new LabError('ESCENARIO', `scenario ${this.base.scenario.id} has no node '${name}' (nodes: ${this.nodes.map((n) => n.name).join(', ')})`);
    return spec;
  }

  /** The first node of a kind, or null. */
  firstOfKind(kind: LabNodeKind): LabNodeSpec | null {
    return this.nodes.find((n) => n.kind === kind) ?? null;
  }

  /** The started node, starting it (after its dependencies) if it is lazy and not started yet. */
  node<K extends LabNodeKind = LabNodeKind>(name: string, kind?: K): Promise<StartedNodeByKind[K]> {
    const spec = this.spec(name);
    if (kind && spec.kind !== kind) return Promise.reject(new LabError('ESCENARIO', `node ${name} of ${this.base.scenario.id} is a ${spec.kind} node, not ${kind}`));
    let p = this.starts.get(name);
    if (!p) {
      if (this.stopping) return Promise.reject(new LabError('EINTERNAL', `node ${name} of ${this.base.scenario.id} asked for after the scenario stopped`));
      p = this.startNode(spec);
      this.starts.set(name, p);
    }
    return p as Promise<StartedNodeByKind[K]>;
  }

  /** The nodes of a kind, in start order. */
  ofKind(kind: LabNodeKind): readonly LabNodeSpec[] {
    return this.nodes.filter((n) => n.kind === kind);
  }

  private async startNode(spec: LabNodeSpec): Promise<StartedLabNode> {
    await Promise.all(spec.dependsOn.map((d) => this.node(d)));
    const kind = NODE_KINDS[spec.kind] as NodeKind;
    return kind.start({ ...this.base, node: spec, network: this.network, hosts: this.hosts, addressOf: (name) => nodeAddress(this.network, this.spec(name)) });
  }

  /** Stop every node started (waiting for those still starting), then remove the network. Problems, never a throw. */
  async stop(): Promise<string[]> {
    this.stopping = true;
    const problems: string[] = [];
    await Promise.all(
      [...this.starts].map(async ([name, starting]) => {
        let node: StartedLabNode;
        try {
          node = await starting;
        } catch {
          return; // never started: its own start removed what it made
        }
        try {
          await node.stop();
        } catch (err) {
          problems.push(`stop node ${name}: ${(err as Error).message}`);
        }
      }),
    );
    try {
      await this.network.remove();
    } catch (err) {
      problems.push(`remove network ${this.network.name}: ${(err as Error).message}`);
    }
    return problems;
  }
}
