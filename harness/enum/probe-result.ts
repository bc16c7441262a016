import { type ErrorCode, LabError, type Stage } from '../core/errors.js';
import type { SmtpReply } from '../tls/observation.js';
import type { CertificateSummary } from './cert-summary.js';
import type { GroupKind, ProbeVersion } from './cipher-suites.js';
import type { ProbeMode } from './starttls-transport.js';

/**
 * What `probe` found, as written by `smtp-tls-lab probe --json FILE`. The schema name changes
 * when a field changes meaning or disappears; new fields may be added within a version.
 *
 * @2 (from @1): each feature records its own outcome in `featureStatus` (ok, failed with its
 * errors, or not run and why), `complete` says whether every feature that ran succeeded, and
 * `protocols[v]` is null when the version's first hello failed (it was `false`, a lie).
 * A failed feature's fields are null (or, for a suite list cut short, what was found before
 * the failure, with the error under `featureStatus.suites`).
 *
 * Every key of `protocols`, `protocolAnswers`, `ciphersByProtocol`, `order` and `orderEvidence`
 * is present for all five versions (SSLv3, TLSv1, TLSv1.1, TLSv1.2, TLSv1.3), so consumers
 * never need to guess.
 */
export const PROBE_SCHEMA = 'smtp-tls-lab/probe@2';

/** The probe's features, each found (or not) on its own. */
export const PROBE_FEATURES = [
  'protocols',
  'suites',
  'order',
  'groups',
  'certificate',
  'renegotiation',
  'compression',
  'resumption',
  'extendedMasterSecret',
  'fallbackScsv',
  'starttls',
] as const;
export type ProbeFeatureName = (typeof PROBE_FEATURES)[number];

export interface ProbeFeatureError {
  readonly code: ErrorCode;
  readonly stage: Stage | null;
  readonly message: string;
  /** The version the failing attempt was for (per-version features: protocols, suites, order), else null. */
  readonly version: ProbeVersion | null;
}

export interface ProbeFeatureStatus {
  /** ok: found; failed: not (or only partly) found, see errors; not-run: not asked for or not applicable, see note. */
  readonly status: 'ok' | 'failed' | 'not-run';
  readonly errors: readonly ProbeFeatureError[];
  readonly note: string | null;
}

export type ProbeScope = 'full' | 'enumeration';

export interface SuiteEntry {
  /** IANA code. */
  readonly code: number;
  /** "0xC0,0x30", as OpenSSL prints it. */
  readonly hex: string;
  /** OpenSSL's name, or null for a suite the lab's OpenSSL does not know. */
  readonly openssl: string | null;
  readonly iana: string;
  /** Key exchange, authentication, encryption, MAC in OpenSSL's words, and symmetric key bits. */
  readonly kx: string;
  readonly au: string;
  readonly enc: string;
  readonly mac: string;
  readonly bits: number;
  /**
   * What the server used when it picked this suite in the enumeration: the ECDHE group, the
   * DHE prime size, or for TLS 1.3 the group its HelloRetryRequest asked for. null when the
   * suite has no ephemeral key exchange (or the flight was cut short).
   */
  readonly keyExchange: { readonly kind: 'ecdhe'; readonly group: string } | { readonly kind: 'dhe'; readonly bits: number } | { readonly kind: 'tls13'; readonly group: string } | null;
}

export interface GroupEntry {
  readonly code: number;
  /** OpenSSL's name where it has one (X25519, prime256v1, ffdhe2048 …), else the IANA name. */
  readonly name: string;
  readonly iana: string;
  /** 'hybrid' (X25519MLKEM768 …) and 'kem' (MLKEM768 …) are the post-quantum groups, TLS 1.3 only. */
  readonly kind: GroupKind;
  /** Key size (OpenSSL's bits); for hybrid and kem groups the ML-KEM security strength (128/192/256). */
  readonly bits: number;
  /** The versions the group was accepted with (TLS 1.3 and the highest accepted version up to TLS 1.2). */
  readonly protocols: readonly ProbeVersion[];
}

export interface ProbeFeatures {
  /** RFC 5746 renegotiation_info in the ServerHello (highest version up to TLS 1.2); null when only TLS 1.3 is spoken. */
  readonly secureRenegotiation: boolean | null;
  /** A client-initiated renegotiation on a completed TLS <= 1.2 handshake: accepted is a finding. */
  readonly clientRenegotiation: { readonly accepted: boolean; readonly detail: string } | null;
  /** The server chose DEFLATE when it was offered next to null compression (CRIME). */
  readonly compression: boolean | null;
  /** RFC 7627 extended_master_secret in the ServerHello. */
  readonly extendedMasterSecret: boolean | null;
  /** A hello below the highest version with TLS_FALLBACK_SCSV was refused with inappropriate_fallback (86). null: fewer than two versions, or scope 'enumeration'. */
  readonly fallbackScsv: boolean | null;
  /** The ServerHello answered the empty session_ticket extension. */
  readonly sessionTicketExtension: boolean | null;
  /** Resumption proven by a second node:tls handshake reusing the first one's session (isSessionReused()). */
  readonly sessionResumption: {
    readonly protocol: ProbeVersion | null;
    /** By session ID (RFC 5246); false without a handshake when the server sent an empty session ID. null in TLS 1.3. */
    readonly id: boolean | null;
    /** By ticket (RFC 5077 / TLS 1.3 PSK); false without a handshake when the server did not answer the extension. */
    readonly ticket: boolean | null;
    readonly detail: string;
  } | null;
}

