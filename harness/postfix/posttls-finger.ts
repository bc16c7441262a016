import { parseLogLine, type PostfixLogEventOf } from './log-parser.js';

/**
 * What posttls-finger(1) (Debian's postfix package, in the lab image) concluded about a
 * destination: an independent run of Postfix's own TLS client code, outside the mail queue.
 * Its lines have Postfix's log formats after a "posttls-finger: " prefix, so the same parser
 * reads them.
 */
export interface PosttlsFingerView {
  readonly destination: string;
  readonly level: string;
  readonly exitCode: number;
  /** Trust word of its summary line (Verified, Untrusted …), or null when no TLS session was made. */
  readonly trust: string | null;
  readonly protocol: string | null;
  readonly cipher: string | null;
  /**
   * "Matched DANE EE certificate at depth 0: 3 1 1 …" and the like (Postfix 3.6+), or Postfix
   * 3.5's "depth=0 matched end entity public-key sha256 digest=…" / "depth=1 matched trust
   * anchor …"; null when no line says what matched.
   */
  readonly matched: string | null;
  /** The reason of "certificate verification failed for …", or null. */
  readonly verifyFailure: string | null;
  readonly lines: readonly string[];
}

/** The command, run in the Postfix under test (its resolver is the lab's): no SMTP chat (-c), summary and certificate match lines only. */
export function posttlsFingerCommand(destination: string, level: string): string[] {
  return ['posttls-finger', '-c', '-l', level, '-L', 'summary,certmatch', destination];
}

export function parsePosttlsFinger(destination: string, level: string, exitCode: number, output: string): PosttlsFingerView {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const events = lines.map((l) => parseLogLine(`Jan  1 00:00:00 lab ${l.replace(/^posttls-finger: /, 'posttls-finger[0]: ')}`));
  const tls = events.find((e): e is PostfixLogEventOf<'tls-established'> => e.type === 'tls-established') ?? null;
  const failed = events.find((e): e is PostfixLogEventOf<'tls-verify-failed'> => e.type === 'tls-verify-failed') ?? null;
  const matched = lines.map((l) => /(Matched DANE .*|depth=\d+ matched (?:end entity|trust anchor) .*)$/.exec(l)?.[1]).find(Boolean) ?? null;
  return Object.freeze({ destination, level, exitCode, trust: tls?.trust ?? null, protocol: tls?.protocol ?? null, cipher: tls?.cipher ?? null, matched, verifyFailure: failed?.reason ?? null, lines: Object.freeze(lines) });
}
