import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROJECT_ROOT } from '../engine/paths.js';
import { countLabObjects } from '../engine/cleanup.js';
import { childRunEnv } from '../engine/labels.js';
import { forTerminal } from '../core/escape.js';
import { ResourceSampler } from './resource-sampler.js';
import type { Report } from '../report/types.js';

/**
 * `npm run soak -- --rounds N`: the whole catalogue N times, each round a separate `run`
 * (its own process and run id, as CI would run it). Prints, per check, how many rounds it
 * passed, and the flaky ones: checks that passed in some rounds and not in others. Also counts
 * lab objects left after each round (there should be none).
 */
export async function soak(opts: { rounds: number; scenarios: readonly string[]; out: (l: string) => void }): Promise<number> {
  const { out } = opts;
  const tally = new Map<string, Record<string, number>>();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-soak-'));
  let leftovers = 0;
  let peakContainers = 0;
  let peakHostMiB = 0;
  let peakContainerMiB = 0;
  const started = Date.now();
  // A signal to the soak alone (not its process group) still ends the round in progress
  // cleanly: the round's run gets SIGTERM, sweeps its containers, and the soak stops after it.
  let stopping: NodeJS.Signals | null = null;
  let current: ReturnType<typeof spawn> | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    stopping = sig;
    current?.kill('SIGTERM');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let roundsRun = 0;
  try {
    for (let round = 1; round <= opts.rounds && !stopping; round++) {
      const reportDir = path.join(dir, String(round));
      const t = Date.now();
      const runId = `soak-${process.pid}-${round}`;
      const env = childRunEnv({ SMTP_TLS_LAB_RUN_ID: runId });
      const args = [path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs'), 'run', '--report-dir', reportDir, ...(opts.scenarios.length ? ['--scenario', opts.scenarios.join(',')] : [])];
      const sampler = new ResourceSampler().start();
      const code = await new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'ignore'] });
        current = child;
        child.on('close', resolve);
      });
      const peaks = await sampler.stop();
      peakContainers = Math.max(peakContainers, peaks.peakContainers);
      peakHostMiB = Math.max(peakHostMiB, peaks.peakHostInUseAboveBaselineMiB);
      peakContainerMiB = Math.max(peakContainerMiB, peaks.peakContainerMemoryMiB ?? 0);
      current = null;
      if (stopping) {
        const left = await countLabObjects({ run: runId });
        leftovers += left.containers + left.networks;
        out(`round ${round}: stopped by ${stopping}; lab objects of the round left: ${left.containers + left.networks}`);
        break;
      }
      roundsRun = round;
      const file = path.join(reportDir, 'latest', 'report.json');
      if (!fs.existsSync(file)) {
        out(`round ${round}: no report (exit ${code})`);
        continue;
      }
      const report = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
      for (const s of report.scenarios) {
        for (const c of s.checks) {
          const key = `${s.id}/${c.id}`;
          const row = tally.get(key) ?? { pass: 0, fail: 0, inconclusive: 0, error: 0 };
          row[c.status] = (row[c.status] ?? 0) + 1;
          tally.set(key, row);
        }
      }
      const left = await countLabObjects({ run: runId });
      leftovers += left.containers + left.networks;
      const c = report.summary.checks;
      // A flake is only worth something with its message: say each one as it happens (the reports are removed at the end).
      const notPassed = report.scenarios.flatMap((sc) => sc.checks.filter((ch) => ch.status !== 'pass').map((ch) => `  ${ch.status.toUpperCase()} ${sc.id}/${ch.id}: ${forTerminal(ch.message, 600)}`));
      out(`round ${round}/${opts.rounds}: exit ${code}, ${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error, ${((Date.now() - t) / 1000).toFixed(0)} s, lab objects left: ${left.containers + left.networks}, peak containers ${peaks.peakContainers}, peak memory above baseline ${peaks.peakHostInUseAboveBaselineMiB} MiB`);
      for (const line of notPassed) out(line);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const rounds = roundsRun;
  const flaky = [...tally].filter(([, r]) => (r.pass ?? 0) > 0 && (r.pass ?? 0) < rounds);
  const neverPassed = [...tally].filter(([, r]) => (r.pass ?? 0) === 0);
  out('');
  out(`check${' '.repeat(60)}passed/rounds`);
  for (const [key, r] of [...tally].sort()) out(`  ${forTerminal(key).padEnd(64)} ${r.pass ?? 0}/${rounds}${r.pass !== rounds ? `  (${Object.entries(r).filter(([k, v]) => k !== 'pass' && v).map(([k, v]) => `${v} ${k}`).join(', ')})` : ''}`);
  out('');
  out(`soak: ${rounds} rounds${stopping ? ` (stopped by ${stopping} after ${rounds} of ${opts.rounds})` : ''}, ${tally.size} checks, ${flaky.length} flaky, ${neverPassed.length} never passed, lab objects left after rounds: ${leftovers}, peak ${peakContainers} lab containers alive, peak container memory ${peakContainerMiB} MiB, peak host memory above baseline ${peakHostMiB} MiB, ${((Date.now() - started) / 60000).toFixed(1)} min`);
  if (stopping) return stopping === 'SIGINT' ? 130 : 143;
  return flaky.length || neverPassed.length || leftovers ? 1 : 0;
}
