import { LabError } from '../core/errors.js';
import type { CheckResult } from '../checks/result.js';

/**
 * Turn a check's status into its test's outcome: pass passes, fail fails as an assertion,
 * error fails marked as the lab's fault, and inconclusive is skipped with its reason (which
 * CI does not accept; see harness/vitest/ci-accepted-skips.ts), so that neither a broken lab
 * nor a missing tool ever reads as a pass.
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
