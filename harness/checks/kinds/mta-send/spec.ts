import type { AnyShape } from '../../../core/shape.js';
import { MTA_SEND_RECORD_SHAPE } from '../../../interop/mta-send-shape.js';
import type { Matcher } from '../../matchers.js';
import { readExpectations, readLogCounts, readLogEventExpectation, type CheckCommon, type CheckKindSpec, type LogEventExpectation } from '../spec-common.js';

/**
 * Another MTA sends to the Postfix under test: an exim node with a "sender" block submits one
 * message to itself and delivers it, through the check's transport, to the check's service.
 * `expect` is held to what the sending MTA logged (its MtaSendRecord); `serverLog`,
 * `serverLogAbsent` and `serverLogCounts` to Postfix's log of that connection. Who refused
 * whom, and why, is said from both logs.
 */
export interface MtaSendCheck extends CheckCommon {
  readonly kind: 'mta-send';
  /** The sending node (an exim or opensmtpd node with a "sender" block) and the transport or relay of its "sender" it sends through. */
  readonly from: { readonly node: string; readonly transport: string };
  readonly message: { readonly from: string; readonly to: string; readonly subject: string };
  /** Expectations on the sender's record, by path (status, tls.protocol, authenticated, reason …). */
  readonly expect: Readonly<Record<string, Matcher>>;
  /** Events Postfix must have logged for the connection (an event of the type meeting every expectation). */
  readonly serverLog: readonly LogEventExpectation[];
  readonly serverLogAbsent: readonly LogEventExpectation[];
  readonly serverLogCounts: Readonly<Record<string, Matcher>> | null;
  /** How long the sender's attempt may take (default 30 s). */
  readonly timeoutMs: number;
}

const ADDRESS = /^[A-Za-z0-9._+-]+@[a-z0-9.-]+$/;

export const mtaSendSpec: CheckKindSpec<MtaSendCheck> = {
  kind: 'mta-send',
  keys: ['from', 'message', 'expect', 'serverLog', 'serverLogAbsent', 'serverLogCounts', 'timeoutMs'],
  inferredFrom: ['from'],
  read(r, common, ctx) {
    const senders = ctx.sendingNodes ?? {};
    const names = Object.keys(senders);
    const f = r.field('from').object(['node', 'transport']);
    if (names.length === 0) f.fail('a scenario with a sending node (an exim or opensmtpd node with a "sender" block) for an mta-send check', 'add "exim": { "sender": { "transports": { … } } } to an exim node, or "opensmtpd": { "sender": { "relays": { … } } } to an opensmtpd node');
    const node = f.field('node').oneOf(names);
    const transport = f.field('transport').oneOf(senders[node]!);
    const m = r.has('message') ? r.field('message').object(['from', 'to', 'subject']) : null;
    const message = {
      from: m?.has('from') ? m.field('from').string(ADDRESS, 'a sender address user@domain') : 'lab-sender@lab.test',
      to: m?.has('to') ? m.field('to').string(ADDRESS, 'a recipient address user@domain') : 'lab-rcpt@lab.test',
      subject: m?.has('subject') ? m.field('subject').string(/^[^\r\n]{0,200}$/, 'one line of at most 200 characters') : `smtp-tls-lab ${common.id}`,
    };
    const shape = MTA_SEND_RECORD_SHAPE as AnyShape;
    const expect = r.has('expect') ? readExpectations(r.field('expect'), common.id, shape, "sending MTA's record") : {};
    const logList = (key: string) => (r.has(key) ? r.field(key).list().map((x) => readLogEventExpectation(x, common.id, shape)) : []);
    const serverLog = logList('serverLog');
    const serverLogAbsent = logList('serverLogAbsent');
    const serverLogCounts = r.has('serverLogCounts') ? readLogCounts(r.field('serverLogCounts')) : null;
    if (Object.keys(expect).length + serverLog.length + serverLogAbsent.length === 0 && !serverLogCounts) {
      r.fail('an mta-send check with at least one expectation (expect, serverLog, serverLogAbsent or serverLogCounts)', 'a check that expects nothing can never fail');
    }
    return {
      ...common,
      kind: 'mta-send',
      from: { node, transport },
      message,
      expect,
      serverLog,
      serverLogAbsent,
      serverLogCounts,
      timeoutMs: r.has('timeoutMs') ? r.field('timeoutMs').number(1000, 300_000) : 30_000,
    };
  },
};
