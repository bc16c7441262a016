import { formatCpu, formatPeaks, ResourceSampler } from './resource-sampler.js';
import { debootstrapBase, ensureImage, imageTags, loadRecipe, recipeForStack, recipeNames, recipeStacks } from '../engine/images.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { docker } from '../engine/docker-cli.js';
import { loadCatalogue, loadScenario } from '../scenario/load.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../engine/paths.js';
import { childRunEnv } from '../engine/labels.js';
import path from 'node:path';
import { ScenarioSession } from '../lab/scenario-session.js';
import { runCheck } from '../checks/run-check.js';
import { runRawClient } from '../smtp/raw-client.js';
import { LabError } from '../core/errors.js';
import { formatMs, median, timed } from './stats.js';
import { printCliStartFigures } from './process-timing.js';

/**
 * `npm run bench`: the lab's speed figures, printed, never asserted. Each figure is the
 * median of --rounds runs (the cold base build runs once: it takes a minute).
 */
export async function bench(opts: { rounds: number; cold: boolean; coldStacks?: boolean; out: (l: string) => void }): Promise<void> {
  const { rounds, out } = opts;
  const rows: [string, number[], string][] = [];
  const row = (name: string, xs: number[], note = '', goalMs?: number) => {
    rows.push([name, xs, note]);
    const goal = goalMs === undefined ? '' : `  goal <= ${formatMs(goalMs)}: ${median(xs) <= goalMs ? 'met' : 'NOT met'}`;
    out(`  ${name.padEnd(44)} median ${formatMs(median(xs)).padStart(9)}  (n=${xs.length}${note ? `, ${note}` : ''})${goal}`);
  };
  out(`smtp-tls-lab bench: ${rounds} round(s)`);
  // Whole processes, as a user starts them; cheap, so at least 10 rounds.
  await printCliStartFigures(Math.max(rounds, 10), out);
  const image = await ensureImage('postfix', (l) => out(`  ${l}`));

  // A cold base build is the builder's own (debootstrap, the apt step, import) under a throwaway
  // tag, without the package cache, exactly as a fresh machine does it; then the tag is dropped.
  const coldBuild = async (name: string, stack: StackName, label: string) => {
    const r = recipeForStack(loadRecipe(name), stack);
    const tmpTag = `${imageTags(name, r).baseTag}-bench`;
    const [ms] = await timed(() => debootstrapBase(r, tmpTag, () => {}, stack, { cold: true }));
    await docker(['rmi', '-f', tmpTag]);
    row(label, [ms], 'one run');
  };
  if (opts.cold) await coldBuild('postfix', DEFAULT_STACK, 'cold base-image build (debootstrap + import)');
  if (opts.coldStacks) {
    // Every other recipe and stack, cold, one after another (each is what a fresh machine builds for it).
    for (const name of recipeNames()) {
      for (const stack of recipeStacks(loadRecipe(name)).filter((s) => name !== 'postfix' || s !== DEFAULT_STACK)) await coldBuild(name, stack, `cold base-image build, ${name} ${stack}`);
    }
  }

  const cached: number[] = [];
  for (let i = 0; i < Math.max(rounds, 5); i++) cached.push((await timed(() => ensureImage('postfix')))[0]);
  row('cached image check', cached);
  // Every other image a run may need (other stacks, the interop MTAs): as a run finds it (built now if it was missing: then the figure says so).
  for (const name of recipeNames()) {
    for (const stack of recipeStacks(loadRecipe(name)).filter((s) => name !== 'postfix' || s !== DEFAULT_STACK)) {
      const first = await ensureImage(name, (l) => out(`  ${l}`), stack);
      const label = name === 'postfix' ? stack : `${name} ${stack}`;
      if (first.how !== 'cached') row(`image build, ${label} (${first.how})`, [first.ms], 'one run');
      const xs: number[] = [];
      for (let i = 0; i < Math.max(rounds, 5); i++) xs.push((await timed(() => ensureImage(name, () => {}, stack)))[0]);
      row(`cached image check, ${label}`, xs);
    }
  }

  const scenario = loadScenario(path.join(SCENARIOS_DIR, 'opportunistic-25'));
  const starts: number[] = [];
  const handshakes: number[] = [];
  const whole: number[] = [];
  const startSessions: ScenarioSession[] = [];
  let insidePostfix: readonly InsideStep[] = [];
  for (let i = 0; i < rounds; i++) {
    const [ms, session] = await timed(() => ScenarioSession.start(scenario, image.tag));
    starts.push(session.startupMs);
    startSessions.push(session);
    void ms;
    try {
      if (i === 0) insidePostfix = await postfixStartInside(session);
      const ep = session.postfix.endpoint('smtp');
      for (let j = 0; j < 10; j++) {
        const [hs, r] = await timed(() => runRawClient({ host: ep.host, port: ep.port, mode: 'starttls', stopAfter: 'handshake' }));
        if (r.observation.error) throw new LabError('EINTERNAL', `bench handshake failed: ${r.observation.error.message}`);
        handshakes.push(hs);
      }
    } finally {
      await session.stop();
    }
  }
  row('container start to ready (opportunistic-25)', starts, 'certs + network + Postfix', START_TO_READY_GOAL_MS);
  await printStartupBreakdown(startSessions, insidePostfix, image.tag, rounds, out);
  row('one STARTTLS handshake (banner..TLS 1.3)', handshakes);

  for (let i = 0; i < rounds; i++) {
    const [ms] = await timed(async () => {
      const s = await ScenarioSession.start(scenario, image.tag);
      try {
        for (const c of scenario.checks) {
          const r = await runCheck(s, c);
          if (r.status !== 'pass') throw new LabError('EINTERNAL', `bench: check ${c.id} did not pass: ${r.message}`);
        }
      } finally {
        await s.stop();
      }
    });
    whole.push(ms);
  }
  row('whole opportunistic-25 scenario (start..stop)', whole, `${scenario.checks.length} checks`);
  // The whole catalogue, as `npm run lab` runs it (a child process, its own run id), and the
  // inbound catalogue alone (the scenarios whose only nodes are the Postfix under test and
  // clients, on the default stack: the catalogue the speed goal was set on, before the
  // outbound and DANE labs).
  const inbound = loadCatalogue(SCENARIOS_DIR)
    // The interop family (gnutls-cli against seed 000 and the like) came later with the stack matrix: not in the goal's 22.
    .filter((e) => e.scenario && !e.scenario.stacks?.length && !e.id.startsWith('interop-') && e.scenario.nodes.every((n) => n.kind === 'client' || (n.kind === 'postfix' && !n.postfix)))
    .map((e) => e.id);
  await timeCatalogue('one scenario on every stack (run --scenario opportunistic-25 --stack all)', ['opportunistic-25'], row, out, ['--stack', 'all']);
  // The interop family: Exim sending to Postfix (an Exim and a Postfix per stack).
  await timeCatalogue('one interop scenario on every stack (run --scenario interop-exim-to-postfix-auth-only --stack all)', ['interop-exim-to-postfix-auth-only'], row, out, ['--stack', 'all']);
  await timeCatalogue('whole catalogue (npm run lab)', [], row, out);
  await timeCatalogue('inbound catalogue (run --scenario <inbound>)', inbound, row, out, [], INBOUND_CATALOGUE_GOAL_MS);
  await printOutboundFigures(row, out);
  await printDaneFigures(row, out, image.tag, rounds);
  const mem = process.memoryUsage();
  out(`  peak RSS of the bench process: ${(mem.rss / 1024 / 1024).toFixed(0)} MiB`);
}

