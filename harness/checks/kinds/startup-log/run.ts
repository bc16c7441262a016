import { evaluate, getPath } from '../../matchers.js';
import { addEvents, type CheckRunner } from '../runner.js';
import type { StartupLogCheck } from './spec.js';

export const runStartupLog: CheckRunner<StartupLogCheck> = async (session, check, out) => {
  // Start-up and the lab's warm-up connection to each service (ScenarioSession.startupEvents).
  const startup = session.startupEvents();
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
