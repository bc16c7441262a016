import { asLabError, LabError } from '../core/errors.js';
import type { CertificateSummary } from './cert-summary.js';
import { PROBE_VERSIONS, type ProbeVersion, versionRank } from './cipher-suites.js';
import { FeatureLog } from './feature-log.js';
import { certificateCurve, certificateFromHandshake, certificateFromMessages } from './features/certificate.js';
import { compressionChosen } from './features/compression.js';
import { extendedMasterSecret } from './features/extended-master-secret.js';
import { fallbackScsv } from './features/fallback-scsv.js';
import { type FeatureHandshake, featureHandshake, handshakeOptions } from './features/feature-handshake.js';
import { dheOf, groupEntries, groups13, groupsLegacy } from './features/groups.js';
import { decideOrder, type OrderFinding } from './features/order.js';
import { idResumption, type ResumptionPart, ticketResumption } from './features/resumption.js';
import { secureRenegotiation } from './features/renegotiation.js';
import { starttlsDialogue } from './features/starttls-dialogue.js';
import { type ChainOutcome, startSuiteChain } from './features/suites.js';
import { unknownAbove, versionFacts } from './features/versions.js';
import { assembleProbeResult, type ProbeFindings } from './probe-assembly.js';
import { type ProbeOptions, resolveOnce, resolveProbeOptions, validateProbeRequest } from './probe-options.js';
import type { ProbeFeatureName, ProbeFeatures, ProbeResult } from './probe-result.js';
import { LEGACY_VERSIONS, NODE_VERSION, Prober } from './prober.js';
import type { ServerHelloAnswer } from './server-answer.js';
import type { ProbeTarget } from './starttls-transport.js';

export type { ProbeTarget, ProbeMode, ProbeTimeouts } from './starttls-transport.js';
export type { ProbeResult } from './probe-result.js';
export { DEFAULT_CONCURRENCY, DEFAULT_EHLO_NAME, type ProbeOptions } from './probe-options.js';
export { describeAnswer } from './prober.js';

/**
 * The enumeration engine behind `smtp-tls-lab probe`.
 *
 * Every handshake attempt is its own TCP connection and SMTP setup, run through the prober's
 * bounded, throttle-aware pool. Enumeration never completes a handshake: a hand-built
 * ClientHello goes out, the ServerHello (or alert) comes back, the connection is dropped.
 * Suite chains per version (features/suites.ts) run concurrently; what depends on which
 * versions exist (groups, fallback SCSV, the hello flags, the feature handshake) starts when
 * every version's first answer is known. Only the features that need it complete a real
 * handshake with node:tls.
 *
 * Each feature records its own success or error in the feature log; one that fails (a
 * timeout, say) loses no other finding. The probe as a whole fails only when the endpoint
 * cannot be probed at all (nothing listens, not SMTP, no STARTTLS, not TLS) or when not one
 * attempt got a TLS answer.
 */
export async function probe(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  validateProbeRequest(target, opts);
  const options = resolveProbeOptions(opts);
  const startedAt = Date.now();
  const address = await resolveOnce(target.host, options.timeouts.connect);
  const p = new Prober({ host: address, port: target.port, mode: target.mode }, options);
  const log = new FeatureLog();
  // The deadline is not fatal: what is still running fails with it, what was found is kept.
  const deadline = setTimeout(() => p.stop(new LabError('ETIMEOUT', `timeout 'probe total' expired after ${options.deadlineMs} ms`), false), options.deadlineMs);
  deadline.unref?.();
  try {
    const findings = await findAll(p, log, target);
    if (p.fatal) throw p.fatal;
    if (!p.reached) throw p.firstError ?? new LabError('EINTERNAL', 'the probe ended without an answer and without an error');
    return assembleProbeResult({ target, address, scope: options.scope, startedAt, prober: p, log, findings });
  } finally {
    clearTimeout(deadline);
  }
}

/** A feature's promise that never rejects: its error goes to the log, its value is null. */
async function recorded<T>(log: FeatureLog, feature: ProbeFeatureName, work: () => Promise<T>, version: ProbeVersion | null = null): Promise<T | null> {
  try {
    return await work();
  } catch (e) {
    log.fail(feature, e, version);
    return null;
  }
}

