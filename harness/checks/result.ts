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

/**
 * Who tried to talk to whom in one check, what became of it, and what each side's own log
 * says: the record the report shows as "who failed to talk to whom, and why, from both logs".
 * Immutable; made by the mta-send and delivery runners (checks/conversation.ts), kept in the
 * result's tlsSurface (conversation, conversations), rendered by the reporters.
 *
 * `refusedBy` names the side whose own words say it ended the attempt; where the logs do not
 * tell (a TLS handshake both sides saw fail) it is 'handshake', and the two quotes say the rest.
 * The rules, in order: sent → null; no connection in the receiver's log → 'network'; the sender
 * quotes the receiver's SMTP reply (or its reason is one) → 'receiver'; the sender names its own policy (a certificate
 * it did not verify or trust, TLS required but not offered, AUTH required but not offered, a
 * setting it refused) → 'sender'; a failed handshake → 'handshake'.
 */
export interface Conversation {
  readonly sender: { readonly node: string; readonly kind: string; readonly software: string | null };
  readonly receiver: { readonly node: string; readonly kind: string; readonly port: number | null };
  /** What the sender says became of the message (sent, deferred, failed, bounced, not-attempted …). */
  readonly outcome: string;
  readonly refusedBy: 'sender' | 'receiver' | 'handshake' | 'network' | null;
  /** The sender's own words: the server's reply when sent, else why not. */
  readonly senderSays: string | null;
  /** The receiver's own words about the connection (its log), or null when it logged nothing telling. */
  readonly receiverSays: string | null;
}
