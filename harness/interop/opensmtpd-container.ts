import fs from 'node:fs';
import net from 'node:net';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { AwaitableLines } from '../core/awaitable-lines.js';
import { LabError } from '../core/errors.js';
import { TIMEOUTS } from '../core/timeouts.js';
import { LabContainer, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { OPENSMTPD_PATHS, opensmtpdSendFrom, renderOpensmtpdConfig } from './opensmtpd-config.js';
import { opensmtpdSendRecord } from './opensmtpd-send-record.js';
import { SHELL_SAFE_ADDRESS, type MtaSendRecord, type MtaSendRequest } from './mta-send-shape.js';
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
  private sendTo: { host: string; ports: readonly number[] } | null = null;
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

  /** The Postfix under test a sender's relays go to: its lab host name and its inet ports (one relay action per port). */
  withSendTo(host: string, ports: readonly number[]): this {
    if (!/^[a-z0-9.-]+$/.test(host)) throw new LabError('ESCENARIO', `OpensmtpdContainer: '${host}' is not a lab host name`);
    this.sendTo = { host, ports: [...new Set(ports)] };
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
    if (this.spec.sender && !this.sendTo) throw new LabError('ESCENARIO', 'OpensmtpdContainer: a sender needs withSendTo() (the Postfix under test)');
    if (this.spec.sender?.login && !this.tlsDir) throw new LabError('ESCENARIO', "OpensmtpdContainer: a sender login needs withTlsDirectory() (the run's sasl-users file is there)");
    const r = renderOpensmtpdConfig(this.spec, this.node.hostnames[0] ?? 'mx.opensmtpd.lab.test', this.spec.sender ? this.sendTo : null);
    const mtime = new Date();
    const files = [
      { content: r.config, target: OPENSMTPD_PATHS.config, mode: 0o644, mtime },
      { content: r.virtual, target: OPENSMTPD_PATHS.virtual, mode: 0o644, mtime },
      ...(r.senderLogin ? [{ content: r.senderLogin, target: OPENSMTPD_PATHS.senderLogin, mode: 0o600, mtime }] : []),
    ];
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive(files)]), target: '/' }]);
    if (this.tlsDir) this.withBindMounts([{ source: this.tlsDir, target: OPENSMTPD_PATHS.tlsIn, mode: 'ro' }]);
    const { started, address, network, steps } = await this.startLab();
    const relays = this.spec.sender ? { names: Object.keys(this.spec.sender.relays), ports: this.sendTo!.ports } : { names: [], ports: [] };
    const made = new StartedOpensmtpdContainer(started, this.events, this.node, address, network.name, this.scenarioId, steps, r.config, relays);
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
    /** The sender's relays and the ports each has an action for (empty: this OpenSMTPD only receives). */
    readonly sendRelays: { readonly names: readonly string[]; readonly ports: readonly number[] },
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  /** "OpenSMTPD 7.6.0-portable", from smtpd's own start line. */
  get version(): string | null {
    const v = this.log.all().find((e): e is Extract<OpensmtpdLogEvent, { type: 'starting' }> => e.type === 'starting')?.version;
    return v ? `OpenSMTPD ${v}` : null;
  }

  /**
   * OpenSMTPD sends one message to the Postfix under test through one relay and port: sendmail
   * with the envelope sender that selects that relay action (the scheduler sends it at once),
   * then the envelope's `mta delivery` line. Afterwards a message still queued is removed, and a
   * route OpenSMTPD disabled after a failure (for every port of the host, about 15 s) is resumed,
   * so that the next check is not refused for this one.
   */
  async send(req: MtaSendRequest): Promise<MtaSendRecord> {
    if (!this.sendRelays.names.includes(req.transport)) throw new LabError('ESCENARIO', `OpenSMTPD node ${this.node.name} has no relay '${req.transport}' (it has ${this.sendRelays.names.join(', ') || 'none: no "sender" block'})`);
    if (!this.sendRelays.ports.includes(req.port)) throw new LabError('EINTERNAL', `OpenSMTPD node ${this.node.name} has no relay action for port ${req.port} (ports: ${this.sendRelays.ports.join(', ')})`);
    const from = opensmtpdSendFrom(req.transport, req.port);
    for (const v of [req.to, req.messageId]) if (!SHELL_SAFE_ADDRESS.test(v)) throw new LabError('EINTERNAL', `OpenSMTPD send: '${v}' is not an address the lab passes to a shell`);
    const marker = this.log.size;
    const message = [`Message-ID: <${req.messageId}>`, `From: <${req.from}>`, `To: <${req.to}>`, `Subject: ${req.subject.replace(/[\r\n]/g, ' ')}`, '', 'Sent by the lab OpenSMTPD to the Postfix under test (smtp-tls-lab mta-send).', ''].join('\n');
    const submitted = await this.exec(['sh', '-c', 'printf "%s" "$1" | sendmail -f "$2" "$3"', '_', message, from, req.to]);
    if (submitted.exitCode !== 0) throw new LabError('ECONTAINER', `OpenSMTPD node ${this.node.name}: sendmail refused the message (exit ${submitted.exitCode})`, { detail: submitted.output.slice(-1000) });
    const envelope = (await this.log.waitFor(`opensmtpd-envelope (from ${from})`, (e) => e.type === 'envelope' && e.from === from, 10_000, marker)) as Extract<OpensmtpdLogEvent, { type: 'envelope' }>;
    const done = (e: OpensmtpdLogEvent) => e.type === 'mta-delivery' && e.evpid === envelope.evpid;
    await this.log.waitFor(`opensmtpd-delivery (envelope ${envelope.evpid})`, done, req.timeoutMs ?? 30_000, marker).catch(() => null);
    const record = opensmtpdSendRecord(this.node.name, req.transport, envelope.evpid, this.log.since(marker));
    if (record.status !== 'sent') {
      await this.exec(['sh', '-c', 'smtpctl remove "$1" >/dev/null 2>&1; for r in $(smtpctl show routes 2>/dev/null | sed -n "s/^\\([0-9][0-9]*\\)\\. .*/\\1/p"); do smtpctl resume route "$r" >/dev/null 2>&1; done; true', '_', envelope.evpid]);
    }
    return record;
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
