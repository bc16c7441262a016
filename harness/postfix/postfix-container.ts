import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabContainer, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { PostfixLog } from './log-stream.js';
import { CONTAINER_PATHS } from './paths.js';
import { PostfixReadyWaitStrategy } from './ready-wait-strategy.js';
import { listeningPorts, parseMasterCf } from './master-cf.js';
import type { PostfixLogEvent } from './log-parser.js';

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

/** The node a PostfixContainer is when the caller names none: the default topology's mx. */
const DEFAULT_POSTFIX_NODE: LabNodeIdentity = { name: 'mx', hostnames: ['mx.lab.test'], hostNumber: 10 };

/**
 * Builder for a lab Postfix container, a LabContainer (lab-isolate first, labels, fixed
 * address, no resolver). It validates its input, copies the effective main.cf/master.cf and
 * map sources in before start (so Postfix never pays for editing its own config), mounts the
 * run's certificates read-only, and waits until Postfix says it started.
 */
export class PostfixContainer extends LabContainer {
  private mainCfText: string | null = null;
  private masterCfText: string | null = null;
  private readonly mapFiles: MapFile[] = [];
  private tlsDir: string | null = null;
  private readonly postfixLog = new PostfixLog();

  constructor(image: string) {
    super(image, 'PostfixContainer', { node: DEFAULT_POSTFIX_NODE, readyTimeoutMs: TIMEOUTS.postfixReady });
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

  protected labCommand(): readonly string[] {
    return ['/usr/local/bin/lab-entrypoint'];
  }

  protected readiness(): PostfixReadyWaitStrategy {
    return new PostfixReadyWaitStrategy(this.postfixLog);
  }

  /** The entrypoint's steps inside the container, for the bench's breakdown. */
  protected override lineSteps(): readonly (readonly [string, RegExp])[] {
    return [
      ...super.lineSteps(),
      // lab-entrypoint: maps, SASL database and postconf -n/-M/-P done (images before 2026-12-03 ran postfix check)
      ['config checked', /^lab-entrypoint: (config read|postfix check passed)/],
      ['master started', /daemon started -- version/],
    ];
  }

  protected override attachOutput(stream: Readable): void {
    super.attachOutput(stream);
    this.postfixLog.attach(stream);
  }

  override async start(): Promise<StartedPostfixContainer> {
    if (this.mainCfText === null) throw new LabError('ESCENARIO', 'PostfixContainer: withMainCf() is required');
    if (this.masterCfText === null) throw new LabError('ESCENARIO', 'PostfixContainer: withMasterCf() is required');
    const ports = listeningPorts(parseMasterCf(this.masterCfText, 'master.cf'));

    // Written "a minute ago": Postfix pauses up to 2 s before reading a main.cf modified within
    // the last second (to let it settle), which was most of every start (harness/engine/tar.ts).
    const mtime = new Date(Date.now() - 60_000);
    const content = [
      { content: this.mainCfText, target: CONTAINER_PATHS.mainCf, mode: 0o644, mtime },
      { content: this.masterCfText, target: CONTAINER_PATHS.masterCf, mode: 0o644, mtime },
      ...this.mapFiles.map((m) => ({ content: m.content, target: path.posix.join(CONTAINER_PATHS.maps, m.name), mode: 0o644, mtime })),
    ];
    const mapRef = (m: MapFile) => `${m.postmap}:${path.posix.join(CONTAINER_PATHS.maps, m.name)}`;
    const postmap = this.mapFiles.filter((m) => m.postmap && !m.fileContents).map(mapRef);
    const postmapF = this.mapFiles.filter((m) => m.postmap && m.fileContents).map(mapRef);

    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive(content)]), target: '/' }]).withEnvironment({
      ...(postmap.length ? { LAB_POSTMAP: postmap.join(' ') } : {}),
      ...(postmapF.length ? { LAB_POSTMAP_F: postmapF.join(' ') } : {}),
      ...(fs.existsSync(path.join(this.tlsDir ?? '/nonexistent', 'sasl-users')) ? { LAB_SASL_USERS_FILE: `${CONTAINER_PATHS.tls}/sasl-users` } : {}),
    });
    if (this.tlsDir) this.withBindMounts([{ source: this.tlsDir, target: CONTAINER_PATHS.tls, mode: 'ro' }]);

    const { started, address, network, steps } = await this.startLab();
    return new StartedPostfixContainer(started, this.postfixLog, this.node, address, network.name, ports, this.scenarioId, steps);
  }
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly service: string;
}

export class StartedPostfixContainer extends StartedLabContainer {
  constructor(
    container: StartedTestContainer,
    readonly log: PostfixLog,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    private readonly ports: readonly { service: string; port: number }[],
    scenarioId: string,
    startSteps: readonly StartStep[] = [],
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
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
}
