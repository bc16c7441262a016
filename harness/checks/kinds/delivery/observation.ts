import type { AnyShape, Shape } from '../../../core/shape.js';
import { PEER_RECORD_SHAPE, type PeerRecord } from '../../../peer/peer-record.js';
import type { PosttlsFingerView } from '../../../postfix/posttls-finger.js';
import type { DnsAnswer } from '../../../dns/dns-spec.js';
import type { TlsrptDatagramView } from '../../../sts/tlsrpt-datagram.js';
import type { PolicyFetch } from '../../../sts/policy-container.js';
import type { ResolverAnswer } from '../../../sts/resolver-container.js';

/**
 * What one outbound delivery check observed, from three sources that must agree: the sending
 * Postfix's log (by queue id), each receiving peer's record, and the sender's queue
 * (postqueue -j). Immutable; the delivery runner fills it, expectations read it by path.
 */

/** The sender's TLS summary line for the session that carried the delivery ("… TLS connection established to …"). */
export interface SenderTls {
  readonly trust: string;
  readonly reused: boolean;
  readonly protocol: string;
  readonly cipher: string;
  readonly bits: number;
  /** Key exchange as Postfix names it: X25519, or the curve/bits ("prime256v1", "DHE 2048"). */
  readonly keyExchange: string | null;
  readonly serverSignature: string | null;
  /** The peer as Postfix wrote it: name[addr]:port. */
  readonly peer: string;
}

/** One recipient's outcome in one delivery attempt, from the sender's log. */
export interface DeliveryAttempt {
  readonly recipient: string;
  /** sent, deferred, bounced …; null when no outcome was logged in time. */
  readonly status: string | null;
  readonly dsn: string | null;
  readonly relay: string | null;
  /** The text in parentheses after status=, e.g. "TLS is required, but was not offered by host …". */
  readonly reason: string | null;
  /** Postfix's own delay= (seconds, from arrival to this outcome). */
  readonly delay: number | null;
  readonly tls: SenderTls | null;
  /** tls_verify's "certificate verification failed for …: <reason>" for this session, or null. */
  readonly verifyFailure: string | null;
  /** "Host offered STARTTLS" was logged for this session (smtp_tls_note_starttls_offer = yes). */
  readonly starttlsOfferNoted: boolean;
}

/** The lab resolver's answer, as the dns node reads it from dig (harness/dns/dns-spec.ts). */
export type DnsLookupView = DnsAnswer;

export interface QueueRecipient {
  readonly address: string;
  readonly delayReason: string | null;
}

/** The sender's queue after the check, from postqueue -j. */
export interface QueueView {
  /** This check's message: its queue (deferred, active, incoming, hold) and recipients still waiting; null when it left the queue. */
  readonly thisMessage: { readonly queueName: string; readonly recipients: readonly QueueRecipient[] } | null;
  /** Messages in the deferred queue, all of them. */
  readonly deferredCount: number;
}

/** One "TLSRPT: status=…" line of the sender for this message's sessions. */
export interface TlsrptLogView {
  readonly status: string;
  readonly domain: string;
  readonly receivingMx: string;
  readonly failureType: string | null;
  readonly failureReason: string | null;
}

/** What TLS-RPT saw of this message: libtlsrpt's datagrams (decoded) and Postfix's own lines. */
export interface TlsrptView {
  readonly datagrams: readonly TlsrptDatagramView[];
  readonly log: readonly TlsrptLogView[];
}

/** The MTA-STS side of the check: the resolver's answers (stsQueries) and the policy host's fetches since the check began. */
export interface StsView {
  readonly answers: readonly ResolverAnswer[];
  readonly fetches: readonly PolicyFetch[];
  /** What mta-sts-daemon logged during the check (debug level: lookups, fetch errors). */
  readonly resolverLog: readonly string[];
}

