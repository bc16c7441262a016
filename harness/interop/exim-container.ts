import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { AwaitableLines } from '../core/awaitable-lines.js';
import { LabError } from '../core/errors.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabContainer, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { EXIM_PATHS, EXIM_SEND_HEADERS, renderEximConfig } from './exim-config.js';
import { eximSendRecord } from './exim-send-record.js';
import { SHELL_SAFE_ADDRESS, type MtaSendRecord, type MtaSendRequest } from './mta-send-shape.js';
import { parseEximLine, type EximLogEvent } from './exim-log.js';
import type { EximSpec } from './mta-spec.js';
import { eximPeerRecord } from './exim-peer-record.js';
import type { InteropPeerRecord, ReceivingMta } from './interop-peer-record.js';

const DEFAULT_EXIM_NODE: LabNodeIdentity = { name: 'exim', hostnames: ['mx.exim.lab.test'], hostNumber: 30 };
const FAILED = /^lab-exim: FAILED /;
const ISOLATION_FAILED = /^lab-isolate: FAILED /;

/** Exim's parsed log, as its container prints it (lab-exim follows the log files to stdout). */
export function eximLog(): AwaitableLines<EximLogEvent> {
  return new AwaitableLines<EximLogEvent>(parseEximLine, { maxRecords: 20_000, codes: { ended: 'ECONTAINER', timeout: 'ETIMEOUT' }, what: "Exim's log (the container exited)" });
}

/**
 * Ready when Exim's daemon logged that it listens on port 25. lab-exim's FAILED line (a
 * configuration exim -bV refused, quoting Exim) is ECONTAINER; lab-isolate's is EISOLATION.
 */
class EximReadyWaitStrategy extends LabWaitStrategy {
  readonly waitsFor = "exim-daemon-listening (Exim's log line 'daemon started: … listening for SMTP on port 25')";
  constructor(private readonly output: AwaitableLines<string>) {
    super();
  }
  async waitUntilReady(): Promise<void> {
    let line: string;
    try {
      line = await this.output.waitFor(this.waitsFor, (l) => /daemon started: .*listening for SMTP/.test(l) || FAILED.test(l) || ISOLATION_FAILED.test(l), this.getStartupTimeout());
    } catch (err) {
      throw new LabError((err as LabError).code ?? 'ENOT_READY', (err as Error).message, { detail: this.output.all().slice(-20).join('\n') });
    }
    if (ISOLATION_FAILED.test(line)) throw new LabError('EISOLATION', `the Exim node could not be isolated: ${line}`);
    if (FAILED.test(line)) throw new LabError('ECONTAINER', `Exim did not start: ${line.replace(/^lab-exim: /, '')}`, { detail: this.output.all().slice(-20).join('\n') });
  }
}

/**
 * Builder of a receiving Exim MX (a LabContainer from containers/exim): validates its input,
 * copies the rendered Exim configuration in, mounts the run's certificates read-only, and waits
 * until Exim's daemon listens. Its log is parsed as it arrives (harness/interop/exim-log.ts).
 */
export class EximContainer extends LabContainer {
  private spec: EximSpec | null = null;
  private tlsDir: string | null = null;
  private certNames: readonly string[] = [];
  private sendTo: string | null = null;
  private readonly eximEvents = eximLog();

  constructor(image: string) {
    super(image, 'EximContainer', { node: DEFAULT_EXIM_NODE, readyTimeoutMs: TIMEOUTS.postfixReady });
  }

  /** The Exim settings; `certNames` are the scenario's certificates, one of which the spec may name. */
  withExim(spec: EximSpec, certNames: readonly string[]): this {
    if (spec.certificate !== null && !certNames.includes(spec.certificate)) {
      throw new LabError('ESCENARIO', `EximContainer: no certificate '${spec.certificate}' (certificates: ${certNames.join(', ') || 'none'})`);
    }
    if (spec.priority !== null && !/^[A-Za-z0-9%+:._-]+$/.test(spec.priority)) {
      throw new LabError('ESCENARIO', `EximContainer: '${spec.priority}' is not a GnuTLS priority string (letters, digits, + - : . _ %)`);
    }
    this.spec = spec;
    this.certNames = certNames;
    return this;
  }

  /** The lab host name of the Postfix under test, where a sender's transports deliver (in the node's /etc/hosts). */
  withSendTo(hostname: string): this {
    if (!/^[a-z0-9.-]+$/.test(hostname)) throw new LabError('ESCENARIO', `EximContainer: '${hostname}' is not a lab host name`);
    this.sendTo = hostname;
    return this;
  }

  /** The run's certificate directory (NAME.crt with its issuer, NAME.key, lab-ca.crt), mounted read-only. */
  withTlsDirectory(dir: string): this {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LabError('ECERT_FILE', `TLS directory ${dir} does not exist`);
    this.tlsDir = dir;
    return this;
  }

  protected labCommand(): readonly string[] {
    return ['/usr/local/bin/lab-exim'];
  }

  protected readiness(): LabWaitStrategy {
    return new EximReadyWaitStrategy(this.output);
  }

  protected override lineSteps(): readonly (readonly [string, RegExp])[] {
    return [...super.lineSteps(), ['config checked', /^lab-exim: configuration accepted/], ['daemon listening', /daemon started: /]];
  }

  protected override attachOutput(stream: Readable): void {
    super.attachOutput(stream);
    this.eximEvents.attach(stream);
  }

