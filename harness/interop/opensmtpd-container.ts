import fs from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { AwaitableLines } from '../core/awaitable-lines.js';
import { LabError } from '../core/errors.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabContainer, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { OPENSMTPD_PATHS, renderOpensmtpdConfig } from './opensmtpd-config.js';
import { parseOpensmtpdLine, type OpensmtpdLogEvent } from './opensmtpd-log.js';
import { opensmtpdPeerRecord } from './opensmtpd-peer-record.js';
import type { InteropPeerRecord, ReceivingMta } from './interop-peer-record.js';
import { INTEROP_MTA_PORT, type OpensmtpdSpec } from './mta-spec.js';

const DEFAULT_NODE: LabNodeIdentity = { name: 'opensmtpd', hostnames: ['mx.opensmtpd.lab.test'], hostNumber: 31 };
const FAILED = /^lab-opensmtpd: FAILED /;
const ISOLATION_FAILED = /^lab-isolate: FAILED /;
/** How long after "starting" smtpd may take to accept on port 25. */
const LISTEN_MS = 10_000;

export function opensmtpdLog(): AwaitableLines<OpensmtpdLogEvent> {
  return new AwaitableLines<OpensmtpdLogEvent>(parseOpensmtpdLine, { maxRecords: 20_000, codes: { ended: 'ECONTAINER', timeout: 'ETIMEOUT' }, what: "OpenSMTPD's log (the container exited)" });
}

/** Ready when smtpd said it is starting (after `smtpd -n` accepted the configuration); a FAILED line quotes smtpd. */
class OpensmtpdReadyWaitStrategy extends LabWaitStrategy {
  readonly waitsFor = "opensmtpd-starting (line 'info: OpenSMTPD … starting' after 'smtpd -n' accepted the configuration)";
  constructor(private readonly output: AwaitableLines<string>) {
    super();
  }
  async waitUntilReady(): Promise<void> {
    let line: string;
    try {
      line = await this.output.waitFor(this.waitsFor, (l) => /^info: OpenSMTPD \S+ starting/.test(l) || FAILED.test(l) || ISOLATION_FAILED.test(l), this.getStartupTimeout());
    } catch (err) {
      throw new LabError((err as LabError).code ?? 'ENOT_READY', (err as Error).message, { detail: this.output.all().slice(-20).join('\n') });
    }
    if (ISOLATION_FAILED.test(line)) throw new LabError('EISOLATION', `the OpenSMTPD node could not be isolated: ${line}`);
    if (FAILED.test(line)) throw new LabError('ECONTAINER', `OpenSMTPD did not start: ${line.replace(/^lab-opensmtpd: /, '')}`, { detail: this.output.all().slice(-20).join('\n') });
  }
}

