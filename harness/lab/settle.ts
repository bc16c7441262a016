import { LabError, asLabError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import type { CheckResult } from '../checks/result.js';
import type { CheckSpec } from '../scenario/types.js';

/** The one check a scenario whose file did not load is reported with. */
export const SCENARIO_FILE_CHECK = { id: 'scenario-file', title: 'The scenario file loads', why: '' } as const;

/** The record of a check that could not run because the lab failed before it (load, start). */
export function errorResult(check: Pick<CheckSpec, 'id' | 'title' | 'why'> & { configSays?: string }, err: unknown): CheckResult {
  const e = asLabError(err);
  return deepFreeze({
    id: check.id,
    title: check.title,
    why: check.why,
    configSays: check.configSays ?? '',
    status: e.code === 'ETOOL' || e.code === 'ECLIENT_CAPABILITY' ? 'inconclusive' : 'error',
    message: `${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`,
    expected: {},
    observed: {},
    assertions: [],
    observations: [],
    logEvents: [],
    error: e.toRecord(),
    durationMs: 0,
  });
}

/**
 * Turn a check's status into the test's outcome: pass passes, fail fails as an assertion,
 * error fails marked as the lab's fault, and inconclusive is skipped with its reason, so
 * that neither a broken lab nor a missing tool ever reads as a pass.
 */
export function settle(result: CheckResult, skip: (note: string) => never): void {
  switch (result.status) {
    case 'pass':
      return;
    case 'fail':
      throw new Error(`check failed: ${result.message}`);
    case 'error':
      throw new LabError(result.error?.code ?? 'EINTERNAL', `lab error (not a verdict on the server): ${result.message}`);
    case 'inconclusive':
      skip(`inconclusive: ${result.message}`);
  }
}
