import { LabError, asLabError } from '../core/errors.js';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { RUN_ID } from '../engine/labels.js';
import { loadCatalogue, type CatalogueEntry } from '../scenario/load.js';
import { buildReport } from '../report/build-report.js';
import { summaryLines } from '../report/render-terminal.js';
import type { ExitCode, ScenarioRecord } from '../report/types.js';
import { writeReport } from '../report/write-report.js';
import ProgressReporter from './progress-reporter.js';
import { notRunRecord, scenarioRecords } from './records.js';
import { RunRecorder } from './run-recorder.js';
import type { CatalogueSelection } from './selection.js';
import { runVitest } from './vitest-session.js';

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
  const startedAt = new Date();
  let image: string;
  try {
    // Engine and image first, here: when either fails, the report still lists every scenario, as not run and why.
    await ensureEngine(o.say);
    image = (await ensureImage('postfix', (l) => o.say(`lab: ${l}`))).tag;
  } catch (err) {
    const e = asLabError(err);
    o.sayError(e);
    const code = finish(o, startedAt, null, entries.map((entry) => notRunRecord(entry, e)), [`${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`]);
    o.out(`${entries.length} scenario(s) not run: the lab could not start (${e.code})`);
    return code;
  }

  const recorder = new RunRecorder();
  const { interrupted } = await runVitest({
    files: [CATALOGUE_TEST],
    reporters: [new ProgressReporter(o.out), recorder],
    provide: { labCatalogue: o.selection },
    ...(o.concurrency ? { maxConcurrency: o.concurrency } : {}),
  });
  // vitest exits the process itself after a signal; this is for a cancel it survived.
  if (interrupted) return 2;
  return finish(o, startedAt, image, withEveryScenario(entries, recorder), recorder.infrastructureErrors());
}

/** The vitest records, plus a not-run record for every selected scenario that left none (nothing is silently lost). */
function withEveryScenario(entries: readonly CatalogueEntry[], recorder: RunRecorder): ScenarioRecord[] {
  const records = scenarioRecords(recorder.modules ?? []);
  const reason = new LabError('EINTERNAL', recorder.modules ? 'the scenario left no record in the run (see the infrastructure errors)' : 'the test run ended without handing over its results');
  const seen = new Set(records.map((r) => r.id));
  return [...records, ...entries.filter((e) => !seen.has(e.id)).map((e) => notRunRecord(e, reason))];
}

/** Build the run's one report, write it once, print the summary; the exit code is the report's. */
function finish(o: LabRunOptions, startedAt: Date, postfixImage: string | null, scenarios: readonly ScenarioRecord[], infrastructureErrors: readonly string[]): ExitCode {
  const report = buildReport({ runId: RUN_ID, startedAt, finishedAt: new Date(), postfixImage, node: process.version, scenarios, infrastructureErrors });
  const files = writeReport(o.reportDir, report);
  for (const line of summaryLines(report, Object.values(files))) o.out(line);
  return report.summary.exitCode;
}
