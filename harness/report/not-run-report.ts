import type { LabError } from '../core/errors.js';
import { errorResult, SCENARIO_FILE_CHECK } from '../lab/settle.js';
import type { CatalogueEntry } from '../scenario/load.js';
import { buildReport } from './build-report.js';
import type { Report, ScenarioReport } from './types.js';

/**
 * The report of a run whose lab never came up (no engine, the image build failed): every
 * scenario asked for is listed, each check an error carrying the lab's reason, so the report
 * says what was not tested and why instead of reading as an empty run.
 */
export function notRunReport(entries: readonly CatalogueEntry[], reason: LabError, startedAt: Date): Report {
  const why = `${reason.code}: ${reason.message}`;
  const scenarios: Omit<ScenarioReport, 'status'>[] = entries.map((e) => ({
    id: e.id,
    title: e.scenario?.title ?? e.id,
    summary: e.scenario?.summary ?? '',
    seeds: e.scenario?.seeds ?? [],
    startupMs: null,
    error: (e.error ?? reason).toRecord(),
    checks: (e.scenario?.checks ?? [SCENARIO_FILE_CHECK]).map((c) => errorResult(c, e.error ?? reason)),
    logEvents: [],
    mainCf: null,
    cleanupProblems: [],
  }));
  return buildReport({
    runId: process.env.SMTP_TLS_LAB_RUN_ID ?? 'unknown',
    startedAt,
    finishedAt: new Date(),
    postfixImage: null,
    scenarios,
    infrastructureErrors: [`${why}${reason.detail ? ` (${reason.detail})` : ''}`],
  });
}
