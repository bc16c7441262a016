import { LabError, asLabError } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import type { Assertion, CheckResult } from '../checks/result.js';
import { verdictOf } from '../checks/verdict.js';
import type { ProbeResult } from '../enum/probe-result.js';
import type { Profile } from './profiles.js';
import { evaluateRule, type ProfileRule, type RuleOutcome } from './rules.js';
import type { CheckedService } from './services.js';

/** The profile's rules that apply to a service: its target is a listening smtpd, and the service's role is one the rule names. */
export function rulesFor(profile: Profile, s: CheckedService): ProfileRule[] {
  return profile.rules.filter((r) => r.target === 'smtpd' && (!r.roles || r.roles.includes(s.role)));
}

export const ruleCheckId = (profile: Profile, s: CheckedService, rule: ProfileRule) => `${s.port}-${profile.name}-${rule.id}`;

const show = (v: unknown) => {
  const t = typeof v === 'string' ? v : JSON.stringify(v);
  return t === undefined ? 'nothing' : t.length > 240 ? `${t.slice(0, 240)}…` : t;
};

/**
 * One rule on one service as a check record of the report (kind enumeration: measured by
 * probe). Its assertions say what was measured and, for each offending item, its level; the
 * verdict comes from the same rules as every check's (checks/verdict.ts): a measure probe could
 * not determine is no verdict (EINCOMPLETE), never a pass.
 */
export function ruleResult(profile: Profile, s: CheckedService, rule: ProfileRule, probe: ProbeResult | LabError, durationMs: number): CheckResult {
  const identity = { id: ruleCheckId(profile, s, rule), kind: 'enumeration', title: `${profile.name}: ${rule.title} (port ${s.port})`, why: rule.clause, configSays: `${s.service}: ${s.roleBecause}` };
  const subject = `profile:${profile.name}`;
  let outcome: RuleOutcome | null = null;
  const assertions: Assertion[] = [];
  const labErrors: LabError[] = [];
  if (probe instanceof LabError) labErrors.push(probe);
  else {
    try {
      outcome = evaluateRule(rule, probe);
    } catch (err) {
      labErrors.push(asLabError(err));
    }
  }
  if (outcome) {
    if (outcome.holds === null) labErrors.push(new LabError('EINCOMPLETE', `${rule.id}: ${outcome.why}`));
    else {
      assertions.push({ subject, path: `${rule.id}: ${outcome.measured}`, expected: outcome.wants, observed: outcome.observed, ok: outcome.holds });
      for (const i of outcome.items) if (!i.ok) assertions.push({ subject, path: `${rule.id}: ${i.item}`, expected: outcome.wants, observed: i.level ?? 'offends', ok: false });
    }
  }
  const { status, error } = verdictOf(assertions, labErrors, []);
  const failed = outcome?.items.filter((i) => !i.ok) ?? [];
  const message =
    status === 'pass'
      ? `holds (${outcome!.level})${outcome!.notes.length ? `; ${outcome!.notes.join('; ')}` : ''}`
      : status === 'fail'
        ? `${rule.id} violated (${outcome!.level}): ${failed.length ? failed.map((i) => `${i.item}${i.level ? ` [${i.level}]` : ''}`).join(', ') : `observed ${show(outcome!.observed)}`}; wants ${outcome!.wants}${outcome!.notes.length ? `; ${outcome!.notes.join('; ')}` : ''}`
        : `${error!.code}: ${error!.message}`;
  const key = (a: Assertion) => `${a.subject} ${a.path}`;
  return deepFreeze({
    ...identity,
    status,
    message,
    expected: Object.fromEntries(assertions.map((a) => [key(a), a.expected])),
    observed: Object.fromEntries(assertions.map((a) => [key(a), a.observed])),
    assertions,
    unjudged: [],
    notComparable: [],
    observations: [],
    logEvents: [],
    tlsSurface: { profile: profile.name, service: s.service, port: s.port, rule: { id: rule.id, clause: rule.clause, measure: rule.measure, target: rule.target }, outcome },
    error: error?.toRecord() ?? null,
    durationMs,
  } satisfies CheckResult);
}
