import type Dockerode from 'dockerode';
import type { Readable } from 'node:stream';
import {
  AbstractStartedContainer,
  GenericContainer,
  type ExecOptions,
  type ExecResult,
  type StartedTestContainer,
  type StopOptions,
  type StoppedTestContainer,
  type WaitStrategy,
} from 'testcontainers';
import { LabError, type ErrorCode } from '../core/errors.js';
import { AwaitableLines } from '../core/awaitable-lines.js';
import { docker } from './docker-cli.js';
import { withoutNetAdmin } from './isolation.js';
import { labLabels, NODE_LABEL, SCENARIO_LABEL } from './labels.js';
import type { LabNetwork } from './lab-network.js';

/** The first step of every lab container (containers/common/lab-isolate.sh, in every lab image). */
export const LAB_ISOLATE = '/usr/local/bin/lab-isolate';

/** Who a container is in its scenario's topology: its node name, lab hostnames and fixed host number. */
export interface LabNodeIdentity {
  readonly name: string;
  readonly hostnames: readonly string[];
  /** The address is <scenario subnet>.<hostNumber>. */
  readonly hostNumber: number;
}

/** One line of a container's /etc/hosts: how it finds another node without DNS. */
export interface LabHostEntry {
  readonly hostname: string;
  readonly address: string;
}

export const NODE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const HOST_NUMBERS = { min: 10, max: 250 } as const;
const SCENARIO_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;

export function checkNodeIdentity(node: LabNodeIdentity, where: string): void {
  const bad = (what: string) => {
    throw new LabError('ESCENARIO', `${where}: ${what}`);
  };
  if (!NODE_NAME.test(node.name)) bad(`node name '${node.name}' must match ${NODE_NAME} (lowercase letters, digits, '-')`);
  for (const h of node.hostnames) if (!HOSTNAME.test(h)) bad(`node ${node.name}: hostname '${h}' is not a lowercase DNS name`);
  if (!Number.isInteger(node.hostNumber) || node.hostNumber < HOST_NUMBERS.min || node.hostNumber > HOST_NUMBERS.max) {
    bad(`node ${node.name}: hostNumber ${node.hostNumber} must be a whole number from ${HOST_NUMBERS.min} to ${HOST_NUMBERS.max}`);
  }
}

/**
 * Readiness of a lab container: a Testcontainers wait strategy that says, in `waitsFor`, what
 * it waits for, so that a timeout or a failure names the wait ("it hung" never appears).
 */
export abstract class LabWaitStrategy implements WaitStrategy {
  private timeoutMs = 60_000;
  private timeoutSet = false;

  /** What ready means for this kind of container, in words. */
  abstract readonly waitsFor: string;

  abstract waitUntilReady(container: Dockerode.Container): Promise<void>;

  withStartupTimeout(ms: number): this {
    this.timeoutMs = ms;
    this.timeoutSet = true;
    return this;
  }

  isStartupTimeoutSet(): boolean {
    return this.timeoutSet;
  }

  getStartupTimeout(): number {
    return this.timeoutMs;
  }
}

/**
 * When one step of a lab container's start was done, in ms after its start() began: the
 * bench prints these (where start-to-ready goes). Steps in the order they were seen:
 * 'image checked' (Testcontainers looked the image up), 'created' (container made, files
 * copied in), 'started' (docker start, inspect, log stream attached), then the lines the
 * container prints on its way (e.g. 'isolated': lab-isolate cut it off), and 'ready'.
 */
export interface StartStep {
  readonly step: string;
  readonly atMs: number;
}

/** The first time each named line was printed, and the steps around it: one container's start. */
class StartTimeline {
  private origin = Date.now();
  private readonly steps: StartStep[] = [];
  private readonly pending: [string, RegExp][];
  private partial = '';

  constructor(lineSteps: readonly (readonly [string, RegExp])[]) {
    this.pending = lineSteps.map(([step, re]) => [step, re]);
  }

  begin(): void {
    this.origin = Date.now();
    this.steps.length = 0;
  }

  mark(step: string): void {
    this.steps.push({ step, atMs: Date.now() - this.origin });
  }

  /** Marks the first line matching each pending line step. */
  watch(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => {
      if (this.pending.length === 0) return;
      const lines = (this.partial + chunk.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const i = this.pending.findIndex(([, re]) => re.test(line));
        if (i >= 0) this.mark(this.pending.splice(i, 1)[0]![0]);
      }
    });
  }

  all(): readonly StartStep[] {
    return Object.freeze(this.steps.map((s) => Object.freeze({ ...s })));
  }
}

