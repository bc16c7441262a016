import { randomBytes } from 'node:crypto';
import { LabError, asLabError } from '../core/errors.js';
import { materializeCertificates, type MaterializedCerts } from '../certs/materialize.js';
import { LabNetwork } from '../engine/lab-network.js';
import { effectiveConfig, type EffectiveConfig } from '../postfix/effective-config.js';
import { PostfixContainer, type StartedPostfixContainer } from '../postfix/postfix-container.js';
import type { Scenario } from '../scenario/types.js';
import { LabClientContainer } from './client-container.js';
import { probe, type ProbeResult } from '../enum/probe.js';

/**
 * One scenario's lab: its certificates (temp dir, keys 0600), its own internal network and
 * its Postfix container. start() undoes what it made when a later step fails; stop()
 * removes everything and reports (never throws) what it could not remove.
 */
export class ScenarioSession {
  private client: Promise<LabClientContainer> | null = null;

  private constructor(
    readonly image: string,
    readonly scenario: Scenario,
    readonly postfix: StartedPostfixContainer,
    readonly network: LabNetwork,
    readonly certs: MaterializedCerts,
    readonly config: EffectiveConfig,
    readonly startupMs: number,
    private readonly saslPasswords: ReadonlyMap<string, string>,
  ) {}

  /** The password a check should use: the generated one, or (for 'wrong') one that cannot match. */
  password(user: string, which: 'valid' | 'wrong'): string {
    const p = this.saslPasswords.get(user);
    if (!p) throw new LabError('ESCENARIO', `no SASL user ${user} in scenario ${this.scenario.id}`);
    return which === 'valid' ? p : `wrong-${p.slice(0, 6)}`;
  }

  static async start(scenario: Scenario, image: string): Promise<ScenarioSession> {
    const started = Date.now();
    const undo: (() => Promise<void> | void)[] = [];
    try {
      // Passwords are made here, written only to the 0600 secrets file the container reads, and
      // kept in memory for the checks; no report, log excerpt or transcript holds them.
      const saslPasswords = new Map(scenario.saslUsers.map((u) => [u, randomBytes(18).toString('base64url')]));
      const sasl = scenario.saslUsers.length ? { 'sasl-users': [...saslPasswords].map(([u, p]) => `${u}:${p}\n`).join('') } : {};
      const certs = await materializeCertificates(scenario.id, scenario.certificates, sasl);
      undo.push(() => certs.remove());
      const config = effectiveConfig(scenario, `scenario ${scenario.id}`);
      const network = await LabNetwork.create(scenario.id);
      undo.push(() => network.remove());
      let builder = new PostfixContainer(image)
        .withScenarioId(scenario.id)
        .withLabNetwork(network)
        .withMainCf(config.mainCf, scenario.mainCf.file)
        .withMasterCf(config.masterCf, scenario.masterCf?.file ?? 'master.cf (lab base)')
        .withTlsDirectory(certs.dir);
      for (const m of scenario.maps) {
        // Fingerprints of this run's certificates (e.g. for relay_clientcerts) are filled in here.
        const content = m.text.replace(/\{\{sha256:([^}]*)\}\}/g, (_, name: string) => certs.pairs.get(name)!.sha256);
        builder = builder.withMapFile({ name: m.name, content, postmap: m.postmap, fileContents: m.fileContents });
      }
      const postfix = await builder.start();
      return new ScenarioSession(image, scenario, postfix, network, certs, config, Date.now() - started, saslPasswords);
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

  /** The service's TLS surface from `probe`, enumerated once per scenario and service. */
  enumeration(service: string): Promise<ProbeResult> {
    let p = this.probes.get(service);
    if (!p) {
      const ep = this.postfix.endpoint(service);
      p = probe({ host: ep.host, port: ep.port, mode: ep.service === 'smtps' || ep.port === 465 ? 'implicit' : 'starttls' }, { scope: 'enumeration' });
      this.probes.set(service, p);
    }
    return p;
  }

  /** The scenario's client container (for openssl s_client), started on first use. */
  clientContainer(): Promise<LabClientContainer> {
    this.client ??= LabClientContainer.start(this.image, this.network, this.scenario.id);
    return this.client;
  }

  /** Remove the container, the network and the key material. Returns problems instead of throwing. */
  async stop(): Promise<string[]> {
    const problems: string[] = [];
    const attempt = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        problems.push(`${what}: ${err instanceof LabError ? err.message : String(err)}`);
      }
    };
    await attempt('stop container', () => this.postfix.stop());
    if (this.client) await attempt('stop client container', async () => (await this.client!).stop());
    await attempt('remove network', () => this.network.remove());
    await attempt('remove certificates', () => this.certs.remove());
    return problems;
  }
}
