import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { LogEventExpectation } from './kinds/spec-common.js';
import { evaluate, getPath, type Matcher } from './matchers.js';
import type { Assertion } from './result.js';

/**
 * A check's expectations on Postfix's log events of one connection: some event of the
 * `serverLog` type meets every expectation (the best candidate is reported when none does),
 * and `serverLogCounts` ("TYPE" or "TYPE:after-established") hold. `context` is what
 * equalsObserved / includesTemplate refer to: the client's observation or the hello's answer.
 */
export function serverLogAssertions(
  want: { readonly serverLog: LogEventExpectation | null; readonly serverLogCounts: Readonly<Record<string, Matcher>> | null },
  own: readonly PostfixLogEvent[],
  context: unknown,
): Assertion[] {
  const out: Assertion[] = [];
  if (want.serverLog) {
    const expected = want.serverLog;
    const judged = own
      .filter((e) => e.type === expected.event)
      .map((ev) =>
        Object.entries(expected.expect).map(([path, m]): Assertion => {
          const observed = getPath(ev, path);
          const r = evaluate(m, observed, context);
          return { subject: 'server-log', path, expected: r.expected, observed: observed ?? null, ok: r.ok };
        }),
      );
    const best = judged.find((as) => as.every((a) => a.ok)) ?? judged.sort((a, b) => b.filter((x) => x.ok).length - a.filter((x) => x.ok).length)[0];
    if (!best) out.push({ subject: 'server-log', path: 'event', expected: expected.event, observed: own.map((e) => e.type), ok: false });
    else out.push(...best, { subject: 'server-log', path: 'event', expected: expected.event, observed: expected.event, ok: true });
  }
  if (want.serverLogCounts) {
    const established = own.findIndex((e) => e.type === 'tls-established');
    for (const [key, m] of Object.entries(want.serverLogCounts)) {
      const [type, when] = key.split(':');
      const n = own.filter((e, i) => e.type === type && (when !== 'after-established' || (established >= 0 && i > established))).length;
      const r = evaluate(m, n, context);
      out.push({ subject: 'server-log', path: `count(${key})`, expected: r.expected, observed: n, ok: r.ok });
    }
  }
  return out;
}

/** Expectations on any record by path, each an assertion of `subject`. */
export function expectationAssertions(subject: string, expect: Readonly<Record<string, Matcher>>, record: unknown, context: unknown = record): Assertion[] {
  return Object.entries(expect).map(([path, m]) => {
    const observed = getPath(record, path);
    const r = evaluate(m, observed, context);
    return { subject, path, expected: r.expected, observed: observed ?? null, ok: r.ok };
  });
}
