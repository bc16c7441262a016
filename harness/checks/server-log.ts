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

/**
 * Events that must have been logged (`present`: some event of the type meets every expectation)
 * and must not (`absent`), among `events`. The start-up log and the sender's log of an outbound
 * message are judged the same way; `context` is what equalsObserved refers to.
 */
export function logPresenceAssertions(subject: string, events: readonly PostfixLogEvent[], present: readonly LogEventExpectation[], absent: readonly LogEventExpectation[], context: unknown): Assertion[] {
  const matching = (want: LogEventExpectation) => events.filter((e) => e.type === want.event && Object.entries(want.expect).every(([p, m]) => evaluate(m, getPath(e, p), context).ok));
  return [
    ...present.map((want) => {
      const hits = matching(want);
      return { subject, path: want.event, expected: want.expect, observed: hits[0]?.raw ?? events.filter((e) => e.type === want.event).map((e) => e.raw).slice(0, 5), ok: hits.length > 0 };
    }),
    ...absent.map((unwanted) => {
      const hits = matching(unwanted);
      return { subject, path: `no ${unwanted.event}`, expected: { absent: unwanted.expect }, observed: hits.map((e) => e.raw).slice(0, 5), ok: hits.length === 0 };
    }),
  ];
}