/** The goals of the speed issue: figures are printed beside them, never asserted. */
const START_TO_READY_GOAL_MS = 1_000;
/** The speed goal of the 22 inbound scenarios (issue #14); no other catalogue figure has one. */
const INBOUND_CATALOGUE_GOAL_MS = 20_000;

/**
 * One `smtp-tls-lab run` process (all scenarios, or `ids`), its wall time from outside, with
 * the resources and the machine's CPU while it ran (is it CPU-bound, and where does it go).
 */
async function timeCatalogue(
  label: string,
  ids: readonly string[],
  row: (name: string, xs: number[], note?: string, goalMs?: number) => void,
  out: (l: string) => void,
  extraArgs: readonly string[] = [],
  goalMs: number | null = null,
): Promise<void> {
  const { spawn } = await import('node:child_process');
  const os = await import('node:os');
  const fs = await import('node:fs');
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-bench-'));
  try {
    const sampler = new ResourceSampler().start();
    const args = ['run', ...(ids.length ? ['--scenario', ids.join(',')] : []), ...extraArgs, '--report-dir', reportDir];
    const [ms, status] = await timed(
      () =>
        new Promise<number | null>((resolve) => {
          spawn(process.execPath, [path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs'), ...args], { env: childRunEnv(), stdio: 'ignore' }).on('close', resolve);
        }),
    );
    const peaks = await sampler.stop();
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as { scenarios: unknown[]; summary: { checks: Record<string, number> } };
    row(label, [ms], `whole process; ${report.scenarios.length} scenarios, ${Object.values(report.summary.checks).reduce((a, b) => a + b, 0)} checks, exit ${status}`, goalMs ?? undefined);
    out(`    during it: ${formatPeaks(peaks)}`);
    out(`    ${formatCpu(peaks.cpu)}`);
  } catch (err) {
    out(`  ${label}: not measured (${(err as Error).message})`);
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

/**
 * The outbound catalogue (every scenario with a capturing peer) as a user runs it: one
 * `smtp-tls-lab run --scenario …` process, its wall time. Then, from its report, each
 * delivery's first outcome: Postfix's own delay= (arrival to status line, as Postfix measures
 * it) beside the lab's end-to-end time (injection to the outcome seen in the log, in-process).
 */
async function printOutboundFigures(row: (name: string, xs: number[], note?: string) => void, out: (l: string) => void): Promise<void> {
  const { spawn } = await import('node:child_process');
  const os = await import('node:os');
  const fs = await import('node:fs');
  const ids = loadCatalogue(SCENARIOS_DIR)
    .filter((e) => e.scenario?.nodes.some((n) => n.kind === 'smtp-peer'))
    .map((e) => e.id);
  if (ids.length === 0) return;
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-bench-out-'));
  try {
    const [ms, status] = await timed(
      () =>
        new Promise<number | null>((resolve) => {
          spawn(process.execPath, [path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs'), 'run', '--scenario', ids.join(','), '--report-dir', reportDir], { env: childRunEnv(), stdio: 'ignore' }).on('close', resolve);
        }),
    );
    type Delivery = { deliveries: { delay: number | null }[]; endToEndMs: number | null };
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as { scenarios: { checks: { kind: string; tlsSurface?: { delivery?: Delivery } }[] }[] };
    const deliveries = report.scenarios.flatMap((sc) => sc.checks.filter((c) => c.kind === 'delivery' && c.tlsSurface?.delivery).map((c) => c.tlsSurface!.delivery!));
    row('outbound catalogue (run --scenario <outbound>)', [ms], `whole process; ${ids.length} scenarios, ${deliveries.length} delivery checks, exit ${status}`);
    const postfixDelay = deliveries.flatMap((d) => d.deliveries.map((x) => x.delay).filter((x): x is number => x !== null).map((x) => x * 1000));
    const labEndToEnd = deliveries.map((d) => d.endToEndMs).filter((x): x is number => x !== null);
    if (postfixDelay.length) row("inject to outcome: Postfix's delay=", postfixDelay, 'as Postfix logs it (arrival to status line)');
    if (labEndToEnd.length) row('inject to outcome: lab end-to-end', labEndToEnd, 'in-process: sendmail exec to the status line seen');
  } catch (err) {
    out(`  outbound figures: not measured (${(err as Error).message})`);
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
}

/** One step of Postfix's own start, run again by hand inside a started lab Postfix. */
interface InsideStep {
  readonly step: string;
  readonly ms: number;
}

/**
 * The entrypoint's steps (containers/postfix/lab-entrypoint.sh) timed one by one inside a
 * started lab Postfix, each run the way the entrypoint runs it: what Postfix's own start is
 * made of. (`postfix start-fg` itself cannot be rerun while master runs.)
 */
async function postfixStartInside(session: ScenarioSession): Promise<readonly InsideStep[]> {
  const steps: [string, string][] = [
    ['postconf -n', 'postconf -n'],
    ['postconf -M', 'postconf -M'],
    ['postconf -P', 'postconf -P'],
    // No longer run at start (since 2026-12-03): timed so that the figure shows what that saves.
    ['postfix check (not run at start)', 'postfix check'],
    ['postmap hash:', 'postmap hash:/tmp/bench-map'],
    // What the harness avoids by copying the config in with an old mtime: Postfix's tools
    // pause before reading a main.cf modified within the last second.
    ['postconf -n, main.cf just written', 'postconf -c /tmp/bench-fresh -n'],
  ];
  const script = [
    'echo "a b" > /tmp/bench-map',
    ...steps.map(([label, cmd]) => `${cmd.includes('bench-fresh') ? 'mkdir -p /tmp/bench-fresh && cp /etc/postfix/main.cf /etc/postfix/master.cf /tmp/bench-fresh/; ' : ''}t0=$(date +%s%N); ${cmd} >/dev/null 2>&1; t1=$(date +%s%N); echo "${label}=$(( (t1 - t0) / 1000000 ))"`),
  ].join('\n');
  const r = await session.postfix.exec(['sh', '-c', script]);
  if (r.exitCode !== 0) throw new LabError('EINTERNAL', `bench: timing the entrypoint's steps failed: ${r.output}`);
  return r.output
    .split('\n')
    .map((l) => /^(.+)=(\d+)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: m[1]!, ms: Number(m[2]) }));
}

/**
 * Where start-to-ready goes (medians over the rounds): certificates, network, then the Postfix
 * node's own steps (each the median time after that node's start began), the warm-up after
 * ready (not part of start-to-ready), the entrypoint's steps timed inside, and the floor:
 * `docker run --rm IMAGE true` (the image's entrypoint replaced by `true`: lab-isolate needs
 * NET_ADMIN and a network to cut off).
 */
async function printStartupBreakdown(sessions: readonly ScenarioSession[], inside: readonly InsideStep[], imageTag: string, rounds: number, out: (l: string) => void): Promise<void> {
  // On Docker's default bridge (as the issue's floor), and with no network at all: attaching a
  // container to a bridge (veth pair, addresses) is part of every lab start.
  const floors: { readonly label: string; readonly args: readonly string[]; readonly ms: number[] }[] = [
    { label: 'floor: docker run --rm IMAGE true', args: [], ms: [] },
    { label: 'floor: the same with --network none', args: ['--network', 'none'], ms: [] },
  ];
  for (let i = 0; i < Math.max(rounds, 3); i++) {
    for (const f of floors) {
      const [ms, r] = await timed(() => docker(['run', '--rm', ...f.args, '--entrypoint', 'true', imageTag], { timeoutMs: 60_000 }));
      if (r.code !== 0) throw new LabError('EINTERNAL', `bench: docker run true failed: ${r.stderr}`);
      f.ms.push(ms);
    }
  }
  const line = (name: string, ms: number, note = '') => out(`    ${name.padEnd(50)} ${formatMs(ms).padStart(9)}${note ? `  ${note}` : ''}`);
  out('  start to ready, where it goes (median of each step):');
  line('certificates (keys + certs + files)', median(sessions.map((s) => s.startupBreakdown.certsMs)));
  line('network create (lab-chosen /24)', median(sessions.map((s) => s.startupBreakdown.networkMs)));
  line('eager nodes, network up to all ready', median(sessions.map((s) => s.startupBreakdown.nodesMs)));
  const names = [...new Set(sessions.flatMap((s) => Object.keys(s.startupBreakdown.nodes)))];
  for (const name of names) {
    const stepNames = [...new Set(sessions.flatMap((s) => (s.startupBreakdown.nodes[name] ?? []).map((st) => st.step)))];
    for (const step of stepNames) {
      const ats = sessions.flatMap((s) => (s.startupBreakdown.nodes[name] ?? []).filter((st) => st.step === step).map((st) => st.atMs));
      line(`  node ${name}: ${step}`, median(ats), 'after its start began');
    }
  }
  line('warm-up after ready (not in start to ready)', median(sessions.map((s) => s.warmUp.ms)));
  for (const st of inside) line(`  inside Postfix: ${st.step}`, st.ms, 'run alone, once');
  for (const f of floors) line(f.label, median(f.ms), `n=${f.ms.length}`);
}

/**
 * The DANE lab: the DANE catalogue (every scenario with a dns node) as one whole `run`
 * process, and, in-process, from the start of dane-valid (keys made, zones signed, nsd and
 * unbound up, every zone validated, sender ready) to its first Verified delivery.
 */
async function printDaneFigures(row: (name: string, xs: number[], note?: string) => void, out: (l: string) => void, imageTag: string, rounds: number): Promise<void> {
  const { spawn } = await import('node:child_process');
  const ids = loadCatalogue(SCENARIOS_DIR)
    .filter((e) => e.scenario?.nodes.some((n) => n.kind === 'dns'))
    .map((e) => e.id);
  if (ids.length === 0) return;
  try {
    const os = await import('node:os');
    const fs = await import('node:fs');
    const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-bench-dane-'));
    const [ms, status] = await timed(
      () =>
        new Promise<number | null>((resolve) => {
          spawn(process.execPath, [path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs'), 'run', '--scenario', ids.join(','), '--report-dir', reportDir], { env: childRunEnv(), stdio: 'ignore' }).on('close', resolve);
        }),
    );
    fs.rmSync(reportDir, { recursive: true, force: true });
    row('DANE catalogue (run --scenario <dane>)', [ms], `whole process; ${ids.length} scenarios, exit ${status}`);
    const scenario = loadScenario(path.join(SCENARIOS_DIR, 'dane-valid'));
    const first = scenario.checks.find((c) => c.id === 'dane-ee-spki-is-verified') ?? scenario.checks[0]!;
    const toVerified: number[] = [];
    for (let i = 0; i < Math.max(1, Math.min(rounds, 3)); i++) {
      const started = Date.now();
      const s = await ScenarioSession.start(scenario, imageTag);
      try {
        const r = await runCheck(s, first);
        if (r.status !== 'pass') throw new LabError('EINTERNAL', `bench: ${first.id} did not pass: ${r.message}`);
        toVerified.push(Date.now() - started);
      } finally {
        await s.stop();
      }
    }
    row('signing the zones to the first Verified delivery', toVerified, 'in-process: dane-valid start (keys, signing, nsd, unbound, Postfix) + its first check');
  } catch (err) {
    out(`  DANE figures: not measured (${(err as Error).message})`);
  }
}