export interface StarttlsDialogue {
  readonly banner: SmtpReply | null;
  /** EHLO keywords before TLS (STARTTLS mode) — null in implicit/plain mode. */
  readonly capabilitiesBefore: readonly string[] | null;
  /** EHLO keywords inside TLS; null when no complete handshake was made (scope 'enumeration', plain mode). */
  readonly capabilitiesAfter: readonly string[] | null;
  /** AUTH offered before TLS: credentials may be sent in clear (a finding). */
  readonly authBeforeTls: boolean | null;
  readonly authMechanismsBeforeTls: readonly string[];
}

export interface ProbeResult {
  readonly schema: typeof PROBE_SCHEMA;
  readonly target: { readonly host: string; readonly port: number; readonly mode: ProbeMode; readonly address: string };
  readonly mode: ProbeMode;
  readonly scope: ProbeScope;
  readonly startedAt: string;
  /** Accepted protocol versions (SSLv2 is not probed); null when the version's first hello failed (featureStatus.protocols says why). */
  readonly protocols: Readonly<Record<ProbeVersion, boolean | null>>;
  /** How each version was answered: "accepted", "alert 70 protocol_version", "answered TLSv1.2" … */
  readonly protocolAnswers: Readonly<Record<ProbeVersion, string>>;
  /** Accepted suites per version, in the order the server picked them (its preference order when `order` is "server"). */
  readonly ciphersByProtocol: Readonly<Record<ProbeVersion, readonly SuiteEntry[]>>;
  readonly order: Readonly<Record<ProbeVersion, 'server' | 'client' | null>>;
  /** How `order` was decided, per version. */
  readonly orderEvidence: Readonly<Record<ProbeVersion, string | null>>;
  /** Groups the server accepted for key exchange (union over versions). */
  readonly groups: readonly GroupEntry[];
  /** Group names per version in the order the server picked them; only versions whose groups were enumerated appear. */
  readonly groupsByProtocol: Readonly<Partial<Record<ProbeVersion, readonly string[]>>>;
  /**
   * DHE prime sizes seen in ServerKeyExchange over all accepted DHE suites: `bits` is the
   * smallest (the weakest a client can be given; OpenSSL's automatic DH sizes vary by suite).
   * null when no DHE suite was accepted.
   */
  readonly dhe: { readonly bits: number; readonly allBits: readonly number[] } | null;
  readonly certificate: CertificateSummary | null;
  readonly features: ProbeFeatures;
  /** The plaintext SMTP dialogue (STARTTLS) or the one inside TLS (implicit); null for plain TLS. */
  readonly starttls: StarttlsDialogue | null;
  /** TCP connections the probe opened, including ones refused or reset (each is one SMTP setup + one handshake attempt, or one node:tls handshake). */
  readonly connections: number;
  /** Attempts repeated after a transient failure (421, refused/reset connection, a close without an answer). */
  readonly retries: number;
  /** SMTP 421 replies and refused/reset connections seen. */
  readonly throttles: number;
  /** Hand-built ClientHellos answered (the enumeration's handshake attempts). */
  readonly helloAttempts: number;
  /** Complete node:tls handshakes. */
  readonly completeHandshakes: number;
  /** Most connections open at once. */
  readonly peakConcurrency: number;
  readonly durationMs: number;
  /** Things the probe could not decide or that looked odd; server text in them is raw (JSON escapes it). */
  readonly warnings: readonly string[];
  /** Each feature's own outcome: one that failed (a timeout, say) has its error here and loses no other finding. */
  readonly featureStatus: Readonly<Record<ProbeFeatureName, ProbeFeatureStatus>>;
  /** No feature failed (features not run, such as those outside scope 'enumeration', do not count). */
  readonly complete: boolean;
}

/**
 * The error a feature recorded (for a version, when given), or null when it did not fail.
 * Whoever judges a finding (a check comparing the accepted suites) must not judge a list the
 * probe could not finish: the error is ETOOL (the check's tool gave no answer, so the check is
 * inconclusive), with the feature's own code and stage in the message.
 */
export function featureFailure(r: ProbeResult, feature: ProbeFeatureName, version?: ProbeVersion): LabError | null {
  const e = r.featureStatus[feature].errors.find((x) => version === undefined || x.version === null || x.version === version);
  if (!e) return null;
  const where = `${e.code}${e.stage ? ` at ${e.stage}` : ''}`;
  return new LabError('EINCOMPLETE', `probe could not determine ${feature}${e.version ? ` for ${e.version}` : ''} (${where}): ${e.message}`, { stage: e.stage });
}
