import type { TestCase, TestModule, TestSuite } from 'vitest/node';
import { errorResult } from '../lab/settle.js';
import type { CheckResult } from '../checks/result.js';
import type { ScenarioReport } from './types.js';
import '../lab/meta.js';

/**
 * Reads the lab's records out of vitest's task tree: a suite with `labScenario` meta is a
 * scenario, its test cases carry `labCheck`. A test that ended without a record (a crash
 * in the harness itself) becomes an error record, so nothing is silently lost.
 */
export function scenarioRecords(modules: readonly TestModule[]): Omit<ScenarioReport, 'status'>[] {
  const out: Omit<ScenarioReport, 'status'>[] = [];
  for (const mod of modules) {
    for (const suite of mod.children.allSuites()) {
      const meta = suite.meta().labScenario;
      if (!meta) continue;
      out.push({
        id: meta.id,
        title: meta.title,
        summary: meta.summary,
        seeds: meta.seeds,
        startupMs: meta.startupMs,
        error: meta.error,
        checks: checkRecords(suite),
        logEvents: meta.logEvents,
        mainCf: meta.mainCf,
        cleanupProblems: meta.cleanupProblems,
      });
    }
  }
  return out;
}

function checkRecords(suite: TestSuite): CheckResult[] {
  return [...suite.children.allTests()].map((t: TestCase) => {
    const rec = t.meta().labCheck;
    if (rec) return rec;
    const errors = t.result().errors ?? [];
    return errorResult({ id: t.name, title: t.name, why: '' }, new Error(errors.map((e) => e.message).join('; ') || `test ended as ${t.result().state} without a lab record`));
  });
}
