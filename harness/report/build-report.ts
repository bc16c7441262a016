import { deepFreeze } from '../core/freeze.js';
import { REPORT_SCHEMA, REPORT_SCHEMA_VERSION, type CheckResult, type Counts, type ExitCode, type Report, type ScenarioRecord, type ScenarioStatus } from './types.js';

export function scenarioStatus(checks: readonly CheckResult[], startError: boolean): ScenarioStatus {
  if (checks.some((c) => c.status === 'fail')) return 'fail';
  if (startError || checks.some((c) => c.status === 'error')) return 'error';
  if (checks.length > 0 && checks.every((c) => c.status === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

export function countStatuses(items: readonly { readonly status: string }[]): Counts {
  const c = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  for (const i of items) if (i.status in c) c[i.status as keyof Counts]++;
  return c;
}

/**
 * Exit code of a run: 2 when the lab could not give every verdict (a check in error or
 * inconclusive, an infrastructure error), even when another check failed, because a run with
 * holes in it must not read as a finished verdict; otherwise 1 when any check failed (a
 * verdict on the server); otherwise 0.
 */
export function exitCodeFor(checks: Counts, infrastructureErrors: number): ExitCode {
  if (checks.error > 0 || checks.inconclusive > 0 || infrastructureErrors > 0) return 2;
  if (checks.fail > 0) return 1;
  return 0;
}

export interface ReportInput {
  readonly runId: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly postfixImage: string | null;
  readonly node: string;
  readonly scenarios: readonly ScenarioRecord[];
  readonly infrastructureErrors: readonly string[];
}

/** The run's one report, from its records: statuses, counts and exit code are derived here only. */
export function buildReport(input: ReportInput): Report {
  const scenarios = input.scenarios.map((s) => ({ ...s, status: scenarioStatus(s.checks, s.error !== null) }));
  const checks = countStatuses(scenarios.flatMap((s) => s.checks));
  const infra = [...input.infrastructureErrors];
  if (scenarios.length === 0 && infra.length === 0) infra.push('no scenario ran');
  return deepFreeze({
    schema: REPORT_SCHEMA,
    schemaVersion: REPORT_SCHEMA_VERSION,
    run: {
      id: input.runId,
      startedAt: input.startedAt.toISOString(),
      finishedAt: input.finishedAt.toISOString(),
      durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
      postfixImage: input.postfixImage,
      node: input.node,
    },
    summary: { scenarios: countStatuses(scenarios), checks, exitCode: exitCodeFor(checks, infra.length) },
    scenarios,
    infrastructureErrors: infra,
  });
}