async function findAll(p: Prober, log: FeatureLog, target: ProbeTarget): Promise<ProbeFindings> {
  const full = p.options.scope === 'full';
  const chains = new Map(PROBE_VERSIONS.map((v) => [v, startSuiteChain(p, v)] as const));

  // Suites and order per version, as each chain ends.
  const orderRuns = PROBE_VERSIONS.map(async (v): Promise<[ProbeVersion, ChainOutcome, OrderFinding | null]> => {
    const c = await chains.get(v)!.done;
    if (c.first.error) {
      log.failBecause('suites', 'protocols', v, '', c.first.error);
      log.failBecause('order', 'protocols', v, '', c.first.error);
      return [v, c, null];
    }
    if (c.error) {
      log.fail('suites', c.error, v);
      log.failBecause('order', 'suites', v, '', c.error);
      return [v, c, null];
    }
    return [v, c, await recorded(log, 'order', () => decideOrder(p, c), v)];
  });

  // Which versions exist decides the rest.
  const firsts = new Map(await Promise.all(PROBE_VERSIONS.map(async (v) => [v, await chains.get(v)!.first] as const)));
  const facts = versionFacts(firsts, log);
  const top = facts.legacyTop;
  const topUncertain = facts.legacyTopUncertainBecause;
  const topFirst = topUncertain ? null : (top?.first ?? null);

  // Groups: TLS 1.3 and the highest legacy version (SSLv3 has no named curves).
  const groupRuns: Promise<[ProbeVersion, number[] | null]>[] = [];
  if (facts.unknown.includes('TLSv1.3')) log.failBecause('groups', 'protocols', 'TLSv1.3', 'TLS 1.3 groups');
  else if (facts.accepted.includes('TLSv1.3')) {
    const seed = (facts.firstOf.get('TLSv1.3') as ServerHelloAnswer).selectedGroup;
    groupRuns.push(recorded(log, 'groups', () => groups13(p, seed), 'TLSv1.3').then((g) => ['TLSv1.3', g]));
  }
  if (topUncertain) log.failBecause('groups', 'protocols', topUncertain, 'groups up to TLS 1.2');
  else if (top && top.version !== 'SSLv3') {
    const seed = top.first.serverKeyExchange?.kind === 'ecdhe' ? top.first.serverKeyExchange.group : null;
    const curve = certificateCurve(top.first.certificates?.[0]);
    groupRuns.push(recorded(log, 'groups', () => groupsLegacy(p, top.version, seed, curve), top.version).then((g) => [top.version, g]));
  }

  // Fallback SCSV: only meaningful with two versions; offer the second highest.
  let fallbackRun: Promise<boolean | null> = Promise.resolve(null);
  const below = [...facts.accepted].sort((a, b) => versionRank(b) - versionRank(a))[1] ?? null;
  const unknownForFallback = unknownAbove(facts, below);
  if (!full) log.notRun('fallbackScsv', 'scope enumeration');
  else if (unknownForFallback) log.failBecause('fallbackScsv', 'protocols', unknownForFallback, 'which two versions are the highest');
  else if (!below) log.notRun('fallbackScsv', 'fewer than two versions accepted: nothing to fall back to');
  else fallbackRun = recorded(log, 'fallbackScsv', () => fallbackScsv(p, below)).then((x) => (log.ok('fallbackScsv'), x));

  // The feature handshake (capabilities inside TLS, certificate for TLS 1.3 only, renegotiation, a ticket session) and session id resumption.
  const hv: ProbeVersion | null = top && NODE_VERSION[top.version] ? top.version : facts.accepted.includes('TLSv1.3') ? 'TLSv1.3' : null;
  type Outcome<T> = { value: T; error: null } | { value: null; error: LabError };
  let handshakeRun: Promise<Outcome<FeatureHandshake> | null> = Promise.resolve(null);
  let ticketRun: Promise<Outcome<ResumptionPart> | null> = Promise.resolve(null);
  let idRun: Promise<Outcome<ResumptionPart> | null> = Promise.resolve(null);
  // The handshake runs at the highest legacy version, else TLS 1.3: it waits for neither to be unknown.
  const handshakeBlocked = topUncertain ?? (top === null && facts.unknown.includes('TLSv1.3') ? 'TLSv1.3' : null);
  const outcome = <T>(x: Promise<T>): Promise<Outcome<T>> => x.then((value) => ({ value, error: null }), (e: unknown) => ({ value: null, error: asLabError(e) }));
  if (full && hv && !handshakeBlocked) {
    const base = handshakeOptions(hv, p.options.sni);
    handshakeRun = outcome(featureHandshake(p, hv, base));
    const ticketExt = hv === 'TLSv1.3' ? null : (topFirst?.sessionTicket ?? null);
    ticketRun = handshakeRun.then((h) => (h!.error ? null : outcome(ticketResumption(p, hv, base, h!.value.session, ticketExt))));
    if (hv !== 'TLSv1.3') idRun = outcome(idResumption(p, hv, base, chains.get(hv)!.sessionIdWithoutTicket));
  } else if (full && !hv && facts.accepted.includes('SSLv3')) {
    p.warnings.push('only SSLv3 is accepted: node:tls cannot complete an SSLv3 handshake, so renegotiation and resumption are unknown');
  }

  const [orders, groupLists, fallback, hs, ticket, id] = await Promise.all([Promise.all(orderRuns), Promise.all(groupRuns), fallbackRun, handshakeRun, ticketRun, idRun]);
  const chainOf = new Map(orders.map(([v, c]) => [v, c] as const));
  log.ok('suites');
  log.ok('order');

  const byVersion = new Map<ProbeVersion, number[]>();
  for (const [v, g] of groupLists) if (g) byVersion.set(v, g);
  const { groups, groupsByProtocol } = groupEntries(byVersion);
  if (groupRuns.length === 0 && log.errorsOf('groups').length === 0) log.notRun('groups', 'no version with named groups accepted');
  else log.ok('groups');

  const handshake = hs?.value ?? null;
  const handshakeError = hs?.error ?? null;
  const blockedBecause = (feature: ProbeFeatureName, what: string): boolean => {
    if (!handshakeBlocked) return false;
    log.failBecause(feature, 'protocols', handshakeBlocked, what);
    return true;
  };

  // Certificate.
  let certificate: CertificateSummary | null = certificateFromMessages(topFirst?.certificates ?? null, [...chainOf.values()]);
  if (certificate) log.ok('certificate');
  else if (facts.accepted.length === 0) log.notRun('certificate', 'no version accepted');
  else if (!full) log.notRun('certificate', 'scope enumeration: TLS 1.3 sends the certificate encrypted, and no complete handshake was made');
  else if (handshakeError) log.fail('certificate', handshakeError);
  else if (handshake) {
    certificate = certificateFromHandshake(handshake.peerChain);
    if (certificate) log.ok('certificate');
    else log.fail('certificate', new LabError('ETLS', 'the complete handshake showed no peer certificate', { stage: 'handshake' }));
  } else if (!blockedBecause('certificate', 'the certificate comes from the feature handshake')) log.notRun('certificate', 'no complete handshake possible (only SSLv3)');

  // Renegotiation: RFC 5746 from the top legacy ServerHello, client-initiated on the feature handshake.
  let clientRenegotiation: ProbeFeatures['clientRenegotiation'] = null;
  if (topUncertain) log.failBecause('renegotiation', 'protocols', topUncertain, 'RFC 5746 at the highest version up to TLS 1.2');
  else if (!top) log.notRun('renegotiation', facts.accepted.length === 0 ? 'no version accepted' : 'TLS 1.3 only: there is no renegotiation');
  else if (!full) log.ok('renegotiation', 'scope enumeration: client-initiated renegotiation not tried');
  else if (handshakeError) log.fail('renegotiation', handshakeError);
  else if (handshake?.renegotiation?.error) log.fail('renegotiation', handshake.renegotiation.error);
  else if (handshake?.renegotiation) {
    clientRenegotiation = handshake.renegotiation.value;
    log.ok('renegotiation');
  } else if (!blockedBecause('renegotiation', 'client-initiated renegotiation')) log.ok('renegotiation', 'client-initiated renegotiation not tried (no complete handshake possible)');

  // Compression: chosen at any accepted legacy version is certain; "never" needs every legacy version known.
  const legacyFirsts = LEGACY_VERSIONS.filter((v) => facts.accepted.includes(v)).map((v) => facts.firstOf.get(v) as ServerHelloAnswer);
  let compression = compressionChosen(legacyFirsts);
  const unknownLegacy = LEGACY_VERSIONS.find((v) => facts.unknown.includes(v));
  if (compression !== true && unknownLegacy) {
    compression = null;
    log.failBecause('compression', 'protocols', unknownLegacy);
  } else if (compression === null) log.notRun('compression', facts.accepted.length === 0 ? 'no version accepted' : 'TLS 1.3 only: there is no compression');
  else log.ok('compression');

  // Extended master secret.
  const ems = extendedMasterSecret(topFirst);
  if (topUncertain) log.failBecause('extendedMasterSecret', 'protocols', topUncertain);
  else if (ems === null) log.notRun('extendedMasterSecret', facts.accepted.length === 0 ? 'no version accepted' : 'TLS 1.3 only: the master secret is always extended');
  else log.ok('extendedMasterSecret');

  // Resumption: by ticket on the feature handshake's session, by id (TLS <= 1.2) on its own.
  let sessionResumption: ProbeFeatures['sessionResumption'] = null;
  if (!full) log.notRun('resumption', 'scope enumeration');
  else if (topUncertain) log.failBecause('resumption', 'protocols', topUncertain, 'the session_ticket extension at the highest version up to TLS 1.2');
  else if (hv && !handshakeBlocked) {
    const details: string[] = [];
    let ticketResumed: boolean | null = null;
    if (handshakeError) log.fail('resumption', handshakeError);
    else if (ticket?.error) log.fail('resumption', ticket.error);
    else if (ticket) {
      ticketResumed = ticket.value.resumed;
      details.push(ticket.value.detail);
    }
    let idResumed: boolean | null = null;
    if (id?.error) log.fail('resumption', id.error);
    else if (id) {
      idResumed = id.value.resumed;
      details.push(id.value.detail);
    }
    for (const e of log.errorsOf('resumption')) details.push(`not determined: ${e.code}${e.stage ? ` at ${e.stage}` : ''}: ${e.message}`);
    sessionResumption = { protocol: hv, id: idResumed, ticket: ticketResumed, detail: details.sort().join('; ') };
    log.ok('resumption');
  } else if (!blockedBecause('resumption', 'resumption needs complete handshakes')) log.notRun('resumption', facts.accepted.length === 0 ? 'no version accepted' : 'no complete handshake possible (only SSLv3)');

  // The SMTP dialogue.
  if (target.mode === 'plain') log.notRun('starttls', 'plain TLS: no SMTP dialogue');
  else if (!full) log.ok('starttls', 'scope enumeration: EHLO inside TLS not read');
  else if (handshakeError) log.fail('starttls', new LabError(handshakeError.code, `EHLO inside TLS: ${handshakeError.message}`, { stage: handshakeError.stage }));
  else if (!handshake && !blockedBecause('starttls', 'EHLO inside TLS')) log.ok('starttls', 'EHLO inside TLS not read (no complete handshake possible)');
  else log.ok('starttls');

  const features: ProbeFeatures = {
    secureRenegotiation: secureRenegotiation(topFirst),
    clientRenegotiation,
    compression,
    extendedMasterSecret: ems,
    fallbackScsv: fallback,
    sessionTicketExtension: topFirst ? topFirst.sessionTicket : null,
    sessionResumption,
  };
  return {
    facts,
    chains: chainOf,
    orders: new Map(orders.map(([v, , o]) => [v, o] as const)),
    groups,
    groupsByProtocol,
    dhe: dheOf([...chainOf.values()]),
    certificate,
    features,
    starttls: starttlsDialogue(target.mode, p.dialogue, handshake),
  };
}
