import type { AnyShape } from '../../../core/shape.js';
import type { Matcher } from '../../matchers.js';
import { readExpectations, readLogEventExpectation, type CheckCommon, type CheckKindSpec, type LogEventExpectation } from '../spec-common.js';
import { deliveryShape } from './observation.js';
import { readAnswer, type PolicyAnswer } from '../../../sts/policy-spec.js';

/**
 * Postfix as the sending client: the lab injects one message into the Postfix under test
 * (sendmail, or SMTP on one of its services), waits for each recipient's outcome in its log,
 * reads each receiving node's record and the queue, and applies `expect` to the
 * DeliveryObservation (observation.ts).
 */
export interface DeliveryCheck extends CheckCommon {
  readonly kind: 'delivery';
  readonly send: {
    readonly from: string;
    readonly to: readonly string[];
    /** 'sendmail' (exec in the container, as a local program would) or 'smtp' (to the check's service, from the host). */
    readonly via: 'sendmail' | 'smtp';
    readonly subject: string;
    /** After the first outcome, ask for one more attempt of this message (postqueue -i) and record it as `retry`. */
    readonly retry: boolean;
  };
  /**
   * Changes made before the message is sent, in order: a zone's records replaced (re-signed,
   * nsd restarted, unbound's cache emptied, then `postfix reload` in the sender), or a peer
   * presenting another certificate. A rollover is a sequence of checks with these.
   */
  readonly before: readonly DeliveryAction[];
  /** Names the lab resolver is asked about after the delivery (what DNSSEC said beside what Postfix did). */
  readonly dnsLookups: readonly { readonly name: string; readonly type: string }[];
  /**
   * An independent oracle: posttls-finger -c -l LEVEL DESTINATION in the Postfix under test,
   * after the delivery. Its verdict must agree with the delivery's (Verified exactly when the
   * lab's delivery was sent Verified).
   */
  readonly posttlsFinger: { readonly destination: string; readonly level: string } | null;
  /** How long to wait for each outcome to be logged (default 30 s). */
  readonly outcomeTimeoutMs: number;
  readonly expect: Readonly<Record<string, Matcher>>;
  /** Events the sender must have logged for this message's sessions (by queue id and smtp process). */
  readonly senderLog: readonly LogEventExpectation[];
  readonly senderLogAbsent: readonly LogEventExpectation[];
  /**
   * TLS-RPT: the lab's reader binds the sender's smtp_tlsrpt_socket_name before the message is
   * sent; the datagrams libtlsrpt sent for this message's sessions are decoded into `tlsrpt`,
   * and must agree with Postfix's own "TLSRPT: status=…" lines (harness/sts/).
   */
  readonly tlsrpt: boolean;
  /** Questions put to the sts-resolver node after the delivery, as Postfix puts them (socketmap name, domain). */
  readonly stsQueries: readonly { readonly map: string; readonly domain: string }[];
}

export type DeliveryAction =
  | { readonly zone: string; readonly records: readonly string[] }
  | { readonly peer: string; readonly certificate: string }
  /** The MTA-STS policy host's site for this domain answers this from now on (with another certificate, when named). */
  | { readonly stsSite: string; readonly answer: PolicyAnswer; readonly certificate: string | null };

const ADDRESS = /^[A-Za-z0-9._+-]+@[a-z0-9.-]+$/;