/** lab-isolate's failure line: the container refused to run with a way out (exit 78). */
const ISOLATION_FAILED = /^lab-isolate: FAILED /;

/** A lab container's output, kept to explain a failed start (a chatty container cannot grow memory). */
function containerOutput(): AwaitableLines<string> {
  return new AwaitableLines<string>((line) => line, { maxRecords: 2_000, codes: { ended: 'ECONTAINER', timeout: 'ENOT_READY' }, what: "container's output (the container exited)" });
}

/** What a lab container kind prints on its way to ready, and what its failure means. */
export interface ReadyLineSpec {
  /** What ready means, in words: every error of the wait names it. */
  readonly waitsFor: string;
  /** The line that means ready. */
  readonly ready: RegExp;
  /** The kind's own failure lines (its "FAILED" line, a Python traceback): the wait ends at the first. */
  readonly failed?: RegExp;
  /** The code of the kind's failure, and of its timeout; without one a timeout is ENOT_READY (ECONTAINER when the output ended). */
  readonly code?: ErrorCode;
  /** Who, in the error's words (e.g. 'the MTA-STS resolver'). */
  readonly who?: string;
  /** The message for a failure line (default: `${who} did not start: ${line}`). */
  readonly failure?: (line: string) => string;
  /** The output lines a failure quotes in its detail (default: the last ones). */
  readonly quote?: (lines: readonly string[]) => readonly string[];
  /** How many of the last lines the detail quotes (default 5). */
  readonly detailLines?: number;
  /** How long to let the container finish its words after a failure line (a traceback spans several lines). */
  readonly settleMs?: number;
}

/**
 * Ready when the container prints a line matching `ready`. lab-isolate's own failure line is
 * EISOLATION; the kind's failure line (`failed`) is its `code` with its words; the output ending
 * first is ECONTAINER (it exited), and the bound expiring is ENOT_READY naming `waitsFor`
 * (or the kind's code). Every lab container kind waits with this one strategy.
 */
export class LabLineWaitStrategy extends LabWaitStrategy {
  readonly waitsFor: string;
  private readonly output: () => AwaitableLines<string>;

  constructor(
    output: AwaitableLines<string> | (() => AwaitableLines<string>),
    private readonly spec: ReadyLineSpec,
  ) {
    super();
    this.waitsFor = spec.waitsFor;
    this.output = typeof output === 'function' ? output : () => output;
  }

  async waitUntilReady(): Promise<void> {
    const { ready, failed, code, who = 'the container', detailLines = 5 } = this.spec;
    const out = this.output();
    const detail = () => {
      const said = (this.spec.quote ?? ((l) => l))(out.all()).slice(-detailLines).join('\n');
      return said ? { detail: said } : {};
    };
    let line: string;
    try {
      line = await out.waitFor(this.waitsFor, (l) => ready.test(l) || ISOLATION_FAILED.test(l) || (failed?.test(l) ?? false), this.getStartupTimeout());
    } catch (err) {
      const message = code ? `${who} did not start: ${(err as Error).message}` : (err as Error).message;
      throw new LabError(code ?? (err as LabError).code ?? 'ENOT_READY', message, detail());
    }
    if (ISOLATION_FAILED.test(line)) throw new LabError('EISOLATION', `${who} could not be isolated: ${line.replace(/^lab-isolate: /, '')}`, { detail: line });
    if (ready.test(line)) return;
    if (this.spec.settleMs) await new Promise((r) => setTimeout(r, this.spec.settleMs));
    throw new LabError(code ?? 'ENOT_READY', this.spec.failure ? this.spec.failure(line) : `${who} did not start: ${line}`, detail());
  }
}

/**
 * The one base of every lab container (Postfix, the client container, and the nodes the
 * outbound and DANE labs add), on Testcontainers' GenericContainer. It gives each the lab's
 * rules, so no kind sets them up on its own:
 *  - the first step is lab-isolate (no route out, resolver is lab DNS or none, NET_ADMIN
 *    dropped), and NET_ADMIN is added only for that step;
 *  - the lab labels: run id, owner pid, host identity, scenario, node;
 *  - no resolver unless withLabDns();
 *  - a lab network is required, and the container gets a FIXED address on it
 *    (<subnet>.<hostNumber>), with the other nodes' lab hostnames in /etc/hosts;
 *  - a readiness wait that names what it waits for.
 * A subclass names its command (what lab-isolate runs) and its readiness, validates its own
 * input, and wraps the started container in its StartedLabContainer subclass.
 */
