import fs from 'node:fs';
import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { forTerminal } from '../core/escape.js';
import { readReport } from '../diff/read-report.js';
import { parseMainCf } from '../postfix/main-cf.js';
import { parseMasterCf } from '../postfix/master-cf.js';
import type { CheckResult, ScenarioReport } from '../report/types.js';
import { loadCatalogue } from '../scenario/load.js';
import type { BreakItSpec, Scenario } from '../scenario/types.js';
import type { TlsObservation } from '../tls/observation.js';
import { scenarioPorts } from './scenario-ports.js';

/**
 * `smtp-tls-lab explain ID`: a scenario's story for a learner, in the terminal. From the
 * scenario: title, summary, seeds, the TLS-related lines of its main.cf and master.cf, each
 * check (title, why, what the config says), the break-it exercises. From a report (--report,
 * else reports/latest/report.json when it exists, said so): each check's verdict, every
 * client's handshake summary and SMTP transcript, the Postfix log lines of the check's
 * connections, and the enumerated surface. Every text from a file or a server goes through
 * forTerminal.
 */

/** Parameters a TLS lab teaches: TLS, SASL, ciphers, DH files, and the restrictions that decide relaying by TLS or AUTH. */
const TAUGHT = /tls|ssl|sasl|cipher|_dh\d*_param|eecdh|preempt|clientcerts|_relay_restrictions|_recipient_restrictions|wrappermode|_dns_support_level|_host_lookup|dnssec_probe|transport_maps|mynetworks|connection_cache/i;

const t = (s: string, max = 500) => forTerminal(s, max);

/** The seed documents (../shared/seeds/, by number), as the README's Seeds section names them. */
const SEEDS: Readonly<Record<string, string>> = {
  '000': 'the internet.nl STARTTLS how-to (Postfix 3.4 / OpenSSL 1.1.1)',
  '001': 'a wiki TLS page (submission, smtps, auth only over TLS)',
  '002': 'a TLS hardening blog post (legacy settings, cipher lists, weak clients)',
  '003': 'an OpenBSD Postfix 2.8 TLS guide (old values, policy maps, manual verification)',
};

/** The main.cf lines that set taught parameters, and the master.cf entries with their taught -o lines, as the scenario's files have them. */
export function taughtSettings(s: Scenario): string[] {
  const lines: string[] = [];
  const main = parseMainCf(s.mainCf.text, path.basename(s.mainCf.file)).filter((i) => i.kind === 'param' && TAUGHT.test(i.name));
  lines.push(`  main.cf (${t(path.basename(s.mainCf.file))}):`);
  for (const i of main) if (i.kind === 'param') lines.push(`    ${String(i.line).padStart(3)}  ${t(i.name)} = ${t(i.value)}`);
  if (main.length === 0) lines.push('    (no TLS-related parameter: the lab base applies)');
  if (s.masterCf) {
    lines.push(`  master.cf (${t(path.basename(s.masterCf.file))}):`);
    for (const e of parseMasterCf(s.masterCf.text, 'master.cf')) {
      const [first, ...rest] = e.text.split('\n');
      lines.push(`    ${String(e.line).padStart(3)}  ${t(first!.trim())}`);
      for (const o of rest.filter((r) => TAUGHT.test(r))) lines.push(`         ${t(o.trim())}`);
    }
  }
  return lines;
}

function breakItLines(b: BreakItSpec, s: Scenario, n: number): string[] {
  const lines = [`  ${n}. ${t(b.title)}`];
  if (b.mainCf) {
    for (const [k, v] of Object.entries(b.mainCf.set)) lines.push(`     main.cf: set ${t(k)} = ${t(v)}`);
    for (const k of b.mainCf.remove) lines.push(`     main.cf: remove ${t(k)}`);
  }
  if (b.masterCf) {
    for (const [k, v] of Object.entries(b.masterCf.set)) lines.push(`     master.cf service ${t(b.masterCf.service)}: -o ${t(k)}=${t(v)}`);
    for (const k of b.masterCf.remove) lines.push(`     master.cf service ${t(b.masterCf.service)}: remove -o ${t(k)}`);
  }
  for (const r of b.replace) lines.push(`     ${t(r.file)}: replace "${t(r.find)}" with "${t(r.with)}"`);
  lines.push('     then these checks fail (every other check still passes):');
  for (const id of b.fails) lines.push(`       - ${t(id)}: ${t(s.checks.find((c) => c.id === id)?.title ?? '')}`);
  return lines;
}