export const deliverySpec: CheckKindSpec<DeliveryCheck> = {
  kind: 'delivery',
  keys: ['send', 'expect', 'senderLog', 'senderLogAbsent', 'outcomeTimeoutMs', 'before', 'dnsLookups', 'posttlsFinger', 'tlsrpt', 'stsQueries'],
  inferredFrom: ['send'],
  read(r, common, ctx) {
    const zones = ctx.zones ?? [];
    const s = r.field('send').object(['from', 'to', 'via', 'subject', 'retry']);
    const to = s.field('to').list().map((x) => x.string(ADDRESS, 'a recipient address user@domain'));
    if (to.length === 0) s.field('to').fail('at least one recipient');
    if (new Set(to).size !== to.length) s.field('to').fail('recipients without repeats (each one is an entry of "deliveries", in this order)');
    const receivers = ctx.receivingNodes;
    if (receivers.length === 0) r.fail('a scenario with a receiving node (kind smtp-peer, or a second postfix node) for a delivery check', 'add a capturing peer to "nodes" and route the recipients to it with transport_maps');
    const send = {
      from: s.has('from') ? s.field('from').string(ADDRESS, 'a sender address user@domain') : 'lab-sender@lab.test',
      to,
      via: s.has('via') ? s.field('via').oneOf(['sendmail', 'smtp'] as const) : ('sendmail' as const),
      subject: s.has('subject') ? s.field('subject').string(/^[^\r\n]{0,200}$/, 'one line of at most 200 characters') : `smtp-tls-lab ${common.id}`,
      retry: s.has('retry') ? s.field('retry').boolean() : false,
    };
    const shape = deliveryShape(receivers, ctx.certNames);
    const expect = r.has('expect') ? readExpectations(r.field('expect'), common.id, shape, 'delivery observation') : {};
    const logList = (key: string) => (r.has(key) ? r.field(key).list().map((x) => readLogEventExpectation(x, common.id, shape as AnyShape)) : []);
    const senderLog = logList('senderLog');
    const senderLogAbsent = logList('senderLogAbsent');
    if (Object.keys(expect).length + senderLog.length + senderLogAbsent.length === 0) r.fail('a delivery check with at least one expectation (expect, senderLog or senderLogAbsent)', 'a check that expects nothing can never fail');
    if (send.retry && !Object.keys(expect).some((p) => p.startsWith('retry'))) r.field('send').field('retry').fail('an expectation on "retry…" when a retry is asked for', 'say what the second attempt must show, or drop "retry"');
    const before: DeliveryAction[] = r.has('before')
      ? r.field('before').list().map((a): DeliveryAction => {
          if (a.has('stsSite')) {
            a.object(['stsSite', 'certificate', 'policy', 'body', 'contentType', 'status', 'redirect', 'oversizedBytes', 'reset']);
            return {
              stsSite: a.field('stsSite').string(/^[a-z0-9.-]+$/, 'a policy domain of the sts-policy node'),
              certificate: a.has('certificate') ? a.field('certificate').oneOf(ctx.certNames.length ? ctx.certNames : ['(none)']) : null,
              answer: readAnswer(a),
            };
          }
          if (a.has('zone')) {
            a.object(['zone', 'records']);
            const zone = a.field('zone').string();
            if (!zones.includes(zone)) a.field('zone').fail(`a zone of the scenario's "dns" block (${zones.join(', ') || 'it has none'})`);
            return { zone, records: a.field('records').list().map((x) => x.string(/^[^\n]{1,2000}$/, 'one zone-file record on one line')) };
          }
          a.object(['peer', 'certificate']);
          const peer = a.field('peer').string();
          if (!ctx.receivingNodes.includes(peer)) a.field('peer').fail(`a capturing peer of the scenario (${ctx.receivingNodes.join(', ')})`);
          const certificate = a.field('certificate').oneOf(ctx.certNames.length ? ctx.certNames : ['(none)']);
          return { peer, certificate };
        })
      : [];
    const dnsLookups = r.has('dnsLookups')
      ? r.field('dnsLookups').list().map((q) => {
          q.object(['name', 'type']);
          if (zones.length === 0) q.fail('a scenario with a "dns" block for a dnsLookups entry');
          return { name: q.field('name').string(/^[A-Za-z0-9._-]+$/, 'a DNS name'), type: q.field('type').oneOf(['A', 'AAAA', 'MX', 'TLSA', 'SOA', 'NS', 'DS', 'DNSKEY', 'TXT'] as const) };
        })
      : [];
    const ptf = r.has('posttlsFinger') ? r.field('posttlsFinger').object(['destination', 'level']) : null;
    const posttlsFinger = ptf
      ? {
          destination: ptf.field('destination').string(/^(\[[a-z0-9.-]+\]|[a-z0-9.-]+)(:\d{1,5})?$/, 'a destination as posttls-finger takes it: domain, domain:port or [host]:port'),
          level: ptf.has('level') ? ptf.field('level').oneOf(['dane', 'dane-only', 'fingerprint', 'verify', 'secure', 'encrypt', 'may'] as const) : 'dane',
        }
      : null;
    const stsQueries = r.has('stsQueries')
      ? r.field('stsQueries').list().map((q) => {
          q.object(['map', 'domain']);
          return { map: q.has('map') ? q.field('map').oneOf(['postfix', 'strict', 'nortls'] as const) : 'postfix', domain: q.field('domain').string(/^[a-z0-9.-]+$/, 'a domain') };
        })
      : [];
    return {
      ...common,
      kind: 'delivery',
      tlsrpt: r.has('tlsrpt') ? r.field('tlsrpt').boolean() : false,
      stsQueries,
      before,
      posttlsFinger,
      dnsLookups,
      send,
      outcomeTimeoutMs: r.has('outcomeTimeoutMs') ? r.field('outcomeTimeoutMs').number(1000, 300_000) : 30_000,
      expect,
      senderLog,
      senderLogAbsent,
    };
  },
};
