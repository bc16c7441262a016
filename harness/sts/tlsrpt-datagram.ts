/**
 * Decodes what libtlsrpt (0.5.0rc1 on trixie) sends per delivery request: one datagram of JSON.
 * The decoder keeps what a report needs (RFC 8460 section 4): the policy type, policy domain,
 * result, and the failure details, and the raw text for everything else.
 */

export interface TlsrptFailureView {
  /** RFC 8460 result-type, from libtlsrpt's code ("c": 205 → "validation-failure"). */
  readonly resultType: string | null;
  readonly sendingMtaIp: string | null;
  readonly receivingMxHostname: string | null;
  readonly receivingMxHelo: string | null;
  readonly receivingIp: string | null;
  readonly additionalInformation: string | null;
  readonly failureReasonCode: string | null;
}

export interface TlsrptDatagramView {
  /** The reporting domain ("d"): the recipient domain the delivery request was for. */
  readonly domain: string | null;
  /** The domain's TLS-RPT record as Postfix found it ("pr": the _smtp._tls TXT), or null. */
  readonly reportRecord: string | null;
  /** The policy's type as RFC 8460 names it ("policy-type": 1 tlsa, 2 sts, 9 no-policy-found). */
  readonly policyType: string | null;
  readonly policyDomain: string | null;
  readonly policyStrings: readonly string[];
  readonly mxHostPatterns: readonly string[];
  /** "success" or "failure", from the policy's final result ("f": 0 or 1). */
  readonly result: string | null;
  /** The number of failures libtlsrpt counted ("t"). */
  readonly failureCount: number | null;
  /** The first failure's result type, or null on success. */
  readonly failureType: string | null;
  readonly failures: readonly TlsrptFailureView[];
  /** The datagram as text (UTF-8), exactly as received. */
  readonly raw: string;
  /** null when the datagram was read; otherwise why it could not be. */
  readonly problem: string | null;
}

type Json = Record<string, unknown>;
const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(str).filter((x): x is string => x !== null) : []);

/** libtlsrpt's numeric codes (tlsrpt.h: tlsrpt_policy_type_t, tlsrpt_failure_t) and RFC 8460's names for them. */
export const POLICY_TYPES: Readonly<Record<string, string>> = { '1': 'tlsa', '2': 'sts', '9': 'no-policy-found' };
export const FAILURE_TYPES: Readonly<Record<string, string>> = {
  '201': 'starttls-not-supported',
  '202': 'certificate-host-mismatch',
  '203': 'certificate-not-trusted',
  '204': 'certificate-expired',
  '205': 'validation-failure',
  '301': 'sts-policy-fetch-error',
  '302': 'sts-policy-invalid',
  '303': 'sts-webpki-invalid',
  '304': 'tlsa-invalid',
  '305': 'dnssec-invalid',
  '306': 'dane-required',
};

const unreadable = (raw: string, problem: string): TlsrptDatagramView =>
  Object.freeze({ domain: null, reportRecord: null, policyType: null, policyDomain: null, policyStrings: [], mxHostPatterns: [], result: null, failureCount: null, failureType: null, failures: [], raw, problem });

/**
 * One datagram as libtlsrpt writes it (library/src/libtlsrpt.c):
 * {"d": DOMAIN, "pr": RECORD, "policies": [{"policy-type": N, "policy-domain": D, "policy-string": [...],
 *  "mx-host": [...], "failure-details": [{"c": CODE, "s": IP, "n": MX, "h": HELO, "r": IP, "a": INFO, "f": REASON}], "t": COUNT, "f": FINAL}]}
 * Postfix sends one policy per delivery request; a second one is kept in `raw` only.
 */
export function decodeTlsrptDatagram(bytes: Buffer): TlsrptDatagramView {
  const raw = bytes.toString('utf8');
  let j: Json;
  try {
    j = JSON.parse(raw) as Json;
  } catch (err) {
    return unreadable(raw, `not JSON: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || !Array.isArray(j.policies) || j.policies.length === 0) return unreadable(raw, 'no "policies" list');
  const p = j.policies[0] as Json;
  const type = str(p['policy-type']);
  const failures = (Array.isArray(p['failure-details']) ? (p['failure-details'] as Json[]) : []).map((f) => {
    const code = str(f.c);
    return Object.freeze({
      resultType: code === null ? null : (FAILURE_TYPES[code] ?? `code-${code}`),
      sendingMtaIp: str(f.s),
      receivingMxHostname: str(f.n),
      receivingMxHelo: str(f.h),
      receivingIp: str(f.r),
      additionalInformation: str(f.a),
      failureReasonCode: str(f.f),
    });
  });
  const final = str(p.f);
  return Object.freeze({
    domain: str(j.d),
    reportRecord: str(j.pr),
    policyType: type === null ? null : (POLICY_TYPES[type] ?? `type-${type}`),
    policyDomain: str(p['policy-domain']),
    policyStrings: Object.freeze(strs(p['policy-string'])),
    mxHostPatterns: Object.freeze(strs(p['mx-host'])),
    result: final === '0' ? 'success' : final === '1' ? 'failure' : final,
    failureCount: typeof p.t === 'number' ? p.t : null,
    failureType: failures[0]?.resultType ?? null,
    failures: Object.freeze(failures),
    raw,
    problem: null,
  });
}
