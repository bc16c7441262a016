import { deepFreeze } from '../core/freeze.js';
import type { CertificateSummary } from './cert-summary.js';
import { PROBE_VERSIONS, type ProbeVersion } from './cipher-suites.js';
import type { FeatureLog } from './feature-log.js';
import type { OrderFinding } from './features/order.js';
import { suiteEntry, type ChainOutcome } from './features/suites.js';
import { protocolAnswersOf, protocolsOf, type VersionFacts } from './features/versions.js';
import { PROBE_SCHEMA, type GroupEntry, type ProbeFeatures, type ProbeResult, type ProbeScope, type StarttlsDialogue } from './probe-result.js';
import type { Prober } from './prober.js';
import type { ProbeTarget } from './starttls-transport.js';

/** What the features found, each already recorded in the feature log; assembled into one frozen ProbeResult. */
export interface ProbeFindings {
  readonly facts: VersionFacts;
  readonly chains: ReadonlyMap<ProbeVersion, ChainOutcome>;
  readonly orders: ReadonlyMap<ProbeVersion, OrderFinding | null>;
  readonly groups: readonly GroupEntry[];
  readonly groupsByProtocol: Partial<Record<ProbeVersion, readonly string[]>>;
  readonly dhe: { readonly bits: number; readonly allBits: readonly number[] } | null;
  readonly certificate: CertificateSummary | null;
  readonly features: ProbeFeatures;
  readonly starttls: StarttlsDialogue | null;
}

function perVersion<T>(f: (v: ProbeVersion) => T): Record<ProbeVersion, T> {
  return Object.fromEntries(PROBE_VERSIONS.map((v) => [v, f(v)])) as Record<ProbeVersion, T>;
}

export function assembleProbeResult(input: {
  readonly target: ProbeTarget;
  readonly address: string;
  readonly scope: ProbeScope;
  readonly startedAt: number;
  readonly prober: Prober;
  readonly log: FeatureLog;
  readonly findings: ProbeFindings;
}): ProbeResult {
  const { target, findings: f, prober: p, log } = input;
  const featureStatus = log.statuses();
  return deepFreeze({
    schema: PROBE_SCHEMA,
    target: { host: target.host, port: target.port, mode: target.mode, address: input.address },
    mode: target.mode,
    scope: input.scope,
    startedAt: new Date(input.startedAt).toISOString(),
    protocols: protocolsOf(f.facts),
    protocolAnswers: protocolAnswersOf(f.facts, log),
    ciphersByProtocol: perVersion((v) => (f.chains.get(v)?.picks ?? []).map(suiteEntry)),
    order: perVersion((v) => f.orders.get(v)?.order ?? null),
    orderEvidence: perVersion((v) => f.orders.get(v)?.evidence ?? (log.failedFor('order', v) ? 'not determined: see featureStatus.order' : null)),
    groups: f.groups,
    groupsByProtocol: f.groupsByProtocol,
    dhe: f.dhe,
    certificate: f.certificate,
    features: f.features,
    starttls: f.starttls,
    connections: p.connections,
    retries: p.retries,
    throttles: p.throttles,
    helloAttempts: p.helloAttempts,
    completeHandshakes: p.completeHandshakes,
    peakConcurrency: p.peak,
    durationMs: Date.now() - input.startedAt,
    warnings: [...p.warnings],
    featureStatus,
    complete: Object.values(featureStatus).every((s) => s.status !== 'failed'),
  });
}
