import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { LabError } from '../core/errors.js';
import { LabContainer, LabLineWaitStrategy, LabWaitStrategy, StartedLabContainer, type LabNodeIdentity, type StartStep } from '../engine/lab-container.js';
import { tarArchive } from '../engine/tar.js';
import { POLICY_HOST_DIR, POLICY_HOST_SCRIPT, POLICY_HOST_SCRIPT_PATH, POLICY_SITES_FILE } from './policy-host-script.js';
import { renderPolicy, type PolicyAnswer, type StsPolicySpec } from './policy-spec.js';
import { issueWebCert } from './web-pki.js';
import type { CertificateSpec } from '../scenario/types.js';

const READY_MS = 20_000;
const TLS_IN = `${POLICY_HOST_DIR}/tls`;
const FAILED = /^lab-sts-policy: FAILED /;

/** One fetch the policy host answered, from its stdout line. */
export interface PolicyFetch {
  readonly host: string;
  readonly sni: string | null;
  readonly path: string;
  /** The HTTP status sent, or 'reset' when the connection was closed without an answer. */
  readonly status: number | 'reset';
}

export function parsePolicyFetch(line: string): PolicyFetch | null {
  const m = /^lab-sts-policy: fetch host=(\S*) sni=(\S*) path=(\S*) status=(\d+|reset)/.exec(line);
  if (!m) return null;
  return Object.freeze({ host: m[1]!, sni: m[2] === 'None' ? null : m[2]!, path: m[3]!, status: m[4] === 'reset' ? 'reset' : Number(m[4]) });
}

/** One site's entry of sites.json: its certificate and what it answers. */
export function siteEntry(certificate: string, answer: PolicyAnswer): Record<string, unknown> {
  const files = { cert: `${TLS_IN}/sts-web-${certificate}.crt`, key: `${TLS_IN}/sts-web-${certificate}.key` };
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  switch (answer.kind) {
    case 'policy':
      return { ...files, status: 200, headers: { 'Content-Type': 'text/plain' }, body: b64(renderPolicy(answer)) };
    case 'body':
      return { ...files, status: 200, headers: { 'Content-Type': answer.contentType }, body: b64(answer.body) };
    case 'status':
      return { ...files, status: answer.status, headers: { 'Content-Type': 'text/plain' }, body: b64(`status ${answer.status}\n`) };
    case 'redirect':
      return { ...files, status: 301, headers: { Location: answer.location, 'Content-Type': 'text/plain' }, body: b64('moved\n') };
    case 'oversized': {
      const head = renderPolicy({ kind: 'policy', mode: 'enforce', mx: ['*.lab.test'], maxAge: 86_400 });
      // Filler as extension fields (RFC 8461 3.2 lets unknown keys be ignored), so only the size is wrong.
      const filler = Array.from({ length: Math.ceil(answer.bytes / 64) }, (_, i) => `x${i}: ${'a'.repeat(56)}\r\n`).join('');
      return { ...files, status: 200, headers: { 'Content-Type': 'text/plain' }, body: b64((head + filler).slice(0, Math.max(answer.bytes, head.length))) };
    }
    case 'reset':
      return { ...files, reset: true };
  }
}

/** sites.json for the whole spec: site name mta-sts.<domain> → entry. */
export function renderSites(spec: StsPolicySpec): string {
  return JSON.stringify(Object.fromEntries(spec.sites.map((s) => [`mta-sts.${s.domain}`, siteEntry(s.certificate, s.answer)])), null, 1);
}

/**
 * Builder of the MTA-STS policy host (node kind sts-policy): python3's ssl server in the lab
 * image, HTTPS on 443 of the node's lab address, one site per policy domain with its own
 * certificate (by SNI). The run's certificates are mounted read-only.
 */
export class StsPolicyContainer extends LabContainer {
  private spec: StsPolicySpec | null = null;
  private tlsDir: string | null = null;
  private certSpecs: readonly CertificateSpec[] = [];

  constructor(image: string, node: LabNodeIdentity) {
    super(image, 'StsPolicyContainer', { node, readyTimeoutMs: READY_MS });
  }

  withSites(spec: StsPolicySpec): this {
    this.spec = spec;
    return this;
  }

  withTlsDirectory(dir: string): this {
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new LabError('ECERT_FILE', `TLS directory ${dir} does not exist`);
    this.tlsDir = dir;
    return this;
  }

