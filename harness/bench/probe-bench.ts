import path from 'node:path';
import { LabError } from '../core/errors.js';
import { ensureImage } from '../engine/images.js';
import { SCENARIOS_DIR } from '../engine/paths.js';
import { PROBE_VERSIONS, suitesFor } from '../enum/cipher-suites.js';
import { buildClientHello } from '../enum/client-hello.js';
import { ensureOracleTools, type OracleFindings, type OracleRun, runSslscan, runTestssl, suiteName, TESTSSL_ENUMERATION_FLAGS } from '../enum/oracles.js';
import { DEFAULT_CONCURRENCY, probe, type ProbeResult } from '../enum/probe.js';
import { DEFAULT_PROBE_TIMEOUTS, exchangeHello, openForTls } from '../enum/starttls-transport.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import type { PostfixLog } from '../postfix/log-stream.js';
import { loadScenario } from '../scenario/load.js';
import { cliProcess } from './process-timing.js';
import { formatMs, median, timed } from './stats.js';

/**
 * `npm run bench:probe`: probe against sslscan and testssl.sh on one lab container
 * (opportunistic-25), with the same scope: protocols, suites per protocol, groups.
 *   probe   --scope enumeration
 *   sslscan --starttls-smtp --no-heartbleed --no-renegotiation --no-compression --no-fallback
 *   testssl --starttls smtp -p -E -f      (at most 2 rounds: it takes half a minute or more)
 * probe runs twice: in this process (the engine's own time) and as a whole process, as a user
 * types it (`node harness/bin/bootstrap.mjs probe HOST:PORT --scope enumeration --json -`:
 * Node's start, the CLI's modules, the probe, the JSON), which is what compares with sslscan,
 * itself timed as a whole process. Runs alternate in every round. Connections are probe's own
 * count and, for every tool, the Postfix "connect from" lines logged during its run. Figures, not assertions; the goals
 * (probe <= 0.5x sslscan, <= 0.05x testssl, <= half sslscan's connections, same findings)
 * are reported as met or not.
 */

const SSLSCAN_SCOPE_FLAGS: readonly string[] = ['--no-heartbleed', '--no-renegotiation', '--no-compression', '--no-fallback'];
const TESTSSL_MAX_ROUNDS = 2;

type Tool = 'probe' | 'probe-process' | 'sslscan' | 'testssl';

interface Sample {
  readonly ms: number;
  readonly connections: number;
}

/** Postfix "connect from" lines since the marker, once every connection has logged its end (bounded wait). */
async function connectsSince(log: PostfixLog, marker: number, ms = 5_000): Promise<number> {
  const counts = () => {
    const ev = log.since(marker);
    const connects = ev.filter((e) => e.type === 'connect').length;
    const ends = ev.filter((e) => e.type === 'disconnect').length;
    return { connects, ends };
  };
  try {
    await log.waitFor(
      'bench: every connection logged its disconnect',
      () => {
        const c = counts();
        return c.connects > 0 && c.ends >= c.connects;
      },
      ms,
    );
  } catch {
    // A tool that left a connection without a disconnect line still counts its connects.
  }
  return counts().connects;
}

interface Comparable {
  /** null: the probe could not decide the version (its featureStatus says why). */
  readonly protocols: Readonly<Partial<Record<string, boolean | null>>>;
  readonly ciphers: Readonly<Record<string, readonly number[]>>;
  readonly groups: readonly number[];
}

function fromProbe(r: ProbeResult): Comparable {
  return {
    protocols: r.protocols,
    ciphers: Object.fromEntries(PROBE_VERSIONS.map((v) => [v, r.ciphersByProtocol[v].map((s) => s.code).sort((a, b) => a - b)])),
    groups: r.groups.map((g) => g.code).sort((a, b) => a - b),
  };
}

function fromOracle(f: OracleFindings): Comparable {
  return { protocols: f.protocols, ciphers: f.ciphersByProtocol, groups: f.groups };
}

/** Differences between probe's findings and a tool's, in words; [] when identical. */
export function findingDifferences(p: Comparable, o: Comparable, tool: string): string[] {
  const out: string[] = [];
  for (const v of PROBE_VERSIONS) {
    const said = (x: boolean | null | undefined) => (x === null ? 'could not decide' : x ? 'accepted' : 'refused');
    if (o.protocols[v] !== undefined && o.protocols[v] !== p.protocols[v]) out.push(`${v}: probe ${said(p.protocols[v])}, ${tool} ${said(o.protocols[v])}`);
    const a = new Set(p.ciphers[v] ?? []);
    const b = new Set(o.ciphers[v] ?? []);
    const onlyP = [...a].filter((c) => !b.has(c));
    const onlyO = [...b].filter((c) => !a.has(c));
    if (onlyP.length) out.push(`${v}: only probe found ${onlyP.map(suiteName).join(', ')}`);
    if (onlyO.length) out.push(`${v}: only ${tool} found ${onlyO.map(suiteName).join(', ')}`);
  }
  const ga = new Set(p.groups);
  const gb = new Set(o.groups);
  const gp = [...ga].filter((g) => !gb.has(g));
  const go = [...gb].filter((g) => !ga.has(g));
  if (gp.length) out.push(`groups: only probe found ${gp.join(', ')}`);
  if (go.length) out.push(`groups: only ${tool} found ${go.join(', ')}`);
  return out;
}

