import { randomBytes } from 'node:crypto';
import { LabError, asLabError } from '../core/errors.js';
import { materializeCertificates, type MaterializedCerts } from '../certs/materialize.js';
import { effectiveConfig, type EffectiveConfig } from '../postfix/effective-config.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import { parseMasterCf, serviceTlsMode } from '../postfix/master-cf.js';
import type { StartedPostfixContainer } from '../postfix/postfix-container.js';
import { DEFAULT_NODES, type LabNodeKind, type Scenario } from '../scenario/types.js';
import type { LabClientContainer } from './client-container.js';
import { LabNetwork } from '../engine/lab-network.js';
import { stackOfImageTag } from '../engine/images.js';
import type { StackName } from '../core/stacks.js';
import { planTopology, Topology, type StartedNodeByKind } from './topology.js';
import { smtpdInetServices, warmUp, type WarmUpReport } from './warm-up.js';
import { probe, type ProbeResult } from '../enum/probe.js';
import type { StartStep } from '../engine/lab-container.js';
import { deepFreeze } from '../core/freeze.js';

/**
 * Where start() to Postfix ready went, for the bench: the certificates, the network, then each
 * eager node's own steps (ms after that node's start began; see StartStep).
 */
export interface StartupBreakdown {
  /** Keys and certificates made and written (the run's lab roots are made by the first scenario). */
  readonly certsMs: number;
  /** Creating the network; side by side with the certificates, so the two overlap. */
  readonly networkMs: number;
  /** From both being ready to every eager node ready. */
  readonly nodesMs: number;
  readonly nodes: Readonly<Record<string, readonly StartStep[]>>;
}

/**
 * One scenario's lab: its certificates (temp dir, keys 0600) and its topology (its own
 * internal network and the nodes on it: the scenario's Postfix, the lazy client container,
 * and what later labs add). start() undoes what it made when a later step fails; stop()
 * removes everything and reports (never throws) what it could not remove.
 *
 * After Postfix is ready, start() warms it up (one connection to each smtpd service, see
 * warm-up.ts), so that the warnings smtpd logs only when its first process starts are in
 * startupEvents() before any check runs.
 */
export class ScenarioSession {
  private constructor(
    readonly image: string,
    /**
     * The stack the image belongs to: as the caller gave it, else found by the image's tag;
     * undefined for an image no stack's recipe gives (a byStack check then errs, never judges
     * by the wrong stack).
     */
    readonly stack: StackName | undefined,
    readonly scenario: Scenario,
    readonly topology: Topology,
    /** The scenario's (first) Postfix node. */
    readonly postfix: StartedPostfixContainer,
    readonly certs: MaterializedCerts,
    readonly config: EffectiveConfig,
    /** From start() to Postfix ready (certificates, network, eager nodes); the warm-up is not in it. */
    readonly startupMs: number,
    /** What the warm-up did, and what it cost (warmUp.ms). */
    readonly warmUp: WarmUpReport,
    /** Where startupMs went. */
    readonly startupBreakdown: StartupBreakdown,
    private readonly startup: readonly PostfixLogEvent[],
    private readonly saslPasswords: ReadonlyMap<string, string>,
  ) {}

  get network(): LabNetwork {
    return this.topology.network;
  }

  /** The password a check should use: the generated one, or (for 'wrong') one that cannot match. */
  password(user: string, which: 'valid' | 'wrong'): string {
    const p = this.saslPasswords.get(user);
    if (!p) throw new LabError('ESCENARIO', `no SASL user ${user} in scenario ${this.scenario.id}`);
    return which === 'valid' ? p : `wrong-${p.slice(0, 6)}`;
  }

  /**
   * Every Postfix log event up to the end of the warm-up: start-up (postconf, `postfix check`,
   * master) and the first smtpd process of each service. Frozen; later events are not in it.
   */
  startupEvents(): readonly PostfixLogEvent[] {
    return this.startup;
  }