/** Connects until port 25 answers (smtpd forks its listeners after "starting"), bounded. */
async function listening(host: string, port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port, timeout: 1_000 });
      s.once('connect', () => (s.destroy(), resolve(true)));
      s.once('error', () => resolve(false));
      s.once('timeout', () => (s.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > until) throw new LabError('ENOT_READY', `OpenSMTPD at ${host}:${port} did not accept a connection within ${ms} ms of starting`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Builder of a receiving OpenSMTPD MX (a LabContainer from containers/opensmtpd): validates its
 * input, copies smtpd.conf and its catch-all table in, mounts the run's certificates read-only,
 * and waits until smtpd starts and port 25 accepts.
 */
export class OpensmtpdContainer extends LabContainer {
  private spec: OpensmtpdSpec | null = null;
  private tlsDir: string | null = null;
  private readonly events = opensmtpdLog();

  constructor(image: string) {
    super(image, 'OpensmtpdContainer', { node: DEFAULT_NODE, readyTimeoutMs: TIMEOUTS.postfixReady });
  }

  withOpensmtpd(spec: OpensmtpdSpec, certNames: readonly string[]): this {
    if (spec.certificate !== null && !certNames.includes(spec.certificate)) throw new LabError('ESCENARIO', `OpensmtpdContainer: no certificate '${spec.certificate}' (certificates: ${certNames.join(', ') || 'none'})`);
    for (const [k, v] of [['ciphers', spec.ciphers], ['protocols', spec.protocols]] as const) if (v !== null && /["\\\n]/.test(v)) throw new LabError('ESCENARIO', `OpensmtpdContainer: ${k} '${v}' may not contain quotes, backslashes or newlines`);
    this.spec = spec;
    return this;
  }

  withTlsDirectory(dir: string): this {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LabError('ECERT_FILE', `TLS directory ${dir} does not exist`);
    this.tlsDir = dir;
    return this;
  }

  protected labCommand(): readonly string[] {
    return ['/usr/local/bin/lab-opensmtpd'];
  }

  protected readiness(): LabWaitStrategy {
    return new OpensmtpdReadyWaitStrategy(this.output);
  }

  protected override lineSteps(): readonly (readonly [string, RegExp])[] {
    return [...super.lineSteps(), ['config checked', /^lab-opensmtpd: configuration accepted/], ['smtpd starting', /^info: OpenSMTPD /]];
  }

  protected override attachOutput(stream: Readable): void {
    super.attachOutput(stream);
    this.events.attach(stream);
  }

  override async start(): Promise<StartedOpensmtpdContainer> {
    if (!this.spec) throw new LabError('ESCENARIO', 'OpensmtpdContainer: withOpensmtpd() is required');
    if (this.spec.certificate !== null && !this.tlsDir) throw new LabError('ESCENARIO', 'OpensmtpdContainer: a certificate needs withTlsDirectory()');
    const r = renderOpensmtpdConfig(this.spec, this.node.hostnames[0] ?? 'mx.opensmtpd.lab.test');
    const mtime = new Date();
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive([{ content: r.config, target: OPENSMTPD_PATHS.config, mode: 0o644, mtime }, { content: r.virtual, target: OPENSMTPD_PATHS.virtual, mode: 0o644, mtime }])]), target: '/' }]);
    if (this.tlsDir) this.withBindMounts([{ source: this.tlsDir, target: OPENSMTPD_PATHS.tlsIn, mode: 'ro' }]);
    const { started, address, network, steps } = await this.startLab();
    const made = new StartedOpensmtpdContainer(started, this.events, this.node, address, network.name, this.scenarioId, steps, r.config);
    try {
      await listening(address, INTEROP_MTA_PORT, LISTEN_MS);
    } catch (err) {
      await made.stop().catch(() => undefined);
      throw err;
    }
    return made;
  }
}

export class StartedOpensmtpdContainer extends StartedLabContainer implements ReceivingMta {
  constructor(
    container: StartedTestContainer,
    readonly log: AwaitableLines<OpensmtpdLogEvent>,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    scenarioId: string,
    startSteps: readonly StartStep[],
    readonly config: string,
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  get recordMarker(): number {
    return this.log.size;
  }

  peerRecord(node: string, marker: number, expectMessageId: string | null): Promise<InteropPeerRecord> {
    return opensmtpdPeerRecord(node, this.log, marker, expectMessageId, (id) => this.deliveredMessage(id));
  }

  /** The delivered message OpenSMTPD gave this message id (its Received: "… id MSGID (TLS…)" over TLS, "… id MSGID" at the line's end in clear), or null. */
  async deliveredMessage(msgid: string): Promise<string | null> {
    if (!/^[0-9a-f]+$/.test(msgid)) throw new LabError('EINTERNAL', `not an OpenSMTPD message id: ${msgid}`);
    const r = await this.exec(['sh', '-c', `f=$(grep -l -s -E " id ${msgid}([ ;]|$)" ${OPENSMTPD_PATHS.maildir}/new/* | head -n 1); [ -n "$f" ] && cat "$f"`]);
    return r.exitCode === 0 ? r.output : null;
  }
}
