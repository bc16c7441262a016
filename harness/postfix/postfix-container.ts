import fs from 'node:fs';
import path from 'node:path';
import { AbstractStartedContainer, GenericContainer, type ExecOptions, type ExecResult, type StartedTestContainer, type StopOptions, type StoppedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { labLabels, SCENARIO_LABEL } from '../engine/labels.js';
import type { LabNetwork } from '../engine/lab-network.js';
import { withoutNetAdmin } from '../engine/isolation.js';
import { PostfixLog } from './log-stream.js';
import { PostfixReadyWaitStrategy } from './ready-wait-strategy.js';
import { listeningPorts, parseMasterCf } from './master-cf.js';
import type { PostfixLogEvent } from './log-parser.js';

/** Where things live inside a lab Postfix container. Scenario files refer to these paths. */
export const CONTAINER_PATHS = {
  mainCf: '/etc/postfix/main.cf',
  masterCf: '/etc/postfix/master.cf',
  maps: '/etc/postfix/lab/maps',
  tls: '/etc/postfix/lab/tls',
  dh: '/usr/share/smtp-tls-lab/dh',
  maildir: '/var/mail/lab/inbox',
} as const;

const MAX_CF_BYTES = 256 * 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface MapFile {
  readonly name: string;
  readonly content: string;
  /** Postfix map type to build with postmap (e.g. 'hash'), or null for a plain file. */
  readonly postmap: string | null;
  /** Build with `postmap -F`: the values name files whose contents are stored (tls_server_sni_maps). */
  readonly fileContents?: boolean;
}

function checkText(what: string, text: string): void {
  if (Buffer.byteLength(text) > MAX_CF_BYTES) {
    throw new LabError('ESCENARIO', `${what} is ${Buffer.byteLength(text)} bytes; the lab accepts at most ${MAX_CF_BYTES}`, {
      detail: 'remedy: a Postfix configuration file this large is almost certainly not the file you meant to give',
    });
  }
  if (text.includes('\0')) {
    throw new LabError('ESCENARIO', `${what} contains NUL bytes: it is a binary file, not Postfix configuration`, {
      detail: 'remedy: point the scenario at the text configuration file',
    });
  }
}

/**
 * Builder for a lab Postfix container, on Testcontainers' GenericContainer. It validates its
 * input, copies the effective main.cf/master.cf and map sources in before start (so Postfix
 * never pays for editing its own config), mounts the run's certificates read-only, keeps
 * the container on a lab network with no resolver, and waits until Postfix says it started.
 */
export class PostfixContainer extends GenericContainer {
  private mainCfText: string | null = null;
  private masterCfText: string | null = null;
  private readonly mapFiles: MapFile[] = [];
  private tlsDir: string | null = null;
  private network: LabNetwork | null = null;
  private scenarioId = 'adhoc';
  private dnsServer: string | null = null;
  private readonly postfixLog = new PostfixLog();
  private readyTimeoutMs: number = TIMEOUTS.postfixReady;

  constructor(image: string) {
    super(image);
  }

  withScenarioId(id: string): this {
    if (!NAME.test(id)) throw new LabError('ESCENARIO', `scenario id '${id}' must match ${NAME}`);
    this.scenarioId = id;
    return this;
  }

  withMainCf(text: string, source = 'main.cf'): this {
    checkText(source, text);
    this.mainCfText = text;
    return this;
  }

  withMasterCf(text: string, source = 'master.cf'): this {
    checkText(source, text);
    this.masterCfText = text;
    return this;
  }

  withMapFile(map: MapFile): this {
    if (!NAME.test(map.name)) throw new LabError('ESCENARIO', `map file name '${map.name}' must match ${NAME}`);
    checkText(`map file ${map.name}`, map.content);
    this.mapFiles.push(map);
    return this;
  }

  /** A host directory with the run's certificates and keys, mounted read-only at CONTAINER_PATHS.tls. */
  withTlsDirectory(dir: string): this {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
      throw new LabError('ECERT_FILE', `TLS directory ${dir} does not exist`);
    }
    this.tlsDir = dir;
    return this;
  }

  withLabNetwork(network: LabNetwork): this {
    this.network = network;
    return this;
  }

  /** Lab DNS for this container. Without it the container has no resolver at all. */
  withLabDns(ip: string): this {
    this.dnsServer = ip;
    return this;
  }

  withReadyTimeout(ms: number): this {
    this.readyTimeoutMs = ms;
    return this;
  }

  override async start(): Promise<StartedPostfixContainer> {
    if (this.mainCfText === null) throw new LabError('ESCENARIO', 'PostfixContainer: withMainCf() is required');
    if (this.masterCfText === null) throw new LabError('ESCENARIO', 'PostfixContainer: withMasterCf() is required');
    if (!this.network) throw new LabError('ESCENARIO', 'PostfixContainer: withLabNetwork() is required (lab containers never sit on the default bridge)');
    const ports = listeningPorts(parseMasterCf(this.masterCfText, 'master.cf'));

    const content = [
      { content: this.mainCfText, target: '/etc/postfix/main.cf', mode: 0o644 },
      { content: this.masterCfText, target: '/etc/postfix/master.cf', mode: 0o644 },
      ...this.mapFiles.map((m) => ({ content: m.content, target: path.posix.join(CONTAINER_PATHS.maps, m.name), mode: 0o644 })),
    ];
    const mapRef = (m: MapFile) => `${m.postmap}:${path.posix.join(CONTAINER_PATHS.maps, m.name)}`;
    const postmap = this.mapFiles.filter((m) => m.postmap && !m.fileContents).map(mapRef);
    const postmapF = this.mapFiles.filter((m) => m.postmap && m.fileContents).map(mapRef);

    this.withLabels(labLabels({ [SCENARIO_LABEL]: this.scenarioId }))
      .withNetworkMode(this.network.name)
      .withCopyContentToContainer(content)
      .withEnvironment({
        ...(postmap.length ? { LAB_POSTMAP: postmap.join(' ') } : {}),
        ...(postmapF.length ? { LAB_POSTMAP_F: postmapF.join(' ') } : {}),
        ...(this.dnsServer ? { LAB_DNS: this.dnsServer } : {}),
        ...(fs.existsSync(path.join(this.tlsDir ?? '/nonexistent', 'sasl-users')) ? { LAB_SASL_USERS_FILE: `${CONTAINER_PATHS.tls}/sasl-users` } : {}),
      })
      .withLogConsumer((stream) => this.postfixLog.attach(stream))
      .withWaitStrategy(new PostfixReadyWaitStrategy(this.postfixLog))
      .withStartupTimeout(this.readyTimeoutMs);
    if (this.tlsDir) this.withBindMounts([{ source: this.tlsDir, target: CONTAINER_PATHS.tls, mode: 'ro' }]);
    // Docker would otherwise hand the container the host's resolver. 127.0.0.1 inside the
    // container answers nothing; the entrypoint then writes lab DNS or "none" itself.
    this.hostConfig.Dns = ['127.0.0.1'];
    // Only for lab-isolate, the image's first step: it deletes the default route and drops
    // NET_ADMIN from the bounding set before Postfix starts (containers/postfix/lab-isolate.sh).
    this.withAddedCapabilities('NET_ADMIN');

    let started: StartedTestContainer;
    try {
      started = await super.start();
    } catch (err) {
      if (err instanceof LabError) throw err;
      throw new LabError('ECONTAINER', `could not start the Postfix container for ${this.scenarioId}: ${(err as Error).message}`, { cause: err });
    }
    const address = started.getIpAddress(this.network.name);
    return new StartedPostfixContainer(started, this.postfixLog, address, ports, this.scenarioId);
  }
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly service: string;
}

