import { byIanaName, byOpenSslName } from '../../../enum/cipher-suites.js';
import type { Reader } from '../../../scenario/validate.js';
import type { CheckCommon, CheckKindSpec } from '../spec-common.js';

export const PROBE_VERSIONS = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type ProbeVersionName = (typeof PROBE_VERSIONS)[number];

/** The service's accepted suites for one protocol, from `probe` (once per scenario and service), against an expected set. */
export interface EnumerationCheck extends CheckCommon {
  readonly kind: 'enumeration';
  readonly enumerate: {
    readonly protocol: ProbeVersionName;
    /** The exact set of suites expected for `protocol`, or null when only `refused` is checked. */
    readonly accepted: readonly number[] | null;
    /** Suites that must not be accepted. */
    readonly refused: readonly number[];
  };
}

/** Cipher suite names, OpenSSL's or IANA's, as their code points; an unknown name is refused with the way to list them. */
export function readSuiteList(l: Reader): number[] {
  return l.list().map((x) => {
    const name = x.string();
    const suite = byOpenSslName(name) ?? byIanaName(name);
    return suite?.code ?? x.fail('a cipher suite name OpenSSL or IANA knows (e.g. ECDHE-RSA-AES128-GCM-SHA256 or TLS_AES_128_GCM_SHA256)', 'fix the name; `openssl ciphers -V -stdname ALL` lists them');
  });
}

export const enumerationSpec: CheckKindSpec<EnumerationCheck> = {
  kind: 'enumeration',
  keys: ['enumerate'],
  inferredFrom: ['enumerate'],
  read(r, common) {
    const e = r.field('enumerate').object(['protocol', 'accepted', 'refused']);
    const enumerate = {
      protocol: e.field('protocol').oneOf(PROBE_VERSIONS),
      accepted: e.has('accepted') ? readSuiteList(e.field('accepted')) : null,
      refused: e.has('refused') ? readSuiteList(e.field('refused')) : [],
    };
    if (enumerate.accepted === null && enumerate.refused.length === 0) e.fail('"accepted" (the exact expected set) or a non-empty "refused"', 'an enumeration that expects nothing can never fail');
    return { ...common, kind: 'enumeration', enumerate };
  },
};
