import { readLogEventExpectation, type CheckCommon, type CheckKindSpec, type LogEventExpectation } from '../spec-common.js';

/** What Postfix logged while it started (postconf's complaints, warnings) and while the lab warmed up each service. */
export interface StartupLogCheck extends CheckCommon {
  readonly kind: 'startup-log';
  /** Events that must have been logged. */
  readonly startupLog: readonly LogEventExpectation[];
  /** Events that must not have been logged. */
  readonly startupLogAbsent: readonly LogEventExpectation[];
}

export const startupLogSpec: CheckKindSpec<StartupLogCheck> = {
  kind: 'startup-log',
  // "clients" is accepted only as an empty list: older files said so to mean "no client".
  keys: ['startupLog', 'startupLogAbsent', 'clients'],
  inferredFrom: ['startupLog', 'startupLogAbsent'],
  read(r, common) {
    if (r.has('clients') && r.field('clients').list().length > 0) r.field('clients').fail('an empty list (a start-up log check connects no client)', 'remove "clients", or move the client expectations into a check of their own');
    const list = (key: string) => (r.has(key) ? r.field(key).list().map((x) => readLogEventExpectation(x, common.id, null)) : []);
    const startupLog = list('startupLog');
    const startupLogAbsent = list('startupLogAbsent');
    if (startupLog.length + startupLogAbsent.length === 0) r.fail('at least one entry in startupLog or startupLogAbsent', 'a check that expects nothing can never fail');
    return { ...common, kind: 'startup-log', startupLog, startupLogAbsent };
  },
};
