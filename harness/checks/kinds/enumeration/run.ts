import { byCode, type ProbeVersion } from '../../../enum/cipher-suites.js';
import { featureFailure } from '../../../enum/probe-result.js';
import type { CheckRunner } from '../runner.js';
import type { EnumerationCheck } from './spec.js';

export const suiteName = (code: number) => byCode(code)?.openssl ?? byCode(code)?.iana ?? `0x${code.toString(16).padStart(4, '0')}`;

/** Compare the accepted suite set `probe` found (once per scenario and service) with the scenario's expected set. */
export const runEnumeration: CheckRunner<EnumerationCheck> = async (session, check, out) => {
  const e = check.enumerate;
  const result = await session.enumeration(check.service);
  const version = e.protocol as ProbeVersion;
  const unfinished = featureFailure(result, 'suites', version); // a list cut short is no verdict
  if (unfinished) throw unfinished;
  const accepted = new Set(result.ciphersByProtocol[version].map((s) => s.code));
  if (e.accepted) {
    const want = new Set(e.accepted);
    const missing = [...want].filter((c) => !accepted.has(c)).map(suiteName);
    const extra = [...accepted].filter((c) => !want.has(c)).map(suiteName);
    out.assertions.push({ subject: 'enumeration', path: `${version} accepted suites`, expected: [...want].map(suiteName).sort(), observed: [...accepted].map(suiteName).sort(), ok: missing.length === 0 && extra.length === 0 });
    if (missing.length) out.assertions.push({ subject: 'enumeration', path: `${version} expected but refused`, expected: [], observed: missing, ok: false });
    if (extra.length) out.assertions.push({ subject: 'enumeration', path: `${version} accepted but not expected`, expected: [], observed: extra, ok: false });
  }
  for (const c of e.refused) out.assertions.push({ subject: 'enumeration', path: `${version} refuses ${suiteName(c)}`, expected: 'refused', observed: accepted.has(c) ? 'accepted' : 'refused', ok: !accepted.has(c) });
  out.tlsSurface.enumeration = { protocol: version, accepted: result.ciphersByProtocol[version].map((s) => s.openssl ?? s.iana), order: result.order[version], connections: result.connections };
};