  /** The scenario's certificates: each is issued again by the STS web PKI (web-pki.ts) for the sites to present. */
  withCertificateSpecs(specs: readonly CertificateSpec[]): this {
    this.certSpecs = specs;
    return this;
  }

  /** @internal the wait strategy reads the output */
  outputLines() {
    return this.output;
  }

  protected labCommand(): readonly string[] {
    return ['python3', '-u', POLICY_HOST_SCRIPT_PATH];
  }

  protected readiness(): LabWaitStrategy {
    return new LabLineWaitStrategy(() => this.outputLines(), {
      waitsFor: "sts-policy-ready (line 'lab-sts-policy: ready': HTTPS listening on 443)",
      ready: /^lab-sts-policy: ready/,
      failed: /^lab-sts-policy: FAILED |^Traceback/,
      code: 'ESTS',
      who: 'the MTA-STS policy host',
      failure: (line) => `the MTA-STS policy host could not serve HTTPS: ${FAILED.test(line) ? line.replace(/^lab-sts-policy: FAILED /, '') : 'the server died'}`,
      detailLines: 20,
      // Python prints its traceback over several lines; give it a moment to finish.
      settleMs: 300,
    });
  }

  override async start(): Promise<StartedStsPolicy> {
    if (!this.spec || !this.tlsDir) throw new LabError('EINTERNAL', 'StsPolicyContainer: withSites() and withTlsDirectory() are required');
    // One after another: openssl's CA serial file is shared.
    // A certificate no site presents at start (an MX's, or one a before-action switches to) may
    // be one the web PKI cannot make (expired): it is skipped, and only a site naming it fails.
    const used = new Set(this.spec.sites.map((x) => x.certificate));
    for (const c of this.certSpecs) {
      try {
        await issueWebCert(this.tlsDir, c);
      } catch (err) {
        if (used.has(c.name) || (err as LabError).code !== 'ESCENARIO') throw err;
      }
    }
    const files = [
      { content: POLICY_HOST_SCRIPT, target: POLICY_HOST_SCRIPT_PATH, mode: 0o644, mtime: new Date() },
      { content: renderSites(this.spec), target: POLICY_SITES_FILE, mode: 0o644, mtime: new Date() },
    ];
    this.withCopyArchivesToContainer([{ tar: Readable.from([tarArchive(files)]), target: '/' }]);
    this.withBindMounts([{ source: this.tlsDir, target: TLS_IN, mode: 'ro' }]);
    const { started, address, network, steps } = await this.startLab();
    return new StartedStsPolicy(started, this.node, address, network.name, this.scenarioId, steps, this.output, this.spec);
  }
}

export class StartedStsPolicy extends StartedLabContainer {
  private sites: Record<string, Record<string, unknown>>;
  constructor(
    container: StartedTestContainer,
    node: LabNodeIdentity,
    address: string,
    networkName: string,
    scenarioId: string,
    startSteps: readonly StartStep[],
    private readonly lines: { all(): readonly string[] },
    spec: StsPolicySpec,
  ) {
    super(container, node, address, networkName, scenarioId, startSteps);
    this.sites = JSON.parse(renderSites(spec)) as Record<string, Record<string, unknown>>;
  }

  /** Every fetch answered so far, in order. */
  fetches(): readonly PolicyFetch[] {
    return this.lines.all().map(parsePolicyFetch).filter((f): f is PolicyFetch => f !== null);
  }

  /** The site of `domain` answers this from now on (and presents `certificate`, when given). */
  async serve(domain: string, answer: PolicyAnswer, certificate?: string): Promise<void> {
    const key = `mta-sts.${domain}`;
    const old = this.sites[key];
    if (!old) throw new LabError('ESCENARIO', `the policy host ${this.node.name} has no site for ${domain} (sites: ${Object.keys(this.sites).join(', ')})`);
    const cert = certificate ?? String(old.cert).replace(/^.*\/sts-web-/, '').replace(/\.crt$/, '');
    this.sites = { ...this.sites, [key]: siteEntry(cert, answer) };
    await this.copyContentToContainer([{ content: JSON.stringify(this.sites, null, 1), target: POLICY_SITES_FILE, mode: 0o644 }]);
  }
}
