import fs from 'node:fs';
import path from 'node:path';
import { LabError, asLabError } from '../core/errors.js';
import { forTerminal } from '../core/escape.js';
import { errorResult } from '../checks/error-result.js';
import { startupFindings } from '../checks/findings.js';
import type { CheckResult, Finding } from '../checks/result.js';
import { runCheck } from '../checks/run-check.js';
import { removeLabObjects, removeRunObjectsSync } from '../engine/cleanup.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { readStackVersions } from '../lab/stack-versions.js';
import { RUN_ID } from '../engine/labels.js';
import { probe } from '../enum/probe.js';
import type { ProbeResult } from '../enum/probe-result.js';
import { ScenarioSession } from '../lab/scenario-session.js';
import { effectiveConfig } from '../postfix/effective-config.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import { buildReport } from '../report/build-report.js';
import { runDirName, writeReport } from '../report/write-report.js';
import { scenarioLines, summaryLines } from '../report/render-terminal.js';
import type { ExitCode, ScenarioRecord } from '../report/types.js';
import { buildCheckScenario, type CheckScenario } from './build-scenario.js';
import { overlayConfig, overlayLines, readConfigDir, type OverlaidConfig } from './overlay.js';
import { ruleCheckId, ruleResult, rulesFor } from './profile-results.js';
import type { Profile } from './profiles.js';
import type { CheckedService } from './services.js';

export interface ConfigCheckOptions {
  readonly dir: string;
  readonly profile: Profile;
  /** The stack to run the config on (`check --stack`); default bookworm. */
  readonly stack?: StackName;
  readonly outDir: string;
  readonly out: (line: string) => void;
  readonly say: (line: string) => void;
}

/** What the run found apart from the report: the probe result per port (kept next to the report as probe-PORT.json). */
interface ServiceOutcome {
  readonly service: CheckedService;
  readonly checks: readonly CheckResult[];
  readonly probe: ProbeResult | null;
}

/** Input problems (a map the folder lacks …) as error records: named with the parameter, never hiding the rest. */
function inputResults(o: OverlaidConfig): CheckResult[] {
  return o.problems.map((p, i) =>
    errorResult({ kind: 'check-input', id: `input-${i + 1}-${p.parameter.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`.slice(0, 63), title: `Your ${p.where}: ${p.parameter}`, why: 'a file the config names must be in the folder' }, new LabError('ESCENARIO', p.message, { detail: `remedy: copy the file into ${o.dir} (its base name), or remove the reference` })),
  );
}

/** The checks that stand for a service that could not be judged (Postfix broken on it, no lab). */
function serviceErrors(built: CheckScenario, profile: Profile, s: CheckedService, err: unknown): CheckResult[] {
  const own = built.scenario.checks.filter((c) => c.service === s.service).map((c) => errorResult(c, err));
  const rules = rulesFor(profile, s).map((r) => errorResult({ kind: 'enumeration', id: ruleCheckId(profile, s, r), title: `${profile.name}: ${r.title} (port ${s.port})`, why: r.clause }, err));
  return [...own, ...rules];
}

/**
 * Services whose own smtpd died or lost TLS while the warm-up connected (a bad -o on one
 * service): told apart by the program in the log line (its -o syslog_name), else by the pid
 * that served the warm-up's connection. null when the config error is not one service's
 * (then no service can be judged).
 */
function brokenServices(events: readonly PostfixLogEvent[], fatalRaw: string, session: ScenarioSession, services: readonly CheckedService[]): Set<string> | null {
  const ev = events.find((e) => e.raw === fatalRaw);
  if (!ev) return null;
  const program = ev.program?.replace(/\/[^/]+$/, '') ?? null;
  const byName = program ? services.filter((s) => s.syslogName === program) : [];
  const byPid = session.warmUp.connections.filter((c) => c.smtpdPid !== null && ev.pid === c.smtpdPid).map((c) => c.service);
  const hit = [...new Set([...byName.map((s) => s.service), ...byPid])];
  return hit.length && hit.length < services.length ? new Set(hit) : null;
}

/** For a main.cf line Postfix names in the lab's merged file: the same line in the user's file. */
export function userLineOf(message: string, effectiveMainCf: string, userMainCf: string): string | null {
  const m = /main\.cf, line (\d+)/.exec(message);
  if (!m) return null;
  const text = effectiveMainCf.split('\n')[Number(m[1]) - 1]?.trim();
  if (!text) return null;
  const at = userMainCf.split(/\r?\n/).findIndex((l) => l.trim() === text || (text.length > 3 && l.includes(text)));
  return at >= 0 ? `your main.cf, line ${at + 1}: ${userMainCf.split(/\r?\n/)[at]!.trim()}` : `the lab's merged main.cf, line ${m[1]}: ${text}`;
}

