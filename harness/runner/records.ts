import type { TestCase, TestModule, TestSuite } from 'vitest/node';
import type { LabError } from '../core/errors.js';
import { errorResult } from '../checks/error-result.js';
import type { CheckResult } from '../checks/result.js';
import type { CatalogueEntry } from '../scenario/load.js';
import type { ScenarioRecord } from '../report/types.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import './task-meta.js';

/** The one check a scenario whose file did not load is reported with. */
export const SCENARIO_FILE_CHECK = { kind: 'scenario-file', id: 'scenario-file', title: 'The scenario file loads', why: '' } as const;

/**
 * A scenario's record out of vitest's task tree: the suite's `labScenario` meta and its tests'
 * `labCheck`. A test that ended without a record (a crash in the harness itself) becomes an
 * error record, so nothing is silently lost. Null for a suite that is not a scenario.
 */
export function scenarioRecord(suite: TestSuite): ScenarioRecord | null {
  const meta = suite.meta().labScenario;
  if (!meta) return null;
  return {
    id: meta.id,
    title: meta.title,
    summary: meta.summary,
    stack: meta.stack,
    seeds: meta.seeds,
    startupMs: meta.startupMs,
    error: meta.error,
    findings: meta.findings,
    checks: [...suite.children.allTests()].map(checkRecord),
    logEvents: meta.logEvents,
    mainCf: meta.mainCf,
    cleanupProblems: meta.cleanupProblems,
  };
}

export function scenarioRecords(modules: readonly TestModule[]): ScenarioRecord[] {
  return modules.flatMap((m) => [...m.children.allSuites()].map(scenarioRecord).filter((r) => r !== null));
}

function checkRecord(t: TestCase): CheckResult {
  const rec = t.meta().labCheck;
  if (rec) return rec;
  const result = t.result();
  const errors = result.state === 'failed' ? result.errors : [];
  return errorResult({ kind: 'unknown', id: t.name, title: t.name, why: '' }, new Error(errors.map((e) => e.message).join('; ') || `test ended as ${result.state} without a lab record`));
}

/**
 * The record of a scenario that did not run because of `reason` (no engine, the image build
 * failed, the run ended before it): every check it has, as an error carrying the reason, so
 * the report says what was not tested and why instead of reading as a shorter run.
 */
export function notRunRecord(entry: CatalogueEntry, reason: LabError, stack: StackName = DEFAULT_STACK): ScenarioRecord {
  const why = entry.error ?? reason;
  return {
    id: entry.id,
    stack: { name: stack, postfix: null, openssl: null },
    title: entry.scenario?.title ?? entry.id,
    summary: entry.scenario?.summary ?? '',
    seeds: entry.scenario?.seeds ?? [],
    startupMs: null,
    error: why.toRecord(),
    findings: [],
    checks: (entry.scenario?.checks ?? [SCENARIO_FILE_CHECK]).map((c) => errorResult(c, why)),
    logEvents: [],
    mainCf: null,
    cleanupProblems: [],
  };
}
