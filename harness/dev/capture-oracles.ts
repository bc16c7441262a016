/**
 * Captures the oracle outputs in harness/tests/golden/oracles/ from real lab Postfix
 * containers, for the parser unit tests (harness/tests/unit/probe-oracles.test.ts):
 *
 *   npx tsx harness/dev/capture-oracles.ts                 # every configuration
 *   npx tsx harness/dev/capture-oracles.ts tls12-only      # some
 *   npx tsx harness/dev/capture-oracles.ts --probe-only opportunistic-25   # only probe-NAME.json (after a probe schema change)
 *
 * For each configuration in ORACLE_CONFIGS it starts the scenario, runs on the host
 *   sslscan --starttls-smtp --no-colour --xml=FILE ADDR:25                 → sslscan-NAME.xml, sslscan-NAME.txt
 *   testssl --quiet --color 0 --warnings off -n none --starttls smtp -p -E -f --jsonfile FILE ADDR:25
 *                                                                          → testssl-NAME.json
 * and, for opportunistic-25 only, testssl with the feature checks (-S -R -C -Z)
 *                                                                          → testssl-opportunistic-25-features.json
 * and, for the configurations in ORDER_CAPTURES, testssl with -P (server preferences: cipher order)
 *                                                                          → testssl-NAME-order.json
 * plus probe's own result on the same container (probe-NAME.json) so a reader can compare.
 * capture-info.json records tool versions, the image and the date. Outputs are written as the
 * tools made them; the README says what each file shows. Never regenerate to make a test pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { run } from '../core/exec.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../engine/paths.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import { loadScenario } from '../scenario/load.js';
import { ensureOracleTools, runSslscan, runTestssl, TESTSSL_ENUMERATION_FLAGS, TESTSSL_FEATURE_FLAGS, TESTSSL_ORDER_FLAGS } from '../enum/oracles.js';
import { probe } from '../enum/probe.js';

export const ORACLE_GOLDEN_DIR = path.join(PROJECT_ROOT, 'harness/tests/golden/oracles');
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/probe');

export interface OracleConfig {
  readonly name: string;
  readonly dir: string;
  readonly what: string;
  /**
   * The suite order the config asks for, from its tls_preempt_cipherlist (yes: the server's
   * order, for TLS 1.2 and 1.3 suites alike; no, Postfix's default: the client's). Stated here
   * and checked against the main.cf by the truth test, so a probe that always said one of them
   * fails on the other.
   */
  readonly expectedOrder: 'server' | 'client';
  /** Session IDs resume whichever smtpd takes the reconnect (smtpd_tls_session_cache_database): the session-ID verdict is deterministic. */
  readonly sharedSessionCache: boolean;
}

/** The configurations probe is compared with sslscan and testssl on (the truth test uses the same list). */
export const ORACLE_CONFIGS: readonly OracleConfig[] = [
  { name: 'opportunistic-25', dir: path.join(SCENARIOS_DIR, 'opportunistic-25'), what: 'seed 000: TLS 1.2 + 1.3, high ciphers minus the exclude list, server order, ffdhe4096 DH', expectedOrder: 'server', sharedSessionCache: false },
  { name: 'protocol-floor-seed002', dir: path.join(SCENARIOS_DIR, 'protocol-floor-seed002'), what: 'seed 002: TLS 1.0 to 1.3, default (medium) ciphers incl. anonymous, client order', expectedOrder: 'client', sharedSessionCache: false },
  { name: 'permissive', dir: path.join(FIXTURES, 'permissive'), what: 'all protocols but SSLv2, ALL:@SECLEVEL=0, client order, ten curves', expectedOrder: 'client', sharedSessionCache: false },
  { name: 'tls12-only', dir: path.join(FIXTURES, 'tls12-only'), what: 'TLS 1.2 only, ECDSA P-256 certificate, medium ciphers, server order', expectedOrder: 'server', sharedSessionCache: false },
  { name: 'session-cache', dir: path.join(FIXTURES, 'session-cache'), what: 'seed 000 at TLS 1.2 with smtpd_tls_session_cache_database: session IDs resume on any smtpd process', expectedOrder: 'server', sharedSessionCache: true },
];

/** Configurations whose testssl -P output is kept as a golden (one that orders, one that does not). */
export const ORDER_CAPTURES: readonly string[] = ['opportunistic-25', 'protocol-floor-seed002'];

