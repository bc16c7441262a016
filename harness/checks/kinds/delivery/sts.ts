import { LabError } from '../../../core/errors.js';
import type { PostfixLogEvent, PostfixLogEventOf } from '../../../postfix/log-parser.js';
import type { StartedPostfixContainer } from '../../../postfix/postfix-container.js';
import { decodeTlsrptDatagram, type TlsrptDatagramView } from '../../../sts/tlsrpt-datagram.js';
import { ensureTlsrptReader, readDatagrams } from '../../../sts/tlsrpt-reader.js';
import type { Assertion } from '../../result.js';
import type { CheckRunner } from '../runner.js';
import type { DeliveryAction, DeliveryCheck } from './spec.js';
import type { StsView, TlsrptLogView, TlsrptView } from './observation.js';

type Session = Parameters<CheckRunner<DeliveryCheck>>[0];
const DATAGRAM_SETTLE_MS = 3_000;

/** A `before` change of the policy host: the site of a domain answers something else from now on. */
export async function applyStsAction(session: Session, check: DeliveryCheck, a: Extract<DeliveryAction, { stsSite: string }>): Promise<void> {
  const node = session.topology.firstOfKind('sts-policy');
  if (!node) throw new LabError('ESCENARIO', `check ${check.id}: a "stsSite" change needs a node of kind sts-policy`);
  const host = await session.node(node.name, 'sts-policy');
  await host.serve(a.stsSite, a.answer, a.certificate ?? undefined);
}

/** Where the check's STS and TLS-RPT observations start: the reader runs and the counts are taken. */
export interface StsMarkers {
  readonly datagrams: number;
  readonly fetches: number;
  readonly resolverLines: number;
}

export async function beforeSend(session: Session, check: DeliveryCheck): Promise<StsMarkers> {
  let datagrams = 0;
  if (check.tlsrpt) {
    await ensureTlsrptReader(session.postfix);
    datagrams = (await readDatagrams(session.postfix)).length;
  }
  const node = session.topology.firstOfKind('sts-policy');
  const fetches = node ? (await session.node(node.name, 'sts-policy')).fetches().length : 0;
  const resolverNode = session.topology.firstOfKind('sts-resolver');
  const resolverLines = resolverNode ? (await session.node(resolverNode.name, 'sts-resolver')).logLines().length : 0;
  return { datagrams, fetches, resolverLines };
}

/**
 * A resolver that does not answer is no verdict: Postfix would log a socketmap lookup error and
 * defer, which looks like an MTA-STS failure but says nothing about MTA-STS. Postfix's own
 * words for it ("socketmap:inet:…: … Connection refused", "smtp_tls_policy_maps lookup error",
 * "table lookup problem") in this message's session make the check an ESTS error.
 */
export function resolverProblem(own: readonly PostfixLogEvent[], all: readonly PostfixLogEvent[]): string | null {
  const bad = (e: PostfixLogEvent) => (e.type === 'warning' || e.type === 'fatal') && /socketmap|smtp_tls_policy_maps|policy table lookup|table lookup problem/i.test(e.text);
  const hit = own.find(bad) ?? all.find(bad);
  return hit ? (hit as PostfixLogEventOf<'warning'>).text : null;
}

export async function tlsrptView(sender: StartedPostfixContainer, check: DeliveryCheck, markers: StsMarkers, own: readonly PostfixLogEvent[]): Promise<TlsrptView | null> {
  if (!check.tlsrpt) return null;
  const lines = own.filter((e): e is PostfixLogEventOf<'tlsrpt'> => e.type === 'tlsrpt');
  const log: TlsrptLogView[] = lines.map((e) =>
    Object.freeze({ status: e.status, domain: e.domain, receivingMx: `${e.receivingMx.name}[${e.receivingMx.addr}]`, failureType: e.failureType, failureReason: e.failureReason }),
  );
  // libtlsrpt sends its datagram when Postfix logs the line; the reader may write it a moment later.
  const deadline = Date.now() + DATAGRAM_SETTLE_MS;
  let got = (await readDatagrams(sender)).slice(markers.datagrams);
  while (got.length < log.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 150));
    got = (await readDatagrams(sender)).slice(markers.datagrams);
  }
  const datagrams: TlsrptDatagramView[] = got.map(decodeTlsrptDatagram);
  return Object.freeze({ datagrams: Object.freeze(datagrams), log: Object.freeze(log) });
}

export async function stsView(session: Session, check: DeliveryCheck, markers: StsMarkers): Promise<StsView | null> {
  const policyNode = session.topology.firstOfKind('sts-policy');
  const resolverNode = session.topology.firstOfKind('sts-resolver');
  if (!policyNode && !resolverNode) {
    if (check.stsQueries.length) throw new LabError('ESCENARIO', `check ${check.id}: stsQueries need a node of kind sts-resolver`);
    return null;
  }
  const resolver = resolverNode ? await session.node(resolverNode.name, 'sts-resolver') : null;
  if (check.stsQueries.length && !resolver) throw new LabError('ESCENARIO', `check ${check.id}: stsQueries need a node of kind sts-resolver`);
  // One after another, as Postfix's single smtp process would ask; the fetches they cause count as the check's too.
  const answers = [];
  for (const q of check.stsQueries) answers.push(await resolver!.query(q.map, q.domain));
  const host = policyNode ? await session.node(policyNode.name, 'sts-policy') : null;
  // The host prints its fetch line after it answered, so the line can reach the harness after
  // the resolver's answer did: read until no new line came for a moment (bounded).
  let fetches = host ? host.fetches().slice(markers.fetches) : [];
  for (let quiet = 0, waited = 0; host && quiet < 3 && waited < 20; waited++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = host.fetches().slice(markers.fetches);
    quiet = now.length === fetches.length ? quiet + 1 : 0;
    fetches = now;
  }
  const resolverLog = resolver ? resolver.logLines().slice(markers.resolverLines) : [];
  return Object.freeze({ answers: Object.freeze(answers), fetches: Object.freeze(fetches), resolverLog: Object.freeze([...resolverLog]) });
}

/**
 * Postfix's TLSRPT lines and libtlsrpt's datagrams must tell the same story: as many datagrams
 * as lines, and each line's status, domain and failure type in the datagram at the same place.
 * (Postfix writes failure types with underscores, RFC 8460 and libtlsrpt with hyphens.)
 */
export function tlsrptAgreement(view: TlsrptView | null): Assertion[] {
  if (!view) return [];
  const out: Assertion[] = [
    { subject: 'agreement', path: 'TLSRPT log lines vs datagrams: count', expected: view.log.length, observed: view.datagrams.length, ok: view.log.length === view.datagrams.length },
  ];
  view.log.forEach((l, i) => {
    const d = view.datagrams[i];
    const want = { result: l.status, domain: l.domain, failureType: l.failureType?.replace(/_/g, '-') ?? null };
    const got = d ? { result: d.result, domain: d.domain, failureType: d.failureType } : null;
    out.push({ subject: 'agreement', path: `TLSRPT log line ${i} vs datagram ${i}`, expected: want, observed: got, ok: got !== null && got.result === want.result && got.domain === want.domain && got.failureType === want.failureType });
  });
  return out;
}