/** The probe command as a user types it, for the lab target; JSON on stdout. */
function probeProcessArgs(target: { host: string; port: number; mode: 'starttls' }): string[] {
  return ['probe', `${target.host}:${target.port}`, '--starttls', '--scope', 'enumeration', '--json', '-'];
}

export async function benchProbe(opts: { rounds: number; out: (line: string) => void }): Promise<void> {
  const { out } = opts;
  const rounds = Math.max(1, opts.rounds);
  out(`smtp-tls-lab bench:probe: ${rounds} round(s) against opportunistic-25 (testssl at most ${TESTSSL_MAX_ROUNDS})`);
  const tools = await ensureOracleTools();
  for (const p of tools.problems) out(`  note: ${p}`);
  const image = await ensureImage('postfix', (l) => out(`  ${l}`));
  const session = await ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, 'opportunistic-25')), image.tag);
  try {
    const ep = session.postfix.endpoint('smtp');
    const target = { host: ep.host, port: ep.port, mode: 'starttls' as const };
    const log = session.postfix.log;
    out(`  target ${ep.host}:${ep.port} (lab container), Postfix ready in ${formatMs(session.startupMs)}`);

    // Warm-up (smtpd processes, the host's caches, the CLI's build if a source changed), not measured.
    await probe(target, { scope: 'enumeration' });
    const warmProcess = await cliProcess(probeProcessArgs(target));
    if (warmProcess.code !== 0) out(`  note: the probe as a process exited ${warmProcess.code} in the warm-up: ${warmProcess.stderr.trim().slice(-300)}`);

    // One handshake attempt: TCP, banner, EHLO, STARTTLS, a ClientHello with every TLS 1.2 suite, the server's flight.
    const hello = buildClientHello({ maxVersion: 'TLSv1.2', ciphers: suitesFor('TLSv1.2') });
    const single: number[] = [];
    for (let i = 0; i < 20; i++) {
      const [ms, a] = await timed(async () => {
        const t = await openForTls(target, { ehloName: 'probe.lab.test', timeouts: DEFAULT_PROBE_TIMEOUTS });
        return exchangeHello(t.socket, hello, DEFAULT_PROBE_TIMEOUTS.serverAnswer);
      });
      if (a.kind !== 'server-hello') throw new LabError('EINTERNAL', `bench: single handshake attempt got ${a.kind}`);
      single.push(ms);
    }

    const samples: Record<Tool | 'probe-full' | 'sslscan-default', Sample[]> = { probe: [], 'probe-process': [], sslscan: [], testssl: [], 'probe-full': [], 'sslscan-default': [] };
    let probeResult: ProbeResult | null = null;
    let processProbeResult: ProbeResult | null = null;
    let probeHellos = 0;
    let probeOwnConnections: number[] = [];
    const oracleFindings: Partial<Record<'sslscan' | 'testssl', OracleFindings>> = {};
    const skipped: string[] = [];

    const runTool = async (tool: Tool | 'probe-full' | 'sslscan-default', round: number): Promise<void> => {
      const marker = log.size;
      if (tool === 'probe' || tool === 'probe-full') {
        const [ms, r] = await timed(() => probe(target, { scope: tool === 'probe' ? 'enumeration' : 'full' }));
        const connections = await connectsSince(log, marker);
        samples[tool].push({ ms, connections });
        if (tool === 'probe') {
          probeResult ??= r;
          probeHellos = r.helloAttempts;
          probeOwnConnections = [...probeOwnConnections, r.connections];
        }
        return;
      }
      if (tool === 'probe-process') {
        const r = await cliProcess(probeProcessArgs(target));
        const connections = await connectsSince(log, marker);
        if (r.code !== 0) {
          skipped.push(`probe as a process, round ${round + 1}: exit ${r.code}: ${r.stderr.trim().slice(-300)}`);
          return;
        }
        samples[tool].push({ ms: r.ms, connections });
        processProbeResult ??= JSON.parse(r.stdout) as ProbeResult;
        return;
      }
      let run: OracleRun;
      if (tool === 'sslscan' || tool === 'sslscan-default') {
        if (!tools.sslscan) return;
        run = await runSslscan(target, { binary: tools.sslscan, extraArgs: tool === 'sslscan' ? SSLSCAN_SCOPE_FLAGS : [] });
      } else {
        if (!tools.testssl || round >= TESTSSL_MAX_ROUNDS) return;
        run = await runTestssl(target, { binary: tools.testssl, flags: TESTSSL_ENUMERATION_FLAGS });
      }
      if (run.status !== 'ok') {
        skipped.push(`${tool} round ${round + 1}: ${run.reason}`);
        return;
      }
      const connections = await connectsSince(log, marker);
      samples[tool].push({ ms: run.ms, connections });
      if (tool === 'sslscan' || tool === 'testssl') oracleFindings[tool] ??= run.findings;
    };

    for (let round = 0; round < rounds; round++) {
      // Alternate who goes first, so neither always meets a cold or a warm server.
      const order: (Tool | 'probe-full' | 'sslscan-default')[] = round % 2 === 0 ? ['probe-process', 'sslscan', 'probe', 'testssl', 'probe-full', 'sslscan-default'] : ['testssl', 'probe', 'sslscan', 'probe-process', 'sslscan-default', 'probe-full'];
      for (const tool of order) await runTool(tool, round);
      out(`  round ${round + 1}/${rounds} done`);
    }

    const med = (t: keyof typeof samples) => median(samples[t].map((s) => s.ms));
    const medConn = (t: keyof typeof samples) => median(samples[t].map((s) => s.connections));
    const row = (name: string, t: keyof typeof samples, note = '') => {
      if (samples[t].length === 0) return out(`  ${name.padEnd(46)} not run${note ? ` (${note})` : ''}`);
      out(`  ${name.padEnd(46)} median ${formatMs(med(t)).padStart(9)}  connections ${String(medConn(t)).padStart(4)}  (n=${samples[t].length}${note ? `, ${note}` : ''})`);
    };
    out('');
    out('same scope (protocols, suites per protocol, groups); every tool but the in-process probe is a whole process:');
    row('probe --scope enumeration, whole process', 'probe-process', 'node + CLI start + probe + JSON');
    row('probe --scope enumeration, in-process', 'probe', `the engine alone; probe counted ${median(probeOwnConnections)} connections itself`);
    row('sslscan --starttls-smtp (no hb/reneg/compr/fb)', 'sslscan');
    row('testssl --starttls smtp -p -E -f', 'testssl');
    out('whole default runs (for reference):');
    row('probe (full: + certificate, features), in-process', 'probe-full');
    row('sslscan --starttls-smtp (default)', 'sslscan-default');
    out('');
    const singleMed = median(single);
    out(`  one handshake attempt (TCP+banner+EHLO+STARTTLS+hello+answer): median ${formatMs(singleMed)} (n=${single.length})`);
    out(`  physical floor: ${probeHellos} ClientHellos x ${formatMs(singleMed)} = ${formatMs(probeHellos * singleMed)} one after another; probe's wall time ${formatMs(med('probe'))} (concurrency ${DEFAULT_CONCURRENCY})`);
    out('');
    const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
    const goal = (label: string, value: number, limit: number) =>
      out(`  ${label.padEnd(46)} ${Number.isNaN(value) ? 'n/a' : value.toFixed(3).padStart(7)}   goal <= ${limit}: ${Number.isNaN(value) ? 'not measured' : value <= limit ? 'met' : 'NOT met'}`);
    goal('wall time probe / sslscan, whole processes', ratio(med('probe-process'), med('sslscan')), 0.5);
    goal('wall time probe / testssl, whole processes', ratio(med('probe-process'), med('testssl')), 0.05);
    const inProcess = ratio(med('probe'), med('sslscan'));
    out(`  ${'wall time probe in-process / sslscan'.padEnd(46)} ${Number.isNaN(inProcess) ? 'n/a' : inProcess.toFixed(3).padStart(7)}   (the engine alone, no goal)`);
    out(`  ${'probe start-up (whole process - in-process)'.padEnd(46)} ${formatMs(med('probe-process') - med('probe')).padStart(7)}`);
    goal('connections probe / sslscan', ratio(medConn('probe'), medConn('sslscan')), 0.5);
    const ct = ratio(medConn('probe'), medConn('testssl'));
    out(`  ${'connections probe / testssl'.padEnd(46)} ${Number.isNaN(ct) ? 'n/a' : ct.toFixed(3).padStart(7)}   (no goal)`);
    out('');
    const runs: [string, ProbeResult | null][] = [
      ['in-process probe', probeResult as ProbeResult | null],
      ['whole-process probe', processProbeResult as ProbeResult | null],
    ];
    for (const [which, pr] of runs) {
      if (!pr) {
        out(`  findings of the ${which}: none (it did not run)`);
        continue;
      }
      for (const tool of ['sslscan', 'testssl'] as const) {
        const f = oracleFindings[tool];
        if (!f) {
          out(`  findings of the ${which} vs ${tool}: not compared (${tool} did not run)`);
          continue;
        }
        const diff = findingDifferences(fromProbe(pr), fromOracle(f), tool);
        out(`  findings of the ${which} vs ${tool}: ${diff.length === 0 ? 'identical (protocols, suites per protocol, groups)' : 'DIFFERENT'}`);
        for (const d of diff) out(`    - ${d}`);
      }
    }
    for (const s of skipped) out(`  skipped: ${s}`);
  } finally {
    const problems = await session.stop();
    for (const p of problems) out(`  cleanup: ${p}`);
  }
}
