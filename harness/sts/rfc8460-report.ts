import type { TlsrptDatagramView } from './tlsrpt-datagram.js';

/**
 * An RFC 8460 (section 4) aggregate report built from the datagrams libtlsrpt sent: what a
 * tlsrpt-reportd would mail to the domain's rua, built here because Debian packages no
 * collector. One report per policy domain; sessions are grouped by policy (type, domain,
 * strings, mx patterns) and failures by their details, as section 4.4 counts them.
 */
export interface Rfc8460Report {
  readonly 'organization-name': string;
  readonly 'date-range': { readonly 'start-datetime': string; readonly 'end-datetime': string };
  readonly 'contact-info': string;
  readonly 'report-id': string;
  readonly policies: readonly {
    readonly policy: { readonly 'policy-type': string; readonly 'policy-string'?: readonly string[]; readonly 'policy-domain': string; readonly 'mx-host'?: readonly string[] };
    readonly summary: { readonly 'total-successful-session-count': number; readonly 'total-failure-session-count': number };
    readonly 'failure-details'?: readonly Record<string, string | number>[];
  }[];
}

export function rfc8460Reports(datagrams: readonly TlsrptDatagramView[], range: { start: Date; end: Date }, reportId: (domain: string) => string): Rfc8460Report[] {
  const byDomain = new Map<string, TlsrptDatagramView[]>();
  for (const d of datagrams) {
    if (d.problem !== null || d.domain === null) continue;
    byDomain.set(d.domain, [...(byDomain.get(d.domain) ?? []), d]);
  }
  return [...byDomain.entries()].map(([domain, list]) => {
    const groups = new Map<string, TlsrptDatagramView[]>();
    for (const d of list) {
      const key = JSON.stringify([d.policyType, d.policyDomain, d.policyStrings, d.mxHostPatterns]);
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const policies = [...groups.values()].map((g) => {
      const first = g[0]!;
      const failures = new Map<string, { detail: Record<string, string>; count: number }>();
      for (const d of g)
        for (const f of d.failures) {
          const detail: Record<string, string> = {};
          if (f.resultType) detail['result-type'] = f.resultType;
          if (f.sendingMtaIp) detail['sending-mta-ip'] = f.sendingMtaIp;
          if (f.receivingMxHostname) detail['receiving-mx-hostname'] = f.receivingMxHostname;
          if (f.receivingMxHelo) detail['receiving-mx-helo'] = f.receivingMxHelo;
          if (f.receivingIp) detail['receiving-ip'] = f.receivingIp;
          if (f.additionalInformation) detail['additional-information'] = f.additionalInformation;
          if (f.failureReasonCode) detail['failure-reason-code'] = f.failureReasonCode;
          const k = JSON.stringify(detail);
          failures.set(k, { detail, count: (failures.get(k)?.count ?? 0) + 1 });
        }
      return {
        policy: {
          'policy-type': first.policyType ?? 'no-policy-found',
          ...(first.policyStrings.length ? { 'policy-string': first.policyStrings } : {}),
          'policy-domain': first.policyDomain ?? domain,
          ...(first.mxHostPatterns.length ? { 'mx-host': first.mxHostPatterns } : {}),
        },
        summary: { 'total-successful-session-count': g.filter((d) => d.result === 'success').length, 'total-failure-session-count': g.filter((d) => d.result === 'failure').length },
        ...(failures.size ? { 'failure-details': [...failures.values()].map((f) => ({ ...f.detail, 'failed-session-count': f.count })) } : {}),
      };
    });
    return {
      'organization-name': 'smtp-tls-lab',
      'date-range': { 'start-datetime': range.start.toISOString().replace(/\.\d{3}Z$/, 'Z'), 'end-datetime': range.end.toISOString().replace(/\.\d{3}Z$/, 'Z') },
      'contact-info': 'tlsrpt@lab.test',
      'report-id': reportId(domain),
      policies,
    };
  });
}