  static async start(scenario: Scenario, image: string, stack?: StackName): Promise<ScenarioSession> {
    const started = Date.now();
    const undo: (() => Promise<unknown> | unknown)[] = [];
    try {
      const nodes = scenario.nodes ?? DEFAULT_NODES;
      // The Postfix under test is the one that runs the scenario's own postfix block (the others bring their own files).
      const mx = nodes.find((n) => n.kind === 'postfix' && !n.postfix);
      if (!mx) throw new LabError('ESCENARIO', `scenario ${scenario.id}: nodes: no postfix node without its own "postfix" block (every scenario tests a Postfix)`);
      // Passwords are made here, written only to the 0600 secrets file the container reads, and
      // kept in memory for the checks; no report, log excerpt or transcript holds them.
      const saslPasswords = new Map(scenario.saslUsers.map((u) => [u, randomBytes(18).toString('base64url')]));
      const sasl = scenario.saslUsers.length ? { 'sasl-users': [...saslPasswords].map(([u, p]) => `${u}:${p}\n`).join('') } : {};
      // The nodes and the config are checked before anything is made (an invalid topology makes nothing).
      planTopology(scenario.id, nodes);
      const config = effectiveConfig(scenario, `scenario ${scenario.id}`);
      // The certificates and the network do not depend on each other: made side by side.
      const networking = LabNetwork.createTimed(scenario.id);
      let networkOwned = false;
      undo.push(async () => {
        if (!networkOwned) await (await networking.catch(() => null))?.network.remove();
      });
      const certifying = materializeCertificates(scenario.id, scenario.certificates, sasl).then((c) => ({ certs: c, ms: Date.now() - started }));
      undo.push(async () => (await certifying.catch(() => null))?.certs.remove());
      const [made, { certs, ms: certsMs }] = await Promise.all([networking, certifying]);
      const prepared = Date.now();
      networkOwned = true;
      const topology = await Topology.start(nodes, { scenario, image, certs, config }, made);
      undo.push(() => topology.stop());
      const postfix = await topology.node(mx.name, 'postfix');
      const startupMs = Date.now() - started;
      const eager = await Promise.all(nodes.filter((n) => !n.lazy).map(async (n) => [n.name, (await topology.node(n.name)).startSteps] as const));
      const breakdown = deepFreeze({ certsMs, networkMs: topology.networkMs, nodesMs: started + startupMs - prepared, nodes: Object.fromEntries(eager) });
      const warm = await warmUp(postfix, smtpdInetServices(parseMasterCf(config.masterCf, 'master.cf'), config.items));
      const startup = Object.freeze([...postfix.log.all()]);
      return new ScenarioSession(image, stack ?? stackOfImageTag('postfix', image), scenario, topology, postfix, certs, config, startupMs, warm, breakdown, startup, saslPasswords);
    } catch (err) {
      for (const step of undo.reverse()) {
        try {
          await step();
        } catch {
          // Leftovers are found by label at the next run's start; the original error matters more.
        }
      }
      throw asLabError(err, 'ECONTAINER');
    }
  }

  private readonly probes = new Map<string, Promise<ProbeResult>>();

  /** How a client reaches TLS on one of the scenario's services: wrapper mode (implicit) or STARTTLS, as Postfix will run it. */
  serviceMode(service: string): 'implicit' | 'starttls' {
    return serviceTlsMode(parseMasterCf(this.config.masterCf, 'master.cf'), service, this.config.items);
  }

  /** The service's TLS surface from `probe`, enumerated once per scenario and service. */
  enumeration(service: string): Promise<ProbeResult> {
    let p = this.probes.get(service);
    if (!p) {
      const ep = this.postfix.endpoint(service);
      p = probe({ host: ep.host, port: ep.port, mode: this.serviceMode(service) }, { scope: 'enumeration' });
      this.probes.set(service, p);
    }
    return p;
  }

  /**
   * A node of the scenario's topology by name, started now if it is lazy and not yet started.
   * With `kind`, the node must be of that kind, and the result is typed as one.
   */
  node<K extends LabNodeKind = LabNodeKind>(name: string, kind?: K): Promise<StartedNodeByKind[K]> {
    return this.topology.node(name, kind);
  }

  /** The scenario's client container (for openssl s_client), started on first use. */
  clientContainer(): Promise<LabClientContainer> {
    const client = this.topology.firstOfKind('client');
    if (!client) return Promise.reject(new LabError('ESCENARIO', `scenario ${this.scenario.id} has no client node, so no check can use the openssl client`));
    return this.topology.node(client.name, 'client');
  }

  /** Remove the nodes, the network and the key material. Returns problems instead of throwing. */
  async stop(): Promise<string[]> {
    const problems = await this.topology.stop();
    try {
      await this.certs.remove();
    } catch (err) {
      problems.push(`remove certificates: ${err instanceof LabError ? err.message : String(err)}`);
    }
    return problems;
  }
}