export interface DeliveryObservation {
  /** The Message-ID the lab gave the message (unique per check run): how the three sources are joined. */
  readonly messageId: string;
  readonly queueId: string | null;
  readonly via: 'sendmail' | 'smtp';
  /** First attempt, one entry per recipient in the order of send.to. */
  readonly deliveries: readonly DeliveryAttempt[];
  /** The next attempt after `postqueue -i` (send.retry), or null when none was asked for. */
  readonly retry: { readonly deliveries: readonly DeliveryAttempt[] } | null;
  /** Each receiving node's record of this check (connections made and messages sent since it began). */
  readonly peers: Readonly<Record<string, PeerRecord>>;
  readonly queue: QueueView;
  /** Inject to the last outcome the lab saw, ms (the lab's end-to-end time beside Postfix's delay=). */
  readonly endToEndMs: number | null;
  /** What the lab resolver answered for each of the check's dnsLookups, in order (status, ad flag, Extended DNS Error). */
  readonly dns: readonly DnsLookupView[];
  /** posttls-finger's own conclusion about the check's oracle destination, or null when none was asked for. */
  readonly posttlsFinger: PosttlsFingerView | null;
  /** This run's certificates by name: their fingerprints, for { "equalsObserved": "certificates.client.sha256" }. */
  readonly certificates: Readonly<Record<string, { readonly sha256: string; readonly spkiSha256: string }>>;
  /** TLS-RPT datagrams and log lines of this message (check key "tlsrpt"), or null. */
  readonly tlsrpt: TlsrptView | null;
  /** The resolver's answers and the policy host's fetches, or null in a scenario without MTA-STS nodes. */
  readonly sts: StsView | null;
}

const SENDER_TLS_SHAPE: Shape<SenderTls> = { trust: 'leaf', reused: 'leaf', protocol: 'leaf', cipher: 'leaf', bits: 'leaf', keyExchange: 'leaf', serverSignature: 'leaf', peer: 'leaf' };

export const DELIVERY_ATTEMPT_SHAPE: Shape<DeliveryAttempt> = {
  recipient: 'leaf',
  status: 'leaf',
  dsn: 'leaf',
  relay: 'leaf',
  reason: 'leaf',
  delay: 'leaf',
  tls: SENDER_TLS_SHAPE,
  verifyFailure: 'leaf',
  starttlsOfferNoted: 'leaf',
};

const QUEUE_SHAPE: Shape<QueueView> = { thisMessage: { queueName: 'leaf', recipients: { list: { address: 'leaf', delayReason: 'leaf' } } }, deferredCount: 'leaf' };

/** The observation's shape for a scenario whose receiving nodes are `peerNodes` (the peers key is per scenario). */
export function deliveryShape(peerNodes: readonly string[], certNames: readonly string[]): AnyShape {
  return {
    messageId: 'leaf',
    queueId: 'leaf',
    via: 'leaf',
    deliveries: { list: DELIVERY_ATTEMPT_SHAPE },
    retry: { deliveries: { list: DELIVERY_ATTEMPT_SHAPE } },
    peers: Object.fromEntries(peerNodes.map((n) => [n, PEER_RECORD_SHAPE as AnyShape])),
    queue: QUEUE_SHAPE,
    endToEndMs: 'leaf',
    dns: { list: { name: 'leaf', type: 'leaf', status: 'leaf', ad: 'leaf', ede: { code: 'leaf', text: 'leaf' }, answers: 'list' } satisfies Shape<DnsLookupView> },
    posttlsFinger: { destination: 'leaf', level: 'leaf', exitCode: 'leaf', trust: 'leaf', protocol: 'leaf', cipher: 'leaf', matched: 'leaf', verifyFailure: 'leaf', lines: 'list' } satisfies Shape<PosttlsFingerView>,
    certificates: Object.fromEntries(certNames.map((n) => [n, { sha256: 'leaf', spkiSha256: 'leaf' } as AnyShape])),
    tlsrpt: {
      datagrams: {
        list: {
          domain: 'leaf', reportRecord: 'leaf', policyType: 'leaf', policyDomain: 'leaf', policyStrings: 'list', mxHostPatterns: 'list', result: 'leaf', failureCount: 'leaf', failureType: 'leaf', raw: 'leaf', problem: 'leaf',
          failures: { list: { resultType: 'leaf', sendingMtaIp: 'leaf', receivingMxHostname: 'leaf', receivingMxHelo: 'leaf', receivingIp: 'leaf', additionalInformation: 'leaf', failureReasonCode: 'leaf' } },
        } satisfies Shape<TlsrptDatagramView>,
      },
      log: { list: { status: 'leaf', domain: 'leaf', receivingMx: 'leaf', failureType: 'leaf', failureReason: 'leaf' } satisfies Shape<TlsrptLogView> },
    },
    sts: {
      answers: { list: { map: 'leaf', domain: 'leaf', answer: 'leaf' } satisfies Shape<ResolverAnswer> },
      fetches: { list: { host: 'leaf', sni: 'leaf', path: 'leaf', status: 'leaf' } satisfies Shape<PolicyFetch> },
      resolverLog: 'list',
    },
  };
}