/** The lines that explain the scenario itself (no report needed). */
export function scenarioStory(s: Scenario): string[] {
  const lines = [`${t(s.id)}: ${t(s.title)}`];
  if (s.summary) lines.push('', `  ${t(s.summary, 4000)}`);
  lines.push('', s.seeds.length ? 'Seeds:' : 'Seeds: none named');
  for (const x of s.seeds) lines.push(`  ${x}: ${SEEDS[x] ?? 'a seed document under ../shared/seeds/'}`);
  lines.push(`Ports: ${scenarioPorts(s).map((p) => `${p.service === String(p.port) ? p.port : `${t(p.service)} (${p.port})`}: ${p.checks.length} check(s)`).join('; ') || 'none'}`);
  const outbound = s.checks.filter((c) => c.kind === 'delivery').length;
  if (outbound) lines.push(`Outbound: ${outbound} delivery check(s): the Postfix under test sends, to ${s.nodes.filter((n) => n.kind === 'smtp-peer' || (n.kind === 'postfix' && n.postfix)).map((n) => t(n.name)).join(', ')}`);
  lines.push('', 'Settings it teaches:', ...taughtSettings(s));
  lines.push('', `Checks (${s.checks.length}):`);
  for (const c of s.checks) {
    lines.push(`  ${t(c.id)}  [${c.kind}, service ${t(c.service)}]`, `    ${t(c.title, 1000)}`);
    if (c.why) lines.push(`    why: ${t(c.why, 2000)}`);
    if (c.configSays) lines.push(`    config says: ${t(c.configSays, 1000)}`);
  }
  lines.push('', 'Break it:');
  if (s.breakIt.length === 0) lines.push('  (no break-it exercise in this scenario)');
  s.breakIt.forEach((b, i) => lines.push(...breakItLines(b, s, i + 1)));
  return lines;
}

/** One client's handshake in one line: protocol, cipher, key exchange, certificate and its verification, resumption, AUTH before TLS. */
export function handshakeSummary(o: TlsObservation): string {
  const where = `${o.client} → port ${o.target.port} (${o.target.mode})`;
  const parts: (string | null)[] = [];
  if (o.tls) {
    const k = o.tls.keyExchange;
    const c = o.tls.peerCertificate;
    const v = o.tls.verification;
    parts.push(
      `${o.tls.protocol} ${o.tls.cipher.iana ?? o.tls.cipher.openssl}`,
      k ? `key exchange ${k.type}${k.group ? ` ${k.group}` : ''}${k.bits !== null ? ` ${k.bits} bits` : ''}` : null,
      c ? `certificate ${c.subject} (issuer ${c.issuer}, ${c.keyType}${c.keyBits !== null ? ` ${c.keyBits}` : ''}, chain ${c.chainLength})` : 'no certificate',
      v.verified ? 'verified' : `not verified${v.chainError ? ` (${v.chainError})` : ''}${v.nameError ? ` (${v.nameError})` : ''}`,
      o.resumption ? (o.tls.sessionReused ? 'session resumed' : 'session not resumed') : null,
    );
  } else if (o.error) parts.push(`no TLS: ${o.error.code}${o.error.stage ? ` at ${o.error.stage}` : ''}: ${o.error.message}`);
  else parts.push(o.target.mode === 'plain' ? 'plaintext, no TLS asked for' : 'no TLS handshake (the check stopped before it)');
  const auth = o.capabilities.beforeTls?.filter((x) => /^AUTH\b/i.test(x));
  if (auth) parts.push(auth.length ? `AUTH before TLS: ${auth.join(', ')}` : 'no AUTH before TLS');
  return `${where}: ${parts.filter(Boolean).join('; ')}`;
}

const TRANSCRIPT_LINES = 80;

