import { logPresenceAssertions } from '../../server-log.js';
import { addEvents, type CheckRunner } from '../runner.js';
import type { StartupLogCheck } from './spec.js';

export const runStartupLog: CheckRunner<StartupLogCheck> = async (session, check, out) => {
  // Start-up and the lab's warm-up connection to each service (ScenarioSession.startupEvents).
  const startup = session.startupEvents();
  out.assertions.push(...logPresenceAssertions('startup-log', startup, check.startupLog, check.startupLogAbsent, {}));
  addEvents(out, startup.filter((e) => e.type === 'postconf' || e.type === 'warning' || e.type === 'fatal'));
};
