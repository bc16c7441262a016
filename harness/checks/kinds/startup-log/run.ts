import type { PostfixLogEvent } from '../../../postfix/log-parser.js';
import type { ScenarioSession } from '../../../lab/scenario-session.js';
import { evaluate, getPath } from '../../matchers.js';
import { addEvents, type CheckRunner } from '../runner.js';
import type { StartupLogCheck } from './spec.js';

/** What Postfix logged before the checks began: its start-up, and the lab's warm-up connection to each service. */
export function startupEvents(session: ScenarioSession): readonly PostfixLogEvent[] {
  const s = session as unknown as { startupEvents?: () => readonly PostfixLogEvent[] };
  if (typeof s.startupEvents === 'function') return s.startupEvents();
  // Until the session warms its services up: the log up to "daemon started".
  const all = session.postfix.log.all();
  const ready = all.findIndex((e) => e.type === 'daemon-started');
  return ready >= 0 ? all.slice(0, ready + 1) : all;
}

export const runStartupLog: CheckRunner<StartupLogCheck> = async (session, check, out) => {
  const startup = startupEvents(session);
  const matching = (want: StartupLogCheck['startupLog'][number]) => startup.filter((e) => e.type === want.event && Object.entries(want.expect).every(([p, m]) => evaluate(m, getPath(e, p), {}).ok));
  for (const want of check.startupLog) {
    const hits = matching(want);
    out.assertions.push({ subject: 'startup-log', path: want.event, expected: want.expect, observed: hits[0]?.raw ?? startup.filter((e) => e.type === want.event).map((e) => e.raw).slice(0, 5), ok: hits.length > 0 });
  }
  for (const unwanted of check.startupLogAbsent) {
    const hits = matching(unwanted);
    out.assertions.push({ subject: 'startup-log', path: `no ${unwanted.event}`, expected: { absent: unwanted.expect }, observed: hits.map((e) => e.raw).slice(0, 5), ok: hits.length === 0 });
  }
  addEvents(out, startup.filter((e) => e.type === 'postconf' || e.type === 'warning' || e.type === 'fatal'));
};
