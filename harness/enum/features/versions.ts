import { PROBE_VERSIONS, type ProbeVersion, versionRank } from '../cipher-suites.js';
import type { FeatureLog } from '../feature-log.js';
import { describeAnswer, LEGACY_VERSIONS } from '../prober.js';
import type { FinishedAnswer, ServerHelloAnswer } from '../server-answer.js';
import { acceptedAt, type FirstAnswer } from './suites.js';

/**
 * Protocol versions: the first answer of each version's suite chain. A version whose first
 * hello failed is unknown (null), never "refused"; the features that depend on which
 * versions exist say when an unknown version could change their answer.
 */

export interface VersionFacts {
  readonly firstOf: ReadonlyMap<ProbeVersion, FinishedAnswer>;
  /** Versions the server accepted, lowest first. */
  readonly accepted: readonly ProbeVersion[];
  /** Versions whose first hello failed. */
  readonly unknown: readonly ProbeVersion[];
  /** The highest accepted version up to TLS 1.2, with its first ServerHello. */
  readonly legacyTop: { readonly version: ProbeVersion; readonly first: ServerHelloAnswer } | null;
  /** An unknown version up to TLS 1.2 ranking above legacyTop (so legacyTop may not be the top), or null. */
  readonly legacyTopUncertainBecause: ProbeVersion | null;
}

export function versionFacts(firsts: ReadonlyMap<ProbeVersion, FirstAnswer>, log: FeatureLog): VersionFacts {
  const firstOf = new Map<ProbeVersion, FinishedAnswer>();
  const unknown: ProbeVersion[] = [];
  for (const v of PROBE_VERSIONS) {
    const f = firsts.get(v)!;
    if (f.answer) firstOf.set(v, f.answer);
    else {
      unknown.push(v);
      log.fail('protocols', f.error, v);
    }
  }
  if (unknown.length === 0) log.ok('protocols');
  const accepted = PROBE_VERSIONS.filter((v) => acceptedAt(firstOf.get(v) ?? null, v));
  const top = [...LEGACY_VERSIONS].reverse().find((v) => accepted.includes(v)) ?? null;
  const rank = top ? versionRank(top) : -1;
  const uncertain = [...LEGACY_VERSIONS].reverse().find((v) => unknown.includes(v) && versionRank(v) > rank) ?? null;
  return {
    firstOf,
    accepted,
    unknown,
    legacyTop: top ? { version: top, first: firstOf.get(top) as ServerHelloAnswer } : null,
    legacyTopUncertainBecause: uncertain,
  };
}

/** An unknown version ranking above `v` (any unknown version when v is null), or null. */
export function unknownAbove(facts: VersionFacts, v: ProbeVersion | null): ProbeVersion | null {
  const rank = v ? versionRank(v) : -1;
  return facts.unknown.find((u) => versionRank(u) > rank) ?? null;
}

export function protocolsOf(facts: VersionFacts): Record<ProbeVersion, boolean | null> {
  return Object.fromEntries(PROBE_VERSIONS.map((v) => [v, facts.unknown.includes(v) ? null : facts.accepted.includes(v)])) as Record<ProbeVersion, boolean | null>;
}

export function protocolAnswersOf(facts: VersionFacts, log: FeatureLog): Record<ProbeVersion, string> {
  return Object.fromEntries(
    PROBE_VERSIONS.map((v) => {
      const a = facts.firstOf.get(v);
      if (a) return [v, describeAnswer(a, v)];
      const e = log.errorsOf('protocols').find((x) => x.version === v);
      return [v, `not determined (${e ? `${e.code}${e.stage ? ` at ${e.stage}` : ''}: ${e.message}` : 'no answer'})`];
    }),
  ) as Record<ProbeVersion, string>;
}
