import { groupByCode, keyExchangeOf, type ProbeVersion, suitesFor, versionRank } from '../cipher-suites.js';
import type { GroupEntry } from '../probe-result.js';
import { ALL_GROUPS, EC_GROUPS, groupName, type Prober, TLS13_CODES } from '../prober.js';
import type { ChainOutcome } from './suites.js';

/**
 * Key exchange groups, chained like suites: TLS 1.3 with an empty key_share (the
 * HelloRetryRequest names the server's pick), TLS <= 1.2 with only ECDHE suites (the
 * ServerKeyExchange names the curve); remove the pick, repeat. Seeded with what the cipher
 * chain already saw. DHE prime sizes come from the cipher chains' ServerKeyExchange.
 */

export async function groups13(p: Prober, seed: number | null): Promise<number[]> {
  const found = seed === null ? [] : [seed];
  for (let step = 0; step <= ALL_GROUPS.length; step++) {
    const remaining = ALL_GROUPS.filter((g) => !found.includes(g));
    if (remaining.length === 0) break;
    const a = await p.hello({ maxVersion: 'TLSv1.3', ciphers: TLS13_CODES, groups: remaining, keyShareGroups: [], ...p.sni() }, `TLSv1.3 groups, step ${step}`);
    if (a.kind !== 'server-hello' || a.version !== 'TLSv1.3') break;
    if (a.selectedGroup === null || !remaining.includes(a.selectedGroup)) {
      p.warnings.push(`TLSv1.3: the server's answer named group ${a.selectedGroup === null ? 'none' : groupName(a.selectedGroup)}, not one offered; group list stops there`);
      break;
    }
    found.push(a.selectedGroup);
  }
  return found;
}

export async function groupsLegacy(p: Prober, v: ProbeVersion, seed: number | null, certCurve: number | null): Promise<number[]> {
  const ecdhe = suitesFor(v).filter((c) => keyExchangeOf(c) === 'ecdhe');
  const found = seed === null ? [] : [seed];
  for (let step = 0; step <= EC_GROUPS.length; step++) {
    let remaining = EC_GROUPS.filter((g) => !found.includes(g));
    if (remaining.length === 0) break;
    // An ECDSA certificate's own curve must stay in supported_groups or the server cannot use the
    // certificate at all (RFC 8422 5.1); keep it last once it is found.
    const keepCert = certCurve !== null && found.includes(certCurve);
    if (keepCert) remaining = [...remaining, certCurve];
    const a = await p.hello({ maxVersion: v, ciphers: ecdhe, groups: remaining, ...p.sni() }, `${v} groups, step ${step}`);
    if (a.kind !== 'server-hello' || a.version !== v) break;
    const g = a.serverKeyExchange?.kind === 'ecdhe' ? a.serverKeyExchange.group : null;
    if (g === null) {
      p.warnings.push(`${v}: an ECDHE suite was picked but no named curve was seen in ServerKeyExchange; group list stops there`);
      break;
    }
    if (keepCert && g === certCurve) {
      p.warnings.push(
        `${v}: groups the server ranks below its certificate's curve ${groupName(certCurve)} cannot be enumerated (the curve must be offered for the ECDSA certificate to be usable): ${remaining
          .filter((x) => x !== certCurve)
          .map(groupName)
          .join(', ')} untested`,
      );
      break;
    }
    if (!remaining.includes(g) || found.includes(g)) {
      p.warnings.push(`${v}: the server picked curve ${groupName(g)}, which was not offered; group list stops there`);
      break;
    }
    found.push(g);
  }
  return found;
}

/** Groups: union over TLS 1.3 and the highest legacy version, with the versions each was seen with. */
export function groupEntries(byVersion: ReadonlyMap<ProbeVersion, readonly number[]>): { groups: GroupEntry[]; groupsByProtocol: Partial<Record<ProbeVersion, readonly string[]>> } {
  const groupVersions = new Map<number, ProbeVersion[]>();
  const groupsByProtocol: Partial<Record<ProbeVersion, readonly string[]>> = {};
  // TLS 1.3 first, as the probe always listed it.
  for (const [v, codes] of [...byVersion.entries()].sort(([a], [b]) => (a === 'TLSv1.3' ? -1 : b === 'TLSv1.3' ? 1 : versionRank(a) - versionRank(b)))) {
    groupsByProtocol[v] = codes.map(groupName);
    for (const g of codes) groupVersions.set(g, [...(groupVersions.get(g) ?? []), v]);
  }
  const groups: GroupEntry[] = [...groupVersions.entries()].map(([code, versions]) => {
    const g = groupByCode(code);
    return {
      code,
      name: groupName(code),
      iana: g?.iana ?? `unknown-${code}`,
      kind: g?.kind ?? 'ecdhe',
      bits: g?.bits ?? 0,
      protocols: [...versions].sort((a, b) => versionRank(a) - versionRank(b)),
    };
  });
  return { groups, groupsByProtocol };
}

/** DHE prime sizes seen in ServerKeyExchange over all accepted DHE suites; `bits` is the smallest. */
export function dheOf(chains: readonly ChainOutcome[]): { bits: number; allBits: number[] } | null {
  const dheBits = new Set<number>();
  for (const c of chains) for (const pk of c.picks) if (pk.answer.serverKeyExchange?.kind === 'dhe') dheBits.add(pk.answer.serverKeyExchange.primeBits);
  const allBits = [...dheBits].sort((a, b) => a - b);
  return allBits.length > 0 ? { bits: allBits[0]!, allBits } : null;
}
