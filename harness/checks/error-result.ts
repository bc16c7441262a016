import { asLabError } from '../core/errors.js';
import { cannotJudge } from './verdict.js';
import { deepFreeze } from '../core/freeze.js';
import type { CheckResult } from './result.js';

/** What an error record needs to know of the check it stands for. */
export interface CheckIdentity {
  /** The check's kind; a placeholder check names what it stands for ('scenario-file'). */
  readonly kind: string;
  readonly id: string;
  readonly title: string;
  readonly why: string;
  readonly configSays?: string;
}

/**
 * The record of a check that could not run because the lab failed before or during it (load,
 * start, a spent budget, a config Postfix disabled TLS for). A missing tool or a client that
 * cannot offer what was asked is inconclusive; anything else is an error. Never pass or fail.
 */
export function errorResult(check: CheckIdentity, err: unknown): CheckResult {
  const e = asLabError(err);
  return deepFreeze({
    id: check.id,
    kind: check.kind,
    title: check.title,
    why: check.why,
    configSays: check.configSays ?? '',
    status: cannotJudge(e.code) ? 'inconclusive' : 'error',
    message: `${e.code}: ${e.message}${e.detail ? ` (${e.detail})` : ''}`,
    expected: {},
    observed: {},
    assertions: [],
    unjudged: [],
    notComparable: [],
    observations: [],
    logEvents: [],
    error: e.toRecord(),
    durationMs: 0,
  });
}