async function toolVersions(): Promise<Record<string, string>> {
  const s = await run('sslscan', ['--version'], { timeoutMs: 10_000 });
  const t = await run('testssl', ['--version'], { timeoutMs: 30_000 });
  const strip = (x: string) => x.replace(/\x1b\[[0-9;]*m/g, '');
  const dpkg = await run('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'sslscan', 'testssl.sh', 'openssl'], { timeoutMs: 10_000 });
  return {
    sslscan: strip(s.stdout).replace(/\s+/g, ' ').trim(),
    testssl: /testssl\s+(\S+)/.exec(strip(t.stdout + t.stderr))?.[1] ?? 'unknown',
    packages: dpkg.stdout.trim(),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const probeOnly = args.includes('--probe-only');
  const only = args.filter((a) => a !== '--probe-only');
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true'; // as the CLI does: Ryuk cannot be pulled offline
  await ensureEngine();
  const image = await ensureImage('postfix');
  fs.mkdirSync(ORACLE_GOLDEN_DIR, { recursive: true });
  const infoFile = path.join(ORACLE_GOLDEN_DIR, 'capture-info.json');
  if (probeOnly) {
    // The oracles' captures stay as they are; probe's result beside them is made again, and capture-info says when.
    const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as { configs: Record<string, Record<string, unknown>> };
    for (const c of ORACLE_CONFIGS) {
      if (only.length > 0 && !only.includes(c.name)) continue;
      const session = await ScenarioSession.start(loadScenario(c.dir), image.tag);
      try {
        const ep = session.postfix.endpoint('smtp');
        const p = await probe({ host: ep.host, port: ep.port, mode: 'starttls' });
        fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `probe-${c.name}.json`), `${JSON.stringify(p, null, 2)}\n`);
        info.configs[c.name] = { ...info.configs[c.name], probeMs: p.durationMs, probeCapturedAt: p.startedAt, probeSchema: p.schema, probeAddress: ep.host, image: image.tag };
        process.stdout.write(`${c.name}: probe ${p.durationMs} ms (${p.schema}, complete ${p.complete})\n`);
      } finally {
        const problems = await session.stop();
        for (const x of problems) process.stderr.write(`cleanup: ${x}\n`);
      }
    }
    fs.writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`);
    return;
  }
  const tools = await ensureOracleTools();
  if (!tools.sslscan || !tools.testssl) throw new LabError('ETOOL', `oracle tools missing: ${tools.problems.join('; ')}`);
  const info: Record<string, unknown> = { capturedAt: new Date().toISOString(), image: image.tag, tools: await toolVersions(), configs: {} };
  for (const c of ORACLE_CONFIGS) {
    if (only.length > 0 && !only.includes(c.name)) continue;
    const session = await ScenarioSession.start(loadScenario(c.dir), image.tag);
    try {
      const ep = session.postfix.endpoint('smtp');
      const target = { host: ep.host, port: ep.port, mode: 'starttls' as const };
      const p = await probe(target);
      fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `probe-${c.name}.json`), `${JSON.stringify(p, null, 2)}\n`);
      const s = await runSslscan(target);
      if (s.status !== 'ok') throw new LabError('ETOOL', `sslscan on ${c.name}: ${s.reason}`);
      fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `sslscan-${c.name}.xml`), s.raw.file);
      fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `sslscan-${c.name}.txt`), s.raw.stdout);
      const t = await runTestssl(target, { flags: TESTSSL_ENUMERATION_FLAGS });
      if (t.status !== 'ok') throw new LabError('ETOOL', `testssl on ${c.name}: ${t.reason}`);
      fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `testssl-${c.name}.json`), t.raw.file);
      const record: Record<string, unknown> = { address: ep.host, what: c.what, probeMs: p.durationMs, sslscanMs: s.ms, testsslMs: t.ms, sslscanCommand: s.command.join(' '), testsslCommand: t.command.join(' ') };
      if (ORDER_CAPTURES.includes(c.name)) {
        const o = await runTestssl(target, { flags: TESTSSL_ORDER_FLAGS });
        if (o.status !== 'ok') throw new LabError('ETOOL', `testssl -P on ${c.name}: ${o.reason}`);
        fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `testssl-${c.name}-order.json`), o.raw.file);
        record.testsslOrderCommand = o.command.join(' ');
      }
      if (c.name === 'opportunistic-25') {
        const f = await runTestssl(target, { flags: TESTSSL_FEATURE_FLAGS });
        if (f.status !== 'ok') throw new LabError('ETOOL', `testssl features on ${c.name}: ${f.reason}`);
        fs.writeFileSync(path.join(ORACLE_GOLDEN_DIR, `testssl-${c.name}-features.json`), f.raw.file);
        record.testsslFeaturesCommand = f.command.join(' ');
        record.testsslFeaturesMs = f.ms;
      }
      (info.configs as Record<string, unknown>)[c.name] = record;
      process.stdout.write(`${c.name}: probe ${p.durationMs} ms, sslscan ${s.ms} ms, testssl ${t.ms} ms\n`);
    } finally {
      const problems = await session.stop();
      for (const x of problems) process.stderr.write(`cleanup: ${x}\n`);
    }
  }
  const prev = fs.existsSync(infoFile) ? (JSON.parse(fs.readFileSync(infoFile, 'utf8')) as { configs?: Record<string, unknown> }) : {};
  info.configs = { ...(prev.configs ?? {}), ...(info.configs as Record<string, unknown>) };
  fs.writeFileSync(infoFile, `${JSON.stringify(info, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(2);
  });
}
