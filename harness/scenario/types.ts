import type { StackName } from '../core/stacks.js';
import type { KeySpec, LeafSpec } from '../certs/lab-pki.js';
import type { CheckSpec } from '../checks/kinds/specs.js';
import type { SmtpPeerSpec } from '../peer/peer-spec.js';
import type { DnsSpec } from '../dns/dns-spec.js';
import type { EximSpec, OpensmtpdSpec } from '../interop/mta-spec.js';
import type { StsPolicySpec } from '../sts/policy-spec.js';

/** Kinds of lab node a scenario's topology can hold (the DANE lab adds more). */
export type LabNodeKind = 'postfix' | 'client' | 'smtp-peer' | 'dns' | 'exim' | 'opensmtpd' | 'sts-policy' | 'sts-resolver';

/** A Postfix node's own files, for every Postfix of a scenario but the one under test (which uses the scenario's "postfix" block). */
export interface NodePostfixFiles {
  readonly mainCf: { readonly file: string; readonly text: string };
  readonly masterCf: { readonly file: string; readonly text: string } | null;
  readonly maps: readonly MapSpec[];
}

/** One container of a scenario's lab, on the scenario's own internal network. */
export interface LabNodeSpec {
  /** Unique in the scenario: 'mx', 'client' … */
  readonly name: string;
  readonly kind: LabNodeKind;
  /** Names the other nodes resolve to this node's address, without DNS. */
  readonly hostnames: readonly string[];
  /** The node's address is <scenario subnet>.<hostNumber> (10–250); a node that runs on the host (smtp-peer) is at the gateway, .1. */
  readonly hostNumber: number;
  /** Nodes started before this one. */
  readonly dependsOn: readonly string[];
  /** Started on first use (the openssl client container is). */
  readonly lazy: boolean;
  /** A Postfix node's own files; null for the scenario's Postfix under test (the top-level "postfix" block). */
  readonly postfix?: NodePostfixFiles | null;
  /** A capturing peer's settings (kind smtp-peer). */
  readonly peer?: SmtpPeerSpec | null;
  /** An interop receiving MX's settings (kinds exim and opensmtpd; harness/interop/mta-spec.ts). */
  readonly exim?: EximSpec | null;
  readonly opensmtpd?: OpensmtpdSpec | null;
  /** An MTA-STS policy host's sites (kind sts-policy; harness/sts/policy-spec.ts). */
  readonly sts?: StsPolicySpec | null;
}

/** The topology every scenario has unless its file says otherwise: one Postfix and the lab client container. */
export const DEFAULT_NODES: readonly LabNodeSpec[] = [
  { name: 'mx', kind: 'postfix', hostnames: ['mx.lab.test'], hostNumber: 10, dependsOn: [], lazy: false },
  { name: 'client', kind: 'client', hostnames: ['client.lab.test'], hostNumber: 20, dependsOn: ['mx'], lazy: true },
];

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
   * The stacks the scenario needs (a feature older stacks lack); empty: any stack. The default
   * run runs it on the first one named; `--stack` runs it on those of the run's stacks it names.
   * (Optional so that a scenario built in code, as `check` builds one, need not say.)
   */
  readonly stacks?: readonly StackName[];
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
  /** The lab DNS zones (served by the scenario's dns node), or null for a lab without DNS. */
  readonly dns?: DnsSpec | null;
  /** The lab nodes to start (DEFAULT_NODES unless scenario.json has "nodes"). */
  readonly nodes: readonly LabNodeSpec[];
  /**
   * Postfix warnings the scenario expects (regular expressions over the warning text), such as
   * a misspelt parameter it teaches; any other warning is reported as a finding.
   */
  readonly expectedWarnings: readonly string[];
  readonly checks: readonly CheckSpec[];
  readonly breakIt: readonly BreakItSpec[];
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

export type { ClientSpec, ClientTlsSpec } from '../checks/kinds/client-handshake/spec.js';
export type { CheckSpec } from '../checks/kinds/specs.js';

/**
 * A "break it" exercise as data: one change to the scenario's files, and exactly the checks
 * it must make fail (every other check must still pass). A test applies each one to real
 * Postfix, so what the README tells a learner is shown, not claimed.
 */
export interface BreakItSpec {
  readonly title: string;
  /** main.cf: parameters set (replacing every earlier line of the same name) and parameters removed. */
  readonly mainCf: { readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] } | null;
  /** master.cf: -o overrides set or removed on one service entry (the lab base's entry when the scenario has none). */
  readonly masterCf: { readonly service: string; readonly set: Readonly<Record<string, string>>; readonly remove: readonly string[] } | null;
  /** Literal text replacements in a scenario file (main.cf, master.cf or a map), applied in order. */
  readonly replace: readonly { readonly file: string; readonly find: string; readonly with: string }[];
  /** The ids of the checks this change must make fail. */
  readonly fails: readonly string[];
}