  override async start(): Promise<StartedEximContainer> {
    if (!this.spec) throw new LabError('ESCENARIO', 'EximContainer: withExim() is required');
    if (this.spec.certificate !== null && !this.tlsDir) throw new LabError('ESCENARIO', 'EximContainer: a certificate needs withTlsDirectory()');
    if (this.spec.sender && !this.sendTo) throw new LabError('ESCENARIO', 'EximContainer: a sender needs withSendTo() (the Postfix under test)');
    if (this.spec.sender?.login && !this.tlsDir) throw new LabError('ESCENARIO', 'EximContainer: a sender login needs withTlsDirectory() (the run\'s sasl-users file is there)');
    const config = renderEximConfig(this.spec, this.node.hostnames[0] ?? 'mx.exim.lab.test', this.sendTo);
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive([{ content: config, target: EXIM_PATHS.config, mode: 0o644, mtime: new Date() }])]), target: '/' }]);
    if (this.tlsDir) this.withBindMounts([{ source: this.tlsDir, target: EXIM_PATHS.tlsIn, mode: 'ro' }]);
    const { started, address, network, steps } = await this.startLab();
    const version = this.output.all().find((l) => l.startsWith('lab-exim: version: '))?.slice('lab-exim: version: '.length) ?? null;
    return new StartedEximContainer(started, this.eximEvents, this.node, address, network.name, this.scenarioId, steps, version, config, this.spec.sender ? Object.keys(this.spec.sender.transports) : []);
  }
}

/** A started receiving Exim: its parsed log, its version line, and the messages in its Maildir. */
export class StartedEximContainer extends StartedLabContainer implements ReceivingMta {
  constructor(
    container: StartedTestContainer,
    readonly log: AwaitableLines<EximLogEvent>,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    scenarioId: string,
    startSteps: readonly StartStep[],
    /** `exim -bV`'s first line ("Exim version 4.96 #2 built …"), read from the container. */
    readonly version: string | null,
    /** The configuration it runs (for a report or a learner). */
    readonly config: string,
    /** The scenario's sending transports (empty: this Exim only receives). */
    readonly sendTransports: readonly string[],
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  get recordMarker(): number {
    return this.log.size;
  }

  peerRecord(node: string, marker: number, expectMessageId: string | null): Promise<InteropPeerRecord> {
    return eximPeerRecord(node, this.log, marker, expectMessageId, (id) => this.deliveredMessage(id));
  }

  /**
   * Exim sends one message to the Postfix under test: submitted with `exim -odq` (queued only),
   * then one forced attempt with `exim -M` (retry times ignored, so an earlier check's defer to
   * the same host never skips this one), then, when it is still queued, removed (no later queue
   * run retries it beside another check). What happened is read from Exim's main log alone.
   */
  async send(req: MtaSendRequest): Promise<MtaSendRecord> {
    if (!this.sendTransports.includes(req.transport)) throw new LabError('ESCENARIO', `Exim node ${this.node.name} has no sending transport '${req.transport}' (it has ${this.sendTransports.join(', ') || 'none: no "sender" block'})`);
    for (const [what, v] of [['sender', req.from], ['recipient', req.to], ['Message-ID', req.messageId]] as const) {
      if (!SHELL_SAFE_ADDRESS.test(v)) throw new LabError('EINTERNAL', `Exim send: '${v}' is not a ${what} the lab passes to a shell`);
    }
    const marker = this.log.size;
    const message = [
      `${EXIM_SEND_HEADERS.transport}: ${req.transport}`,
      `${EXIM_SEND_HEADERS.port}: ${req.port}`,
      `Message-ID: <${req.messageId}>`,
      `From: <${req.from}>`,
      `To: <${req.to}>`,
      `Subject: ${req.subject.replace(/[\r\n]/g, ' ')}`,
      '',
      'Sent by the lab Exim to the Postfix under test (smtp-tls-lab mta-send).',
      '',
    ].join('\n');
    const submitted = await this.exec(['sh', '-c', 'printf "%s" "$1" | exim -odq -oi -f "$2" "$3"', '_', message, req.from, req.to]);
    if (submitted.exitCode !== 0) throw new LabError('ECONTAINER', `Exim node ${this.node.name}: exim -odq refused the message (exit ${submitted.exitCode})`, { detail: submitted.output.slice(-1000) });
    const timeoutMs = req.timeoutMs ?? 30_000;
    const received = await this.log.waitFor(`exim-received (Message-ID ${req.messageId})`, (e) => e.type === 'received' && e.messageId === req.messageId, 10_000, marker);
    const eximId = (received as Extract<EximLogEvent, { type: 'received' }>).eximId;
    // -M runs the attempt in the foreground: when it returns, its line is written (the wait below covers the log's way to the harness).
    const attempt = await this.exec(['timeout', String(Math.ceil(timeoutMs / 1000)), 'exim', '-M', eximId]);
    const done = (e: EximLogEvent) => (e.type === 'delivered' || e.type === 'deferred' || e.type === 'failed') && e.eximId === eximId;
    await this.log.waitFor(`exim-attempt (message ${eximId})`, done, attempt.exitCode === 124 ? 1_000 : 10_000, marker).catch(() => null);
    await this.exec(['sh', '-c', 'exim -Mrm "$1" >/dev/null 2>&1; true', '_', eximId]);
    return eximSendRecord(this.node.name, req.transport, eximId, this.log.since(marker));
  }

  /** The delivered message with this Exim message id from the lab Maildir, or null. */
  async deliveredMessage(eximId: string): Promise<string | null> {
    if (!/^[0-9A-Za-z-]+$/.test(eximId)) throw new LabError('EINTERNAL', `not an Exim message id: ${eximId}`);
    const r = await this.exec(['sh', '-c', `f=$(grep -l -s " id ${eximId}" ${EXIM_PATHS.maildir}/new/* | head -n 1); [ -n "$f" ] && cat "$f"`]);
    return r.exitCode === 0 ? r.output : null;
  }
}
