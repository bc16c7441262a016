import type { LabErrorRecord } from '../core/errors.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { TlsObservation } from '../tls/observation.js';

/** pass / fail are the server's verdict; inconclusive and error are the lab's (never a verdict). */
export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface Assertion {
  /** What was examined: "client:raw", "server-log", "received-header", "clients-agree", "enumeration", "hello", "startup-log". */
  readonly subject: string;
  readonly path: string;
  readonly expected: unknown;
  readonly observed: unknown;
  readonly ok: boolean;
}

/** A client that ran but could not judge (its tool is missing, its library cannot offer what was asked, the lab failed). */
export interface Unjudged {
  readonly subject: string;
  readonly error: LabErrorRecord;
}

/** A comparison between clients that could not be made: fewer than two clients observed a value. */
export interface NotComparable {
  readonly path: string;
  readonly observed: readonly { readonly client: string; readonly value: unknown }[];
}

/** Something the lab noticed that is not a check's verdict, e.g. a warning Postfix logged while starting. */
export interface Finding {
  readonly kind: 'postfix-warning';
  /** True when the scenario declared it (postfix.expectedWarnings). */
  readonly expected: boolean;
  readonly text: string;
  readonly raw: string;
}

/** The immutable record of one check, as it goes into vitest task.meta and report.json. */
export interface CheckResult {
  readonly id: string;
  /** The check's kind (client-handshake, enumeration, offer-only, startup-log). */
  readonly kind: string;
  readonly title: string;
  readonly why: string;
  /** What the configuration says about this case (from the scenario), beside `observed`. */
  readonly configSays: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly expected: Readonly<Record<string, unknown>>;
  readonly observed: Readonly<Record<string, unknown>>;
  readonly assertions: readonly Assertion[];
  /** Clients that could not judge; a failing assertion from another client still fails the check. */
  readonly unjudged: readonly Unjudged[];
  /** Agreement between clients that could not be compared (null from all but one client): not counted as assertions. */
  readonly notComparable: readonly NotComparable[];
  readonly observations: readonly TlsObservation[];
  /** Postfix's log events for this check's connection(s) and message(s). */
  readonly logEvents: readonly PostfixLogEvent[];
  /** For enumerate / offerOnly checks: what probe found, or the server's answer to the hand-built hello. */
  readonly tlsSurface?: Readonly<Record<string, unknown>>;
  readonly error: LabErrorRecord | null;
  readonly durationMs: number;
}
