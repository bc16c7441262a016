import { asLabError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import type { ScenarioSession } from '../lab/scenario-session.js';
import type { CheckSpec } from '../scenario/types.js';
import type { Assertion, CheckResult } from './result.js';
import { CHECK_RUNNERS } from './kinds/runners.js';
import { emptyOutcome, type CheckRunner } from './kinds/runner.js';
import { verdictOf } from './verdict.js';

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

/**
 * Run one check of a scenario against its running lab: the check's kind runs it and records
 * assertions, observations and log events; the verdict comes from those alone (verdict.ts).
 */
export async function runCheck(session: ScenarioSession, check: CheckSpec): Promise<CheckResult> {
  const started = Date.now();
  const out = emptyOutcome();
  try {
    await (CHECK_RUNNERS[check.kind] as CheckRunner<CheckSpec>)(session, check, out);
  } catch (err) {
    const e = asLabError(err);
    // A Postfix log event that never came is the server's silence, not the lab's failure.
    if (e.code === 'ETIMEOUT') out.assertions.push({ subject: 'server-log', path: 'wait', expected: 'the event to be logged', observed: e.message, ok: false });
    else out.labErrors.push(e);
  }
  const { status, error } = verdictOf(out.assertions, out.labErrors, out.unjudged);
  const failed = out.assertions.filter((a) => !a.ok);
  // Everything that kept a client from judging is said, whatever the status: a fail names the missing tool too.
  const couldNot = [
    ...out.unjudged.map((u) => `${u.subject} could not judge (${u.error.code}${u.error.stage ? ` at ${u.error.stage}` : ''}: ${u.error.message})`),
    ...out.labErrors.map((e) => `lab: ${e.code}${e.stage ? ` at ${e.stage}` : ''}: ${e.message}`),
  ];
  const message =
    status === 'pass'
      ? `${out.assertions.length} assertion(s) held${out.notComparable.length ? `; ${out.notComparable.length} client comparison(s) not comparable` : ''}`
      : status === 'fail'
        ? [...failed.map((a) => `${a.subject} ${a.path}: expected ${show(a.expected)}, observed ${show(a.observed)}`), ...couldNot].join('; ')
        : couldNot.length
          ? couldNot.join('; ')
          : `${error!.code}: ${error!.message}`;
  const key = (a: Assertion) => `${a.subject} ${a.path}`;
  const result: CheckResult = {
    id: check.id,
    kind: check.kind,
    title: check.title,
    why: check.why,
    configSays: check.configSays,
    status,
    message,
    expected: Object.fromEntries(out.assertions.map((a) => [key(a), a.expected])),
    observed: Object.fromEntries(out.assertions.map((a) => [key(a), a.observed])),
    assertions: out.assertions,
    unjudged: out.unjudged,
    notComparable: out.notComparable,
    observations: out.observations,
    logEvents: out.logEvents,
    ...(Object.keys(out.tlsSurface).length ? { tlsSurface: out.tlsSurface } : {}),
    error: error?.toRecord() ?? null,
    durationMs: Date.now() - started,
  };
  return deepFreeze(result);
}
