import path from 'node:path';
import { startVitest } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import { PROJECT_ROOT } from '../engine/paths.js';
import { removeLabObjects, removeRunObjectsSync } from '../engine/cleanup.js';
import LabReporter from '../report/lab-reporter.js';
import ProgressReporter from '../report/progress-reporter.js';
import type { Report } from '../report/types.js';

type AnyTask = { type: string; tasks?: AnyTask[]; result?: { state?: string } };
function allTests(t: AnyTask): AnyTask[] {
  return t.type === 'test' ? [t] : (t.tasks ?? []).flatMap(allTests);
}

const CONFIG = path.join(PROJECT_ROOT, 'harness/vitest/vitest.config.ts');
const CATALOGUE = 'harness/tests/lab/catalogue.test.ts';

export interface RunOptions {
  readonly mode: 'lab' | 'test';
  readonly scenarios?: readonly string[];
  readonly scenariosDir?: string;
  readonly reportDir?: string;
  readonly concurrency?: number;
  readonly filter?: string;
}

/**
 * Both README commands run through vitest: `lab` runs the catalogue with the lab reporters
 * and takes its exit code from the report; `test` runs every test with vitest's own reporter.
 * SIGINT/SIGTERM cancel the run, let vitest tear down, then sweep this run's containers.
 */
export async function runVitest(o: RunOptions): Promise<number> {
  if (o.scenarios?.length) process.env.SMTP_TLS_LAB_SCENARIOS = o.scenarios.join(',');
  if (o.scenariosDir) process.env.SMTP_TLS_LAB_SCENARIOS_DIR = o.scenariosDir;
  if (o.concurrency) process.env.SMTP_TLS_LAB_CONCURRENCY = String(o.concurrency);
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

  let report: Report | null = null;
  let reportFile: string | null = null;
  const lab = o.mode === 'lab' ? new LabReporter({ dir: o.reportDir!, onReport: (r, f) => ((report = r), (reportFile = f)) }) : null;
  const reporters = lab ? [new ProgressReporter(), lab] : ['default'];

  let interrupted: string | null = null;
  let vitest: Awaited<ReturnType<typeof startVitest>> | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    process.stderr.write(`\nlab: ${sig}: cancelling the run and removing its containers\n`);
    // vitest exits the process 1 ms after a signal (exit code 128 + signal), so the sweep that
    // must happen runs synchronously on exit; the cancel below is a courtesy to the workers.
    process.once('exit', () => {
      const r = removeRunObjectsSync();
      process.stderr.write(`lab: ${sig}: removed ${r.containers} container(s) and ${r.networks} network(s) of this run\n`);
    });
    void vitest?.cancelCurrentRun('keyboard-input');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    vitest = await startVitest('test', o.mode === 'lab' ? [CATALOGUE] : o.filter ? [o.filter] : [], {
      config: CONFIG,
      watch: false,
      reporters,
      ...(o.concurrency ? { maxConcurrency: o.concurrency } : {}),
    });
    await vitest?.close();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const swept = await removeLabObjects('run');
    if (swept.containers || swept.networks) process.stderr.write(`lab: removed ${swept.containers} container(s) and ${swept.networks} network(s) of this run\n`);
  }
  if (interrupted) return 2;
  if (o.mode === 'test') {
    // A plain closing line that any CI log reader understands, after vitest's own summary.
    const tests = vitest?.state.getFiles().flatMap((f) => allTests(f)) ?? [];
    const n = (s: string) => tests.filter((t) => t.result?.state === s).length;
    const failed = n('fail') + (vitest?.state.getFiles().filter((f) => f.result?.state === 'fail' && allTests(f).length === 0).length ?? 0);
    process.stdout.write(`${n('pass')} passed, ${failed} failed, ${tests.length - n('pass') - n('fail')} skipped\n`);
    if (tests.length === 0) return 2;
    return failed > 0 || (process.exitCode !== undefined && process.exitCode !== 0) ? 1 : 0;
  }
  const r = report as Report | null;
  if (!r) {
    process.stderr.write('lab: the run ended without a report (see the errors above)\n');
    return 2;
  }
  const c = r.summary.checks;
  process.stdout.write(
    `\n${r.scenarios.length} scenario(s), ${c.pass + c.fail + c.inconclusive + c.error} check(s): ${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error\n`,
  );
  for (const e of r.infrastructureErrors) process.stdout.write(`infrastructure: ${forTerminal(e)}\n`);
  process.stdout.write(`report: ${reportFile}\n`);
  return r.summary.exitCode;
}
