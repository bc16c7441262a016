import path from 'node:path';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { LabContainer, LabLineWaitStrategy, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import type { DnsAnswer } from './dns-spec.js';

/** Where the dns node reads its plan and zones (containers/postfix/lab-dns.sh). */
const DNS_IN = '/etc/lab-dns';
// Signing, nsd, unbound and one validated answer per zone; under a full npm test on two cores that took more than 30 s once.
const READY_MS = 60_000;
const FAILED = /^lab-dns: FAILED /;

/**
 * Builder of the lab's DNS node (a LabContainer): nsd serving the scenario's zones, signed at
 * start with fresh keys, and unbound validating with the anchor zone's KSK as its only trust
 * anchor (containers/postfix/lab-dns.sh). The zones are rendered by harness/dns/zone.ts.
 */
export class DnsContainer extends LabContainer {
  private zones: { plan: string; files: Record<string, string> } | null = null;

  constructor(image: string, node: LabNodeIdentity) {
    super(image, 'DnsContainer', { node, readyTimeoutMs: READY_MS });
  }

  withZones(z: { plan: string; files: Record<string, string> }): this {
    this.zones = z;
    return this;
  }

  /** @internal the wait strategy reads the output */
  outputLines() {
    return this.output;
  }

  protected labCommand(): readonly string[] {
    return ['/usr/local/bin/lab-dns'];
  }

  protected readiness(): LabWaitStrategy {
    // Ready when lab-dns says every zone validates as planned; its FAILED line is EDNS, quoting what it and unbound said.
    return new LabLineWaitStrategy(() => this.outputLines(), {
      waitsFor: "dns-ready (line 'lab-dns: ready': zones signed, nsd and unbound answering, every zone validating as planned)",
      ready: /^lab-dns: ready/,
      failed: FAILED,
      code: 'EDNS',
      who: 'the dns node',
      failure: (line) => `the lab DNS is not what the scenario says: ${line.replace(/^lab-dns: /, '')}`,
      quote: (lines) => lines.filter((l) => /^(unbound|lab-dns|\[)/.test(l) || /error|fail/i.test(l)),
      detailLines: 20,
    });
  }

  protected override lineSteps(): readonly (readonly [string, RegExp])[] {
    return [...super.lineSteps(), ['zones signed', /^lab-dns: signed:/]];
  }

  override async start(): Promise<StartedDnsContainer> {
    if (!this.zones) throw new LabError('ESCENARIO', 'DnsContainer: withZones() is required');
    const files = [
      { content: this.zones.plan, target: `${DNS_IN}/plan`, mode: 0o644, mtime: new Date() },
      ...Object.entries(this.zones.files).map(([zone, content]) => ({ content, target: path.posix.join(DNS_IN, 'zones', `${zone}.zone`), mode: 0o644, mtime: new Date() })),
    ];
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive(files)]), target: '/' }]);
    const { started, address, network, steps } = await this.startLab();
    const anchor = this.output.all().find((l) => l.startsWith('lab-dns: trust anchor: '))?.slice('lab-dns: trust anchor: '.length) ?? null;
    return new StartedDnsContainer(started, this.node, address, network.name, this.scenarioId, steps, anchor);
  }
}

export type { DnsAnswer };

export class StartedDnsContainer extends StartedLabContainer {
  constructor(
    container: StartedTestContainer,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    scenarioId: string,
    startSteps: readonly StartStep[],
    /** The DS record unbound trusts (the anchor zone's KSK), as ldns-keygen wrote it. */
    readonly trustAnchor: string | null,
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
  }

  /** Ask the validating resolver (as a lab node would) and read status, ad and EDE from dig's answer. */
  async query(name: string, type: string): Promise<DnsAnswer> {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || !/^[A-Z0-9]+$/.test(type)) throw new LabError('ESCENARIO', `not a DNS name and type: ${name} ${type}`);
    const r = await this.exec(['dig', '+dnssec', '+time=3', '+tries=1', '@127.0.0.1', name, type]);
    const text = r.output;
    const status = /status: ([A-Z]+)/.exec(text)?.[1] ?? null;
    const flags = /;; flags: ([a-z ]*);/.exec(text)?.[1]?.split(' ') ?? [];
    const ede = /; EDE: (\d+) \(([^)]*)\)/.exec(text);
    const section = /;; ANSWER SECTION:\n([\s\S]*?)(?:\n\n|$)/.exec(text)?.[1] ?? '';
    const answers = section
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 5 && f[3] === type)
      // dig splits long hex into groups; a TLSA's data is one hex string (lower case, as the lab writes it).
      .map((f) => (type === 'TLSA' ? `${f.slice(4, 7).join(' ')} ${f.slice(7).join('').toLowerCase()}` : f.slice(4).join(' ')));
    return Object.freeze({ name, type, status, ad: flags.includes('ad'), ede: ede ? Object.freeze({ code: Number(ede[1]), text: ede[2]! }) : null, answers: Object.freeze(answers) });
  }

  /** Replace a zone's file and re-sign it with its own keys; nsd restarts, unbound's cache is emptied. */
  async updateZone(zone: string, content: string): Promise<void> {
    await this.copyContentToContainer([{ content, target: path.posix.join(DNS_IN, 'zones', `${zone}.zone`), mode: 0o644 }]);
    const r = await this.exec(['/usr/local/bin/lab-dns', 'resign', zone]);
    if (r.exitCode !== 0) throw new LabError('EDNS', `re-signing zone ${zone} failed (exit ${r.exitCode})`, { detail: r.output.slice(-2000) });
  }
}
