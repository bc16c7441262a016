import { deepFreeze } from '../core/freeze.js';
import type { CheckResult } from '../checks/result.js';
import { REPORT_SCHEMA, type Counts, type Report, type ScenarioReport, type ScenarioStatus } from './types.js';

export function scenarioStatus(checks: readonly CheckResult[], startError: boolean): ScenarioStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (startError || checks.some((c) => c.status === 'error')) return 'error';
  if (checks.length > 0 && checks.every((c) => c.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

function count<T extends { status: string }>(items: readonly T[]): Counts {
  const c = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  for (const i of items) if (i.status in c) c[i.status as keyof Counts]++;
  return c;
}

/**
 * Exit code of a run: 1 when any check failed (a verdict on the server), otherwise 2 when
 * the lab could not give every verdict (error, inconclusive, infrastructure), otherwise 0.
 */
export function exitCodeFor(checks: Counts, infrastructureErrors: number): 0 | 1 | 2 {
  if (checks.fail > 0) return 1;
  if (checks.error > 0 || checks.inconclusive > 0 || infrastructureErrors > 0) return 2;
  return 0;
}

export function buildReport(input: {
  runId: string;
  startedAt: Date;
  finishedAt: Date;
  postfixImage: string | null;
  scenarios: readonly Omit<ScenarioReport, 'status'>[];
  infrastructureErrors: readonly string[];
}): Report {
  const scenarios = input.scenarios.map((s) => ({ ...s, status: scenarioStatus(s.checks, s.error !== null) }));
  const checks = count(scenarios.flatMap((s) => s.checks));
  const infra = [...input.infrastructureErrors];
  if (scenarios.length === 0 && infra.length === 0) infra.push('no scenario ran');
  return deepFreeze({
    schema: REPORT_SCHEMA,
    run: {
      id: input.runId,
      startedAt: input.startedAt.toISOString(),
      finishedAt: input.finishedAt.toISOString(),
      durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
      postfixImage: input.postfixImage,
      node: process.version,
    },
    summary: { scenarios: count(scenarios), checks, exitCode: exitCodeFor(checks, infra.length) },
    scenarios,
    infrastructureErrors: infra,
  });
}
