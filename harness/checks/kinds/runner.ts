import type { LabError } from '../../core/errors.js';
import type { ScenarioSession } from '../../lab/scenario-session.js';
import type { PostfixLogEvent } from '../../postfix/log-parser.js';
import type { TlsObservation } from '../../tls/observation.js';
import type { Assertion, NotComparable, Unjudged } from '../result.js';

/** What running one check of a kind produced; runCheck turns it into the immutable CheckResult. */
export interface KindOutcome {
  readonly assertions: Assertion[];
  readonly observations: TlsObservation[];
  readonly logEvents: PostfixLogEvent[];
  /** Failures of the lab itself (never a verdict). */
  readonly labErrors: LabError[];
  readonly unjudged: Unjudged[];
  readonly notComparable: NotComparable[];
  readonly tlsSurface: Record<string, unknown>;
}

export function emptyOutcome(): KindOutcome {
  return { assertions: [], observations: [], logEvents: [], labErrors: [], unjudged: [], notComparable: [], tlsSurface: {} };
}

/** Runs one check of its kind against the scenario's running lab. It records what happened; judging is runCheck's. */
export type CheckRunner<S> = (session: ScenarioSession, check: S, out: KindOutcome) => Promise<void>;

/** Add events not yet recorded, keeping their order. */
export function addEvents(out: KindOutcome, events: readonly PostfixLogEvent[]): void {
  for (const e of events) if (!out.logEvents.includes(e)) out.logEvents.push(e);
}