/**
 * `smtp-tls-lab check --postfix-config DIR`: the user's config in the lab's Postfix (with the
 * overlay), each smtpd service judged by its per-port expectations and by the profile's
 * rules on what probe finds there. One scenario record, one report (every format), the exit
 * code the report's: 0 every rule holds, 1 a rule failed, 2 the lab could not judge them all.
 */
export async function runConfigCheck(o: ConfigCheckOptions): Promise<ExitCode> {
  const startedAt = new Date();
  const input = readConfigDir(o.dir);
  const overlaid = overlayConfig(input, path.resolve(o.dir));
  const built = buildCheckScenario(overlaid);
  const { scenario, services } = built;
  for (const l of overlayLines(overlaid)) o.out(l);
  o.out(`services: ${services.length ? services.map((s) => `${s.port} ${s.service} (${s.mode === 'implicit' ? 'wrapper mode' : 'STARTTLS'}, ${s.role})`).join('; ') : 'none'}`);
  o.out(`profile: ${o.profile.name}: ${o.profile.title} (${o.profile.rules.length} rule(s))`);
  for (const n of o.profile.notMeasured) o.out(`  not measured: ${n.what} (${n.clause}): ${n.why}`);
  for (const p of overlaid.problems) o.say(`check: ${forTerminal(p.message)}`);

  const base = (checks: CheckResult[], extra: Partial<ScenarioRecord> = {}): ScenarioRecord => ({
    id: scenario.id,
    title: scenario.title,
    summary: scenario.summary,
    seeds: [],
    startupMs: null,
    error: null,
    findings: [],
    checks: [...inputResults(overlaid), ...checks],
    logEvents: [],
    mainCf: null,
    cleanupProblems: [],
    ...extra,
  });
  if (services.length === 0) {
    const err = new LabError('ESCENARIO', `no smtpd inet service in ${overlaid.masterCf?.file ?? "the lab's base master.cf"}: nothing listens for SMTP`, { detail: 'remedy: give check the master.cf with your smtp/submission/smtps entries' });
    return finish(o, startedAt, null, base([errorResult({ kind: 'check-input', id: 'services', title: 'The config has an SMTP service', why: '' }, err)], { error: err.toRecord() }), [], overlaid);
  }

  const stack = o.stack ?? DEFAULT_STACK;
  let image: string;
  try {
    await ensureEngine(o.say);
    image = (await ensureImage('postfix', (l) => o.say(stack === DEFAULT_STACK ? `lab: ${l}` : `lab [${stack}]: ${l}`), stack)).tag;
  } catch (err) {
    const e = asLabError(err);
    return finish(o, startedAt, null, base(services.flatMap((s) => serviceErrors(built, o.profile, s, e)), { error: e.toRecord() }), [`${e.code}: ${e.message}`], overlaid);
  }

  // Ctrl-C / SIGTERM: the run's containers and network go with the process (synchronously, on exit).
  const onSignal = (sig: NodeJS.Signals) => {
    const r = removeRunObjectsSync();
    o.say(`\ncheck: ${sig}: removed ${r.containers} container(s) and ${r.networks} network(s) of this run`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let session: ScenarioSession | null = null;
  try {
    try {
      session = await ScenarioSession.start(scenario, image, stack);
    } catch (err) {
      const raw = asLabError(err);
      // Postfix names a line of the lab's merged main.cf; the user wants the line of their own file.
      const line = userLineOf(raw.message, effectiveConfig(scenario, scenario.id).mainCf, input.mainCf.text);
      const e = line ? new LabError(raw.code, `${raw.message} (${line})`, { stage: raw.stage, ...(raw.detail === undefined ? {} : { detail: raw.detail }) }) : raw;
      return finish(o, startedAt, image, base(services.flatMap((s) => serviceErrors(built, o.profile, s, e)), { error: e.toRecord() }), [], overlaid);
    }
    const startup = startupFindings({ ...scenario, file: overlaid.mainCf.file }, session.startupEvents());
    let broken = new Set<string>();
    let brokenBecause: LabError | null = startup.configError;
    if (startup.configError) {
      const fatal = startup.findings.find((f: Finding) => startup.configError!.message.includes(f.text));
      const only = fatal ? brokenServices(session.startupEvents(), fatal.raw, session, services) : null;
      broken = only ?? new Set(services.map((s) => s.service));
      if (only && fatal) {
        brokenBecause = new LabError('EPOSTFIX_CHECK', `Postfix logged "${fatal.text}" for ${[...only].join(', ')}: that service runs without working TLS, so none of its checks can give a verdict (the other services are still checked)`, {
          detail: `remedy: fix the -o override or setting Postfix names, in ${overlaid.masterCf?.file ?? overlaid.mainCf.file}\n${fatal.raw}`,
        });
      }
      o.say(`check: ${forTerminal(startup.configError.message)} — ${only ? `only on ${[...only].join(', ')}; the other services are still checked` : 'no service can be judged'}`);
    }
    const outcomes: ServiceOutcome[] = [];
    // One service at a time (2 cores shared); its checks and its probe side by side.
    for (const s of services) {
      if (broken.has(s.service)) {
        outcomes.push({ service: s, checks: serviceErrors(built, o.profile, s, brokenBecause), probe: null });
        continue;
      }
      const probing = (async () => {
        const t = Date.now();
        const r = await probe({ host: session!.postfix.endpoint(s.service).host, port: session!.postfix.endpoint(s.service).port, mode: s.mode }, { scope: 'full' }).catch((err: unknown) => asLabError(err));
        return { r, ms: Date.now() - t };
      })();
      const checks: CheckResult[] = [];
      for (const c of scenario.checks.filter((c) => c.service === s.service)) checks.push(await runCheck(session, c).catch((err: unknown) => errorResult(c, err)));
      const { r, ms } = await probing;
      const rules = rulesFor(o.profile, s).map((rule) => ruleResult(o.profile, s, rule, r, ms));
      outcomes.push({ service: s, checks: [...checks, ...rules], probe: r instanceof LabError ? null : r });
    }
    const logEvents = session.postfix.log.all();
    const mainCf = session.config.mainCf;
    const startupMs = session.startupMs;
    const versions = await readStackVersions(session.postfix, image).catch(() => ({ postfix: null, openssl: null }));
    const problems = await session.stop();
    session = null;
    const record = base(
      outcomes.flatMap((x) => x.checks),
      { startupMs, findings: startup.findings, logEvents, mainCf, cleanupProblems: problems, stack: { name: stack, ...versions } },
    );
    return finish(o, startedAt, image, record, [], overlaid, outcomes);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (session) await session.stop();
    const swept = await removeLabObjects('run').catch(() => ({ containers: 0, networks: 0 }));
    if (swept.containers || swept.networks) o.say(`lab: removed ${swept.containers} container(s) and ${swept.networks} network(s) of this run`);
  }
}

/** The one report (every format), the overlay and the probe results beside it, the terminal lines; the exit code is the report's. */
function finish(o: ConfigCheckOptions, startedAt: Date, image: string | null, record: ScenarioRecord, infra: readonly string[], overlaid: OverlaidConfig, outcomes: readonly ServiceOutcome[] = []): ExitCode {
  const report = buildReport({ runId: RUN_ID, startedAt, finishedAt: new Date(), postfixImage: image, node: process.version, scenarios: [record], infrastructureErrors: infra });
  const files = writeReport(o.outDir, report);
  const extras: Record<string, string> = {
    'overlay.json': `${JSON.stringify({ dir: overlaid.dir, overlay: overlaid.overlay, problems: overlaid.problems, certificates: overlaid.certificates, maps: overlaid.maps.map((m) => ({ name: m.name, postmap: m.postmap, empty: m.text === '' })) }, null, 2)}\n`,
    ...Object.fromEntries(outcomes.filter((x) => x.probe).map((x) => [`probe-${x.service.port}.json`, `${JSON.stringify(x.probe, null, 2)}\n`])),
  };
  for (const dir of [path.join(o.outDir, 'latest'), path.join(o.outDir, runDirName(report.run.id))]) for (const [f, text] of Object.entries(extras)) fs.writeFileSync(path.join(dir, f), text);
  o.out('');
  for (const s of outcomes) {
    const rules = s.checks.filter((c) => c.kind === 'enumeration');
    const own = s.checks.filter((c) => c.kind !== 'enumeration');
    o.out(`port ${s.service.port} (${s.service.service}, ${s.service.role}): ${own.filter((c) => c.status === 'pass').length}/${own.length} port checks, ${rules.filter((c) => c.status === 'pass').length}/${rules.length} ${o.profile.name} rules hold`);
    // A rule that did not hold: what it measured, the level found, the clause it comes from.
    for (const c of rules.filter((r) => r.status !== 'pass')) {
      const outcome = (c.tlsSurface?.outcome ?? null) as { measured: string; level: string } | null;
      o.out(`    ${c.status.toUpperCase()} ${forTerminal(c.id)}: ${outcome ? `${forTerminal(outcome.measured)}: ${forTerminal(outcome.level)}` : forTerminal(c.message, 200)}; clause: ${forTerminal(c.why)}`);
    }
  }
  for (const l of scenarioLines(record)) o.out(l);
  for (const l of summaryLines(report, [...Object.values(files), path.join(o.outDir, 'latest', 'overlay.json')])) o.out(l);
  return report.summary.exitCode;
}
