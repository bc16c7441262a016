import { LabError, asLabError, isInfrastructure } from '../../../core/errors.js';
import { labClient, type ClientContext, type ClientRequest } from '../../../clients/index.js';
import type { ScenarioSession } from '../../../lab/scenario-session.js';
import type { TlsObservation } from '../../../tls/observation.js';
import { getPath, evaluate } from '../../matchers.js';
import { firstReceivedHeader, inboundSmtpd, waitForDelivery, type InboundConnection } from '../../log-correlation.js';
import { expectationAssertions, serverLogAssertions } from '../../server-log.js';
import { cannotJudge } from '../../verdict.js';
import { addEvents, type CheckRunner, type KindOutcome } from '../runner.js';
import type { ClientHandshakeCheck } from './spec.js';
import { ClientOnStack } from './client-on-stack.js';

/** Handshake parameters every client must agree on when several observed them. */
const AGREEMENT_PATHS = ['tls.protocol', 'tls.cipher.iana', 'tls.keyExchange.group', 'tls.keyExchange.bits'];

function request(session: ScenarioSession, check: ClientHandshakeCheck): ClientRequest {
  const ep = session.postfix.endpoint(check.service);
  const c = check.client;
  const t = c.tls ?? {};
  const clientCert = t.clientCertificate ? session.certs.pairs.get(t.clientCertificate) : undefined;
  const m = c.message;
  return {
    host: ep.host,
    port: ep.port,
    mode: check.mode,
    ...(c.ehloName ? { ehloName: c.ehloName } : {}),
    ...(c.forceStarttls ? { forceStarttls: true } : {}),
    ...(c.plaintextProbe ? { plaintextProbe: c.plaintextProbe } : {}),
    ...(c.injectAfterStarttls ? { injectAfterStarttls: c.injectAfterStarttls } : {}),
    ...(c.renegotiate ? { renegotiate: true } : {}),
    ...(c.resume ? { resume: true } : {}),
    ...(c.stopAfter ? { stopAfter: c.stopAfter } : {}),
    ...(c.timeouts ? { timeouts: c.timeouts } : {}),
    ...(t.gnutlsPriority ? { gnutlsPriority: t.gnutlsPriority } : {}),
    ...(c.auth ? { auth: { mechanism: c.auth.mechanism, user: c.auth.user, pass: session.password(c.auth.user, c.auth.password) } } : {}),
    ...(m ? { message: { from: m.from, to: m.to, data: `From: <${m.from}>\nTo: ${m.to.map((x) => `<${x}>`).join(', ')}\nSubject: ${m.subject}\n\n${m.body}\n` } } : {}),
    tls: {
      ...(t.minVersion ? { minVersion: t.minVersion } : {}),
      ...(t.maxVersion ? { maxVersion: t.maxVersion } : {}),
      // Every client offers the same list unless the check names one (OpenSSL's DEFAULT, in
      // OpenSSL's order): Node's own default order differs from s_client's, and then "the
      // clients disagree" would only mean "the clients asked differently".
      ciphers: t.ciphers ?? 'DEFAULT',
      ...(t.ciphersuites ? { ciphersuites: t.ciphersuites } : {}),
      ...(t.groups ? { groups: t.groups } : {}),
      ...(t.securityLevel !== undefined ? { securityLevel: t.securityLevel } : {}),
      ...(t.servername ? { servername: t.servername } : {}),
      ...(t.verifyName ? { verifyName: t.verifyName } : {}),
      ...(t.trust === 'lab' ? { ca: session.certs.pki.trustBundle } : {}),
      ...(clientCert ? { cert: `${clientCert.cert.trim()}\n${clientCert.chain}`, key: clientCert.key } : {}),
    },
  };
}

