import { LabError, asLabError } from '../core/errors.js';
import { ensureEngine } from '../engine/engine.js';
import { RUN_ID } from '../engine/labels.js';
import { loadCatalogue } from '../scenario/load.js';
import { buildReport } from '../report/build-report.js';
import { summaryLines } from '../report/render-terminal.js';
import type { ExitCode, ScenarioRecord } from '../report/types.js';
import { writeReport } from '../report/write-report.js';
import { notRunRecord, scenarioRecords } from './records.js';
import { RunRecorder } from './run-recorder.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { catalogueRuns, clientStacks, runStacks, type CatalogueRun, type CatalogueSelection, type StackImage } from './selection.js';
import StackProgressReporter from './stack-progress-reporter.js';
import { runVitest } from './vitest-session.js';
import { stackImages, stackSayPrefix } from './stack-images.js';

export const CATALOGUE_TEST = 'harness/tests/lab/catalogue.test.ts';

export interface LabRunOptions {
  readonly selection: CatalogueSelection;
  readonly reportDir: string;
  readonly concurrency?: number;
  /** Progress and summary lines (stdout). */
  readonly out: (line: string) => void;
  /** Lab messages and errors (stderr). */
  readonly say: (line: string) => void;
  /** Prints a lab error (code, message, detail), escaped. */
  readonly sayError: (e: LabError) => void;
}

/**
 * `smtp-tls-lab run`: the catalogue's scenarios against real Postfix, with vitest as the
 * engine. The selection reaches the catalogue through vitest's `provide`. The run's records
 * become one report, written once, and its exit code is the report's: 0 every check passed,
 * 1 a check failed, 2 the lab could not give every verdict.
 */
export async function runLab(o: LabRunOptions): Promise<number> {
  // Unknown scenario names are a usage error before anything starts.
  const entries = loadCatalogue(o.selection.scenariosDir, o.selection.scenarios);
  const runs = catalogueRuns(entries, o.selection.stacks);
  const stacks = runStacks(runs);
  const startedAt = new Date();
  try {
    // The engine first, here: when it fails, the report still lists every scenario, as not run and why.
    await ensureEngine(o.say);
  } catch (err) {
    const e = asLabError(err);
    o.sayError(e);
    const code = finish(o, startedAt, null, runs.map((r) => notRunRecord(r.entry, e, r.stack)), [`${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`]);
    o.out(`${runs.length} scenario(s) not run: the lab could not start (${e.code})`);
    return code;
  }
  const images = await stackImages(
    stacks,
    (stack, l) => o.say(`${stackSayPrefix(stack, stacks)}${l}`),
    (stack, e) => o.sayError(new LabError(e.code, `stack ${stack}: ${e.message}`, { stage: e.stage, ...(e.detail !== undefined ? { detail: e.detail } : {}) })),
  );
  // The stacks only a check's clientStack names: built too; one that fails leaves those checks to say so.
  await stackImages(clientStacks(runs), (stack, l) => o.say(`${stackSayPrefix(stack, [...stacks, stack])}${l}`));
  const failed = stacks.filter((s) => images[s]?.error);
  if (failed.length === stacks.length) {
    // No image at all: nothing to hand to vitest.
    const e = imageError(images[failed[0]!]!);
    const code = finish(o, startedAt, null, runs.map((r) => notRunRecord(r.entry, imageError(images[r.stack]!), r.stack)), failed.map((s) => stackErrorLine(s, stacks, imageError(images[s]!))));
    o.out(`${runs.length} scenario(s) not run: the lab could not start (${e.code})`);
    return code;
  }

  const recorder = new RunRecorder();
  const { interrupted } = await runVitest({
    files: [CATALOGUE_TEST],
    reporters: [new StackProgressReporter(o.out, stacks.length > 1), recorder],
    provide: { labCatalogue: { ...o.selection, images } },
    ...(o.concurrency ? { maxConcurrency: o.concurrency } : {}),
  });
  // vitest exits the process itself after a signal; this is for a cancel it survived.
  if (interrupted) return 2;
  // A stack whose image failed is an error of the run too (its scenarios say so one by one).
  const stackErrors = failed.map((s) => stackErrorLine(s, stacks, imageError(images[s]!)));
  return finish(o, startedAt, imageLine(stacks, images), withEveryScenario(runs, recorder), [...stackErrors, ...recorder.infrastructureErrors()]);
}

/** An image failure as the report's infrastructure errors say it: code, message and remedy; the stack named when the run has more than the default one. */
function stackErrorLine(stack: StackName, stacks: readonly StackName[], e: LabError): string {
  const prefix = stacks.length === 1 && stack === DEFAULT_STACK ? '' : `stack ${stack}: image not built: `;
  return `${prefix}${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`;
}

function imageError(i: StackImage): LabError {
  const r = i.error!;
  return new LabError(r.code, r.message, { stage: r.stage, ...(r.detail !== undefined ? { detail: r.detail } : {}) });
}

/** report.run.postfixImage: the one image, or with several stacks each stack's (stack=tag, in run order). */
function imageLine(stacks: readonly StackName[], images: Partial<Record<StackName, StackImage>>): string | null {
  if (stacks.length === 1) return images[stacks[0]!]?.tag ?? null;
  return stacks.map((s) => `${s}=${images[s]?.tag ?? 'none'}`).join(', ');
}

/** The vitest records, plus a not-run record for every selected (scenario, stack) that left none (nothing is silently lost). */
function withEveryScenario(runs: readonly CatalogueRun[], recorder: RunRecorder): ScenarioRecord[] {
  const records = scenarioRecords(recorder.modules ?? []);
  const reason = new LabError('EINTERNAL', recorder.modules ? 'the scenario left no record in the run (see the infrastructure errors)' : 'the test run ended without handing over its results');
  const key = (id: string, stack: string | undefined) => `${id}\0${stack ?? DEFAULT_STACK}`;
  const seen = new Set(records.map((r) => key(r.id, r.stack?.name)));
  return [...records, ...runs.filter((r) => !seen.has(key(r.entry.id, r.stack))).map((r) => notRunRecord(r.entry, reason, r.stack))];
}

/** Build the run's one report, write it once, print the summary; the exit code is the report's. */
function finish(o: LabRunOptions, startedAt: Date, postfixImage: string | null, scenarios: readonly ScenarioRecord[], infrastructureErrors: readonly string[]): ExitCode {
  const report = buildReport({ runId: RUN_ID, startedAt, finishedAt: new Date(), postfixImage, node: process.version, scenarios, infrastructureErrors });
  const files = writeReport(o.reportDir, report);
  for (const line of summaryLines(report, Object.values(files))) o.out(line);
  return report.summary.exitCode;
}
