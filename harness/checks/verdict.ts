import { LabError } from '../core/errors.js';
import type { Assertion, CheckStatus, Unjudged } from './result.js';

/** Lab codes that mean "this client could not judge" rather than "the lab broke". */
const CANNOT_JUDGE = new Set(['ETOOL', 'ECLIENT_CAPABILITY', 'EINCOMPLETE']);

export interface Verdict {
  readonly status: CheckStatus;
  /** The lab error behind an error or inconclusive status. */
  readonly error: LabError | null;
}

/**
 * The check's outcome, in this order:
 *  - fail when any assertion failed: a failing verdict from any client stands, even when
 *    another client could not run (a missing tool never hides a misconfigured server);
 *  - error when the lab failed (a container, a deadline, a scenario mistake);
 *  - inconclusive when a client the check asked for could not judge: a pass from fewer
 *    clients than the check names is not the pass it asked for;
 *  - error (ENO_ASSERTIONS) when nothing was judged at all: `every` over nothing is true, and
 *    a check that asserted nothing must never read as a pass;
 *  - otherwise pass.
 */
export function verdictOf(assertions: readonly Assertion[], labErrors: readonly LabError[], unjudged: readonly Unjudged[]): Verdict {
  if (assertions.some((a) => !a.ok)) return { status: 'fail', error: null };
  const broken = labErrors.find((e) => !CANNOT_JUDGE.has(e.code));
  if (broken) return { status: 'error', error: broken };
  const blind = labErrors[0] ?? (unjudged[0] ? new LabError(unjudged[0].error.code, `${unjudged[0].subject}: ${unjudged[0].error.message}`, { stage: unjudged[0].error.stage }) : null);
  if (blind) return { status: 'inconclusive', error: blind };
  if (assertions.length === 0) return { status: 'error', error: new LabError('ENO_ASSERTIONS', 'the check made no assertion: nothing was judged') };
  return { status: 'pass', error: null };
}

export function cannotJudge(code: string): boolean {
  return CANNOT_JUDGE.has(code);
}