export abstract class LabContainer extends GenericContainer {
  protected scenarioId = 'adhoc';
  protected network: LabNetwork | null = null;
  protected node: LabNodeIdentity;
  protected labDns: string | null = null;
  protected readyTimeoutMs: number;
  /** Every line the container prints, for readiness and for explaining a failed start. */
  protected readonly output = containerOutput();
  private readonly labHosts: LabHostEntry[] = [];
  private createdId: string | null = null;
  /** Where this container's start went (StartedLabContainer.startSteps). */
  protected readonly timeline = new StartTimeline(this.lineSteps());

  protected constructor(
    image: string,
    /** For messages: 'PostfixContainer', 'ClientContainer' … */
    protected readonly kindName: string,
    defaults: { readonly node: LabNodeIdentity; readonly readyTimeoutMs: number },
  ) {
    super(image);
    this.node = defaults.node;
    this.readyTimeoutMs = defaults.readyTimeoutMs;
  }

  withScenarioId(id: string): this {
    if (!SCENARIO_ID.test(id)) throw new LabError('ESCENARIO', `scenario id '${id}' must match ${SCENARIO_ID}`);
    this.scenarioId = id;
    return this;
  }

  /** The container's place in the topology: node name, lab hostnames, host number (its fixed address). */
  withNode(node: LabNodeIdentity): this {
    checkNodeIdentity(node, this.kindName);
    this.node = { name: node.name, hostnames: [...node.hostnames], hostNumber: node.hostNumber };
    return this;
  }

  withLabNetwork(network: LabNetwork): this {
    this.network = network;
    return this;
  }

  /** Lab DNS for this container. Without it the container has no resolver at all. */
  withLabDns(ip: string): this {
    if (!IPV4.test(ip)) throw new LabError('ESCENARIO', `${this.kindName}: lab DNS '${ip}' is not an IPv4 address`);
    this.labDns = ip;
    return this;
  }

  /** Other nodes' lab hostnames and addresses, written to /etc/hosts (the lab resolves names without DNS). */
  withLabHosts(entries: readonly LabHostEntry[]): this {
    for (const e of entries) {
      if (!HOSTNAME.test(e.hostname)) throw new LabError('ESCENARIO', `${this.kindName}: lab hostname '${e.hostname}' is not a lowercase DNS name`);
      if (!IPV4.test(e.address)) throw new LabError('ESCENARIO', `${this.kindName}: address '${e.address}' of ${e.hostname} is not an IPv4 address`);
      this.labHosts.push(e);
    }
    return this;
  }

  withReadyTimeout(ms: number): this {
    this.readyTimeoutMs = ms;
    return this;
  }

  /** What lab-isolate runs once the container is cut off (the image's real work). */
  protected abstract labCommand(): readonly string[];

  /** How to tell the container is ready; called once per start. */
  protected abstract readiness(): LabWaitStrategy;

  /**
   * Lines whose first appearance is a step of the start (for the bench's breakdown); a subclass
   * adds its own. Called while the base is being constructed, so it returns constants only.
   */
  protected lineSteps(): readonly (readonly [string, RegExp])[] {
    return [['isolated', /^lab-isolate: no route out/]];
  }

  /** The container's output stream; a subclass that parses it (Postfix's log) adds its reader here. */
  protected attachOutput(stream: Readable): void {
    this.timeline.watch(stream);
    this.output.attach(stream);
  }

  protected override async beforeContainerCreated(): Promise<void> {
    this.timeline.mark('image checked');
  }

  protected override async containerCreated(containerId: string): Promise<void> {
    this.createdId = containerId;
    this.timeline.mark('created');
  }

  protected override async containerStarting(): Promise<void> {
    this.timeline.mark('started');
  }