/** Postfix's side of one client's connection: its log events and the delivered message. */
async function serverSide(session: ScenarioSession, check: ClientHandshakeCheck, observation: TlsObservation, since: number, out: KindOutcome): Promise<void> {
  const log = session.postfix.log;
  const judgesServer = check.serverLog !== null || check.serverLogCounts !== null || check.delivered !== null;
  if (observation.localPort === null) {
    if (judgesServer) out.assertions.push({ subject: 'server-log', path: 'connection', expected: 'a TCP connection to Postfix', observed: observation.error?.message ?? null, ok: false });
    return;
  }
  const conn: InboundConnection = { address: observation.localAddress, port: observation.localPort, since };
  await inboundSmtpd.waitForEnd(log, conn);
  out.assertions.push(...serverLogAssertions(check, inboundSmtpd.events(log, conn), observation));
  if (check.delivered) {
    const queueId = observation.delivery?.queueId;
    if (!queueId) {
      out.assertions.push({ subject: 'received-header', path: 'delivery.queueId', expected: 'a queued message', observed: observation.delivery, ok: false });
    } else {
      const outcome = await waitForDelivery(log, queueId);
      const status = outcome.type === 'delivery' ? outcome.status : null;
      const st = evaluate(check.delivered.status, status, observation);
      out.assertions.push({ subject: 'server-log', path: 'delivery.status', expected: st.expected, observed: status, ok: st.ok });
      if (outcome.type === 'delivery') out.assertions.push({ subject: 'server-log', path: 'delivery.relay', expected: 'a lab destination (virtual, none)', observed: outcome.relay, ok: /^(virtual|none|local)\b/.test(outcome.relay) });
      if (check.delivered.receivedHeader !== null) {
        const msg = status === 'sent' ? await session.postfix.deliveredMessage(queueId) : null;
        const header = msg ? firstReceivedHeader(msg) : null;
        const r = evaluate(check.delivered.receivedHeader, header, observation);
        out.assertions.push({ subject: 'received-header', path: 'Received', expected: r.expected, observed: header, ok: r.ok });
      }
    }
  }
  addEvents(out, inboundSmtpd.events(log, conn));
}

/**
 * Clients agree where they both observed a value. A null from a client that could not see the
 * field (the DHE group, say) is not agreement: such paths are recorded as not comparable.
 */
export function agreement(observations: readonly TlsObservation[], out: KindOutcome): void {
  if (observations.length < 2) return;
  for (const path of AGREEMENT_PATHS) {
    const values = observations.map((o) => ({ client: o.client, value: getPath(o, path) ?? null }));
    const seen = values.filter((v) => v.value !== null);
    if (seen.length < 2) {
      out.notComparable.push({ path, observed: values });
      continue;
    }
    const ok = seen.every((v) => JSON.stringify(v.value) === JSON.stringify(seen[0]!.value));
    out.assertions.push({ subject: 'clients-agree', path, expected: 'the same value from every client that observed it', observed: values, ok });
    if (seen.length < values.length) out.notComparable.push({ path, observed: values.filter((v) => v.value === null) });
  }
}

export const runClientHandshake: CheckRunner<ClientHandshakeCheck> = async (session, check, out) => {
  const req = request(session, check);
  // openssl and gnutls run in the scenario's client container, or in one of the check's clientStack.
  const onStack = check.clientStack ? new ClientOnStack(session, check.clientStack) : null;
  try {
    await runClients(session, check, req, onStack, out);
  } finally {
    await onStack?.stop();
  }
};

async function runClients(session: ScenarioSession, check: ClientHandshakeCheck, req: ClientRequest, onStack: ClientOnStack | null, out: KindOutcome): Promise<void> {
  const t = check.client.tls ?? {};
  const pair = t.clientCertificate ? session.certs.pairs.get(t.clientCertificate) : undefined;
  const ctx: ClientContext = {
    clientContainer: () => (onStack ? onStack.container() : session.clientContainer()),
    trustBundle: t.trust === 'lab' ? session.certs.pki.trustBundle : null,
    clientCert: pair ? { cert: `${pair.cert.trim()}\n${pair.chain}`, key: pair.key } : null,
  };
  const judged: TlsObservation[] = [];
  for (const name of check.clients) {
    const since = session.postfix.log.size;
    let observation: TlsObservation;
    try {
      observation = (await labClient(name)(req, ctx)).observation;
    } catch (err) {
      const e = asLabError(err);
      if (cannotJudge(e.code)) out.unjudged.push({ subject: `client:${name}`, error: e.toRecord() });
      else out.labErrors.push(e);
      continue;
    }
    out.observations.push(observation);
    if (observation.error && isInfrastructure(observation.error.code)) {
      const e = new LabError(observation.error.code, observation.error.message, { stage: observation.error.stage });
      if (cannotJudge(e.code)) out.unjudged.push({ subject: `client:${name}`, error: e.toRecord() });
      else out.labErrors.push(e);
      continue;
    }
    judged.push(observation);
    out.assertions.push(...expectationAssertions(`client:${name}`, check.expect, observation));
    // The connection's log lines are recorded for the report even when no expectation is on them.
    try {
      await serverSide(session, check, observation, since, out);
    } catch (err) {
      const e = asLabError(err);
      // A Postfix log event that never came is the server's silence, not the lab's failure.
      if (e.code === 'ETIMEOUT') out.assertions.push({ subject: 'server-log', path: 'wait', expected: 'the event to be logged', observed: e.message, ok: false });
      else out.labErrors.push(e);
    }
  }
  agreement(judged, out);
}