function checkRunLines(c: CheckResult): string[] {
  const lines = [`  ${c.status.toUpperCase()} ${t(c.id)}${c.status === 'pass' ? '' : `: ${t(c.message, 1000)}`}`];
  for (const o of c.observations) {
    lines.push(`    handshake: ${t(handshakeSummary(o), 1500)}`);
    lines.push(`    transcript (${o.client}):`);
    for (const e of o.transcript.slice(0, TRANSCRIPT_LINES)) lines.push(`      ${e.dir} ${t(e.text, 400)}`);
    if (o.transcript.length > TRANSCRIPT_LINES) lines.push(`      … ${o.transcript.length - TRANSCRIPT_LINES} more line(s) in the report`);
  }
  const e = c.tlsSurface?.enumeration as { protocol?: string; accepted?: string[]; order?: string | null } | undefined;
  if (e?.accepted) lines.push(`    enumerated ${t(String(e.protocol))}: ${e.accepted.length} suite(s) accepted${e.order ? `, ${e.order} order` : ''}: ${t(e.accepted.join(', '), 3000)}`);
  const h = c.tlsSurface?.hello as Record<string, unknown> | undefined;
  if (h) lines.push(`    hand-built hello answered: ${t([h.kind, h.version, h.cipher, h.alert].filter((x) => x !== null && x !== undefined).join(' '))}`);
  if (c.logEvents.length) {
    lines.push('    Postfix logged:');
    for (const ev of c.logEvents) lines.push(`      ${t(ev.raw, 600)}`);
  }
  return lines;
}

/** The lines from one run of the scenario: verdicts, handshakes, transcripts, log lines. */
export function reportStory(r: ScenarioReport, source: string): string[] {
  const lines = ['', `From ${t(source, 1000)}: ${r.status}${r.startupMs !== null ? `, Postfix ready in ${(r.startupMs / 1000).toFixed(1)} s` : ''}`];
  if (r.error) lines.push(`  ${r.error.code}: ${t(r.error.message, 2000)}`);
  for (const f of r.findings) lines.push(`  Postfix warned${f.expected ? ' (the scenario expects it)' : ''}: ${t(f.text, 600)}`);
  for (const c of r.checks) lines.push(...checkRunLines(c));
  return lines;
}

export interface ExplainOptions {
  readonly id: string;
  readonly scenariosDir: string;
  /** The report to read; `given` when --report named it (then a bad file is an error, exit 2). */
  readonly report: { readonly file: string; readonly given: boolean };
  readonly out: (line: string) => void;
}

/** Exit 0; 2 when the scenario is unknown (EUSAGE, with the known ids), broken, or --report is not a report. */
export function explainCommand(o: ExplainOptions): number {
  const [entry] = loadCatalogue(o.scenariosDir, [o.id]);
  if (!entry) throw new LabError('EINTERNAL', `explain: loadCatalogue returned nothing for '${o.id}'`);
  if (!entry.scenario) throw entry.error;
  for (const line of scenarioStory(entry.scenario)) o.out(line);
  const rel = path.relative(process.cwd(), o.report.file) || o.report.file;
  if (!o.report.given && !fs.existsSync(o.report.file)) {
    o.out('');
    o.out(`No report at ${t(rel, 1000)}: run \`smtp-tls-lab run --scenario ${t(o.id)}\` to see transcripts, handshakes and Postfix's log lines here (or give --report FILE).`);
    return 0;
  }
  let loaded;
  try {
    loaded = readReport(o.report.file);
  } catch (err) {
    if (o.report.given) throw err;
    o.out('');
    o.out(`The default report ${t(rel, 1000)} cannot be shown: ${t(asLabError(err).message, 1000)}`);
    return 0;
  }
  const run = loaded.report.scenarios.find((s) => s.id === o.id);
  const source = `${o.report.given ? 'the report' : 'the latest report'} ${rel} (run ${loaded.report.run.id}, ${loaded.report.run.startedAt})`;
  if (!run) {
    o.out('');
    o.out(`${t(source, 1000)} has no run of ${t(o.id)}: run \`smtp-tls-lab run --scenario ${t(o.id)}\` to see it here.`);
    return 0;
  }
  for (const line of reportStory(run, source)) o.out(line);
  return 0;
}