  /**
   * Applies the lab's rules, starts, and checks the container got its fixed address. A
   * container that was created but did not start is removed here (Testcontainers removes only
   * those that failed their wait), so a failed start leaves nothing behind.
   */
  protected async startLab(): Promise<{ readonly started: StartedTestContainer; readonly address: string; readonly network: LabNetwork; readonly steps: readonly StartStep[] }> {
    const network = this.network;
    if (!network) throw new LabError('ESCENARIO', `${this.kindName}: withLabNetwork() is required (lab containers never sit on the default bridge)`);
    const address = network.address(this.node.hostNumber);
    const own = this.node.hostnames.map((hostname) => ({ hostname, address }));
    const hosts = [...own, ...this.labHosts.filter((e) => !this.node.hostnames.includes(e.hostname))];

    this.withLabels(labLabels({ [SCENARIO_LABEL]: this.scenarioId, [NODE_LABEL]: this.node.name }))
      .withNetworkMode(network.name)
      .withEntrypoint([LAB_ISOLATE, ...this.labCommand()])
      // Only for lab-isolate: it deletes the default route, then drops NET_ADMIN from the
      // bounding set before the command runs (containers/common/lab-isolate.sh).
      .withAddedCapabilities('NET_ADMIN')
      .withExtraHosts(hosts.map((h) => ({ host: h.hostname, ipAddress: h.address })))
      .withLogConsumer((stream) => this.attachOutput(stream))
      .withWaitStrategy(this.readiness())
      .withStartupTimeout(this.readyTimeoutMs);
    if (this.labDns) this.withEnvironment({ LAB_DNS: this.labDns });
    // Docker would otherwise hand the container the host's resolver. 127.0.0.1 inside the
    // container answers nothing; lab-isolate then writes lab DNS or "none" itself.
    this.hostConfig.Dns = ['127.0.0.1'];
    // The fixed address. (Testcontainers' network aliases would first attach the container to
    // the default bridge, so the endpoint is configured here, at create.)
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [network.name]: { IPAMConfig: { IPv4Address: address } } } };

    let started: StartedTestContainer;
    this.timeline.begin();
    try {
      started = await super.start();
    } catch (err) {
      await this.removeHalfMade();
      if (err instanceof LabError) throw err;
      throw new LabError('ECONTAINER', `could not start the ${this.kindName} (node ${this.node.name}) for ${this.scenarioId}: ${(err as Error).message}`, { cause: err });
    }
    const got = started.getIpAddress(network.name);
    if (got !== address) {
      await started.stop({ timeout: 0 }).catch(() => undefined);
      throw new LabError('ECONTAINER', `node ${this.node.name} of ${this.scenarioId} got address ${got}, not its fixed ${address}`);
    }
    this.timeline.mark('ready');
    return { started, address, network, steps: this.timeline.all() };
  }

  private async removeHalfMade(): Promise<void> {
    if (!this.createdId) return;
    // Nothing to report if it is already gone (Testcontainers removes a container whose wait failed).
    await docker(['rm', '-f', '-v', this.createdId], { timeoutMs: 30_000 }).catch(() => undefined);
  }
}

/**
 * The started side of every lab container: commands run inside without NET_ADMIN (Docker
 * gives an exec the container's capabilities again, and NET_ADMIN is there only for
 * lab-isolate), and stop is immediate (a lab container holds nothing worth a graceful stop).
 */
export class StartedLabContainer extends AbstractStartedContainer {
  constructor(
    container: StartedTestContainer,
    readonly node: LabNodeIdentity,
    /** The container's fixed address on its lab network; the host reaches it directly. */
    readonly address: string,
    readonly networkName: string,
    readonly scenarioId: string,
    /** Where its start went: each step's time after start() began (the bench prints them). */
    readonly startSteps: readonly StartStep[] = [],
  ) {
    super(container);
  }

  override exec(command: string | string[], opts?: Partial<ExecOptions>): Promise<ExecResult> {
    return super.exec(withoutNetAdmin(command), opts);
  }

  /**
   * `command` behind lab-isolate again, as at the container's start: the default routes are
   * deleted (with the NET_ADMIN the container has for that step only) and checked gone, then
   * NET_ADMIN is dropped for `command`. For a container moved onto another lab network, which
   * Docker gives a default route via the new bridge (lab/client-pool.ts).
   */
  execIsolated(command: readonly string[], opts?: Partial<ExecOptions>): Promise<ExecResult> {
    return super.exec([LAB_ISOLATE, ...command], opts);
  }

  override stop(options: Partial<StopOptions> = {}): Promise<StoppedTestContainer> {
    return super.stop({ timeout: 0, ...options });
  }
}
