import { formatPeaks, ResourceSampler } from './resource-sampler.js';
import { ensureImage, imageTags, loadRecipe } from '../engine/images.js';
import { docker } from '../engine/docker-cli.js';
import { loadScenario } from '../scenario/load.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../engine/paths.js';
import { childRunEnv } from '../engine/labels.js';
import path from 'node:path';
import { ScenarioSession } from '../lab/scenario-session.js';
import { runCheck } from '../checks/run-check.js';
import { runRawClient } from '../smtp/raw-client.js';
import { LabError } from '../core/errors.js';
import { formatMs, median, timed } from './stats.js';

/**
 * `npm run bench`: the lab's speed figures, printed, never asserted. Each figure is the
 * median of --rounds runs (the cold base build runs once: it takes a minute).
 */
export async function bench(opts: { rounds: number; cold: boolean; out: (l: string) => void }): Promise<void> {
  const { rounds, out } = opts;
  const rows: [string, number[], string][] = [];
  const row = (name: string, xs: number[], note = '') => {
    rows.push([name, xs, note]);
    out(`  ${name.padEnd(44)} median ${formatMs(median(xs)).padStart(9)}  (n=${xs.length}${note ? `, ${note}` : ''})`);
  };
  out(`smtp-tls-lab bench: ${rounds} round(s)`);
  const image = await ensureImage('postfix', (l) => out(`  ${l}`));

  if (opts.cold) {
    // Build the base again under a throwaway tag, exactly as a fresh machine does, then drop it.
    const recipe = loadRecipe('postfix');
    const { baseTag } = imageTags('postfix', recipe);
    const tmpTag = `${baseTag}-bench`;
    const { debootstrapBaseForBench } = await import('./cold-build.js');
    const [ms] = await timed(() => debootstrapBaseForBench(recipe, tmpTag));
    await docker(['rmi', '-f', tmpTag]);
    row('cold base-image build (debootstrap + import)', [ms], 'one run');
  }

  const cached: number[] = [];
  for (let i = 0; i < Math.max(rounds, 5); i++) cached.push((await timed(() => ensureImage('postfix')))[0]);
  row('cached image check', cached);

  const scenario = loadScenario(path.join(SCENARIOS_DIR, 'opportunistic-25'));
  const starts: number[] = [];
  const handshakes: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [ms, session] = await timed(() => ScenarioSession.start(scenario, image.tag));
    starts.push(session.startupMs);
    void ms;
    try {
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
  row('container start to ready (opportunistic-25)', starts, 'certs + network + Postfix');
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
  // The whole catalogue, as `npm run lab` runs it (a child process, its own run id).
  // Asynchronous, so that the resource sampler keeps sampling while the catalogue runs.
  const { spawn } = await import('node:child_process');
  const os = await import('node:os');
  const fs = await import('node:fs');
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-bench-'));
  try {
    const sampler = new ResourceSampler().start();
    const [ms, status] = await timed(
      () =>
        new Promise<number | null>((resolve) => {
          spawn(process.execPath, [path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs'), 'run', '--report-dir', reportDir], { env: childRunEnv(), stdio: 'ignore' }).on('close', resolve);
        }),
    );
    const peaks = await sampler.stop();
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as { scenarios: unknown[]; summary: { checks: Record<string, number> } };
    row('whole catalogue (npm run lab)', [ms], `${report.scenarios.length} scenarios, ${Object.values(report.summary.checks).reduce((a, b) => a + b, 0)} checks, exit ${status}`);
    out(`  during the catalogue: ${formatPeaks(peaks)}`);
  } finally {
    fs.rmSync(reportDir, { recursive: true, force: true });
  }
  const mem = process.memoryUsage();
  out(`  peak RSS of the bench process: ${(mem.rss / 1024 / 1024).toFixed(0)} MiB`);
}
