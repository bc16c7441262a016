import type { KeySpec, LeafSpec } from '../certs/lab-pki.js';
import type { ClientName, TlsMode } from '../tls/observation.js';
import type { PostfixLogEventType } from '../postfix/log-parser.js';
import type { Matcher } from '../checks/matchers.js';

/** A scenario as loaded from scenarios/<id>/scenario.json and the files it names. Data only. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly dir: string;
  readonly file: string;
  /** Seed documents (../shared/seeds) whose settings the scenario exercises, by number. */
  readonly seeds: readonly string[];
  /**
   * The most the scenario may take, start and checks together. When it is spent, the running
   * check ends as an error (EDEADLINE) and the checks after it are not run; the scenario's
   * containers are removed and the run goes on with the other scenarios.
   */
  readonly timeoutSeconds: number;
  readonly mainCf: { readonly file: string; readonly text: string };
  readonly masterCf: { readonly file: string; readonly text: string } | null;
  readonly maps: readonly MapSpec[];
  readonly certificates: readonly CertificateSpec[];
  /** SASL users (user@realm) put into the container's sasldb with passwords generated per run. */
  readonly saslUsers: readonly string[];
  readonly checks: readonly CheckSpec[];
}

export interface MapSpec {
  readonly name: string;
  readonly file: string;
  /** The map source; `{{sha256:NAME}}` stands for the SHA-256 fingerprint of this run's certificate NAME. */
  readonly text: string;
  readonly postmap: string | null;
  readonly fileContents: boolean;
}

export interface CertificateSpec extends LeafSpec {
  readonly name: string;
  readonly key: KeySpec;
}

export interface ClientTlsSpec {
  readonly minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  readonly ciphers?: string;
  readonly ciphersuites?: string;
  readonly groups?: string;
  readonly securityLevel?: 0 | 1 | 2 | 3;
  readonly servername?: string;
  /** 'lab' trusts the lab CAs; 'system' uses the system roots (which know no lab CA). */
  readonly trust?: 'lab' | 'system';
  readonly verifyName?: string;
  /** Name of a scenario certificate to present as the client certificate. */
  readonly clientCertificate?: string;
}

export interface ClientSpec {
  readonly mode?: TlsMode;
  readonly ehloName?: string;
  readonly tls?: ClientTlsSpec;
  readonly forceStarttls?: boolean;
  readonly plaintextProbe?: string;
  readonly injectAfterStarttls?: string;
  readonly renegotiate?: boolean;
  readonly resume?: boolean;
  readonly stopAfter?: 'banner' | 'ehlo' | 'handshake';
  readonly message?: { readonly from: string; readonly to: readonly string[]; readonly subject: string; readonly body: string };
  /** 'valid' uses the password generated for the user this run; 'wrong' a different one. */
  readonly auth?: { readonly user: string; readonly password: 'valid' | 'wrong'; readonly mechanism: 'PLAIN' | 'LOGIN' };
  readonly timeouts?: { readonly connect?: number; readonly banner?: number; readonly reply?: number; readonly handshake?: number };
}

export interface CheckSpec {
  readonly id: string;
  readonly title: string;
  /** Why this check exists: the setting it shows and what a reader should learn. */
  readonly why: string;
  /** What the configuration says about this case, set beside what the server did in the report. */
  readonly configSays: string;
  /** master.cf service to connect to (smtp, submission, smtps). */
  readonly service: string;
  readonly clients: readonly ClientName[];
  readonly client: ClientSpec;
  /** Expectations on the TlsObservation, by path (e.g. "tls.protocol"). */
  readonly expect: Readonly<Record<string, Matcher>>;
  /** A Postfix log event of this connection of this type that meets every expectation must exist. */
  readonly serverLog: { readonly event: PostfixLogEventType; readonly expect: Readonly<Record<string, Matcher>> } | null;
  /** Events Postfix must have logged while starting (up to "daemon started"), e.g. postconf's "unused parameter". */
  readonly startupLog: readonly { readonly event: PostfixLogEventType; readonly expect: Readonly<Record<string, Matcher>> }[];
  /** Events Postfix must not have logged while starting. */
  readonly startupLogAbsent: readonly { readonly event: PostfixLogEventType; readonly expect: Readonly<Record<string, Matcher>> }[];
  /** How many log events of each type this connection produced (e.g. {"tls-dump": 0}). */
  readonly serverLogCounts: Readonly<Record<string, Matcher>> | null;
  /**
   * Enumerate the service with `probe` (once per scenario) and compare: `accepted` is the exact
   * set of suites expected for `protocol`, `refused` suites that must not be accepted.
   */
  readonly enumerate: { readonly protocol: string; readonly accepted: readonly number[] | null; readonly refused: readonly number[] } | null;
  /** Offer exactly these suites at this version in one hand-built ClientHello; `expect` then applies to the answer. */
  readonly offerOnly: { readonly version: string; readonly ciphers: readonly number[] } | null;
  /** Expectations on what Postfix did with the message (needs client.message): its delivery status and Received header. */
  readonly delivered: { readonly status: Matcher; readonly receivedHeader: Matcher | null } | null;
}
