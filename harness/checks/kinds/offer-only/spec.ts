import type { AnyShape, Shape } from '../../../core/shape.js';
import type { Matcher } from '../../matchers.js';
import { readExpectations, readLogCounts, readLogEventExpectation, type CheckCommon, type CheckKindSpec, type LogEventExpectation } from '../spec-common.js';
import { PROBE_VERSIONS, readSuiteList, type ProbeVersionName } from '../enumeration/spec.js';

/**
 * The server's answer to one hand-built ClientHello, as expectations see it. `kind` is
 * 'server-hello', 'alert', 'sslv2-error', 'garbage', 'closed' or 'timeout'; the other fields
 * are null when that kind of answer has none.
 */
export interface HelloAnswerView {
  readonly kind: string;
  readonly version: string | null;
  readonly cipher: string | null;
  readonly alert: string | null;
  readonly description: number | null;
}

export const HELLO_ANSWER_SHAPE: Shape<HelloAnswerView> = { kind: 'leaf', version: 'leaf', cipher: 'leaf', alert: 'leaf', description: 'leaf' };

/** One hand-built ClientHello offering exactly these suites at this version (families no OpenSSL 3 client can offer). */
export interface OfferOnlyCheck extends CheckCommon {
  readonly kind: 'offer-only';
  readonly offerOnly: { readonly version: ProbeVersionName; readonly ciphers: readonly number[] };
  /** Expectations on the server's answer (HelloAnswerView). */
  readonly expect: Readonly<Record<string, Matcher>>;
  readonly serverLog: LogEventExpectation | null;
  readonly serverLogCounts: Readonly<Record<string, Matcher>> | null;
}

export const offerOnlySpec: CheckKindSpec<OfferOnlyCheck> = {
  kind: 'offer-only',
  keys: ['offerOnly', 'expect', 'serverLog', 'serverLogCounts'],
  inferredFrom: ['offerOnly'],
  read(r, common) {
    const o = r.field('offerOnly').object(['version', 'ciphers']);
    const offerOnly = { version: o.field('version').oneOf(PROBE_VERSIONS), ciphers: readSuiteList(o.field('ciphers')) };
    if (offerOnly.ciphers.length === 0) o.field('ciphers').fail('at least one cipher suite to offer');
    const shape = HELLO_ANSWER_SHAPE as AnyShape;
    const expect = r.has('expect') ? readExpectations(r.field('expect'), common.id, shape, "server answer to a hand-built ClientHello") : {};
    const serverLog = r.has('serverLog') ? readLogEventExpectation(r.field('serverLog'), common.id, shape) : null;
    const serverLogCounts = r.has('serverLogCounts') ? readLogCounts(r.field('serverLogCounts')) : null;
    if (Object.keys(expect).length === 0 && !serverLog && !serverLogCounts) r.fail('an offerOnly check with at least one expectation (expect, serverLog or serverLogCounts)', 'a check that expects nothing can never fail');
    return { ...common, kind: 'offer-only', offerOnly, expect, serverLog, serverLogCounts };
  },
};
