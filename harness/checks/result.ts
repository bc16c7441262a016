import type { LabErrorRecord } from '../core/errors.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { TlsObservation } from '../tls/observation.js';

/** pass / fail are the server's verdict; inconclusive and error are the lab's (never a verdict). */
export type CheckStatus = 'pass' | 'fail' | 'inconclusive' | 'error';

export interface Assertion {
  /** What was examined: "client:raw", "server-log", "received-header", "clients-agree". */
  readonly subject: string;
  readonly path: string;
  readonly expected: unknown;
  readonly observed: unknown;
  readonly ok: boolean;
}

/** The immutable record of one check, as it goes into vitest task.meta and report.json. */
export interface CheckResult {
  readonly id: string;
  readonly title: string;
  readonly why: string;
  /** What the configuration says about this case (from the scenario), beside `observed`. */
  readonly configSays: string;
  readonly status: CheckStatus;
  readonly message: string;
  readonly expected: Readonly<Record<string, unknown>>;
  readonly observed: Readonly<Record<string, unknown>>;
  readonly assertions: readonly Assertion[];
  readonly observations: readonly TlsObservation[];
  /** Postfix's log events for this check's connection(s) and message(s). */
  readonly logEvents: readonly PostfixLogEvent[];
  /** For enumerate / offerOnly checks: what probe found, or the server's answer to the hand-built hello. */
  readonly tlsSurface?: Readonly<Record<string, unknown>>;
  readonly error: LabErrorRecord | null;
  readonly durationMs: number;
}