export class StartedPostfixContainer extends AbstractStartedContainer {
  constructor(
    container: StartedTestContainer,
    readonly log: PostfixLog,
    /** The container's address on its lab network; the host reaches it directly. */
    readonly address: string,
    private readonly ports: readonly { service: string; port: number }[],
    readonly scenarioId: string,
  ) {
    super(container);
  }

  /** The endpoint of a master.cf inet service (by name, e.g. 'smtp', 'submission', 'smtps', or by port). */
  endpoint(service: string | number): Endpoint {
    const hit = this.ports.find((p) => (typeof service === 'number' ? p.port === service : p.service === service));
    if (!hit) {
      throw new LabError('ESCENARIO', `service '${service}' is not an inet service in this scenario's master.cf`, {
        detail: `services: ${this.ports.map((p) => `${p.service}/${p.port}`).join(', ') || 'none'}`,
      });
    }
    return { host: this.address, port: hit.port, service: hit.service };
  }

  get smtpPort(): number {
    return this.endpoint('smtp').port;
  }

  get submissionPort(): number {
    return this.endpoint('submission').port;
  }

  get smtpsPort(): number {
    return this.endpoint('smtps').port;
  }

  get services(): readonly { service: string; port: number }[] {
    return this.ports;
  }

  events(): readonly PostfixLogEvent[] {
    return this.log.all();
  }

  /** The delivered message with this queue id from the lab Maildir, or null when there is none. */
  async deliveredMessage(queueId: string): Promise<string | null> {
    if (!/^[0-9A-Za-z]+$/.test(queueId)) throw new LabError('EINTERNAL', `not a Postfix queue id: ${queueId}`);
    const r = await this.exec(['sh', '-c', `f=$(grep -l -s " id ${queueId}\\b" ${CONTAINER_PATHS.maildir}/new/* | head -n 1); [ -n "$f" ] && cat "$f"`]);
    return r.exitCode === 0 ? r.output : null;
  }

  /**
   * Commands run in the container without NET_ADMIN: Docker gives an exec the container's
   * capabilities (NET_ADMIN, there only for lab-isolate), so it is dropped here as well.
   */
  override exec(command: string | string[], opts?: Partial<ExecOptions>): Promise<ExecResult> {
    return super.exec(withoutNetAdmin(command), opts);
  }

  /** Stops at once: a lab Postfix holds nothing worth a graceful shutdown. */
  override stop(options: Partial<StopOptions> = {}): Promise<StoppedTestContainer> {
    return super.stop({ timeout: 0, ...options });
  }
}
