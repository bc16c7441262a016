import { LabError, asLabError, isInfrastructure } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { labClient, type ClientContext, type ClientRequest } from '../clients/index.js';
import type { ScenarioSession } from '../lab/scenario-session.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { CheckSpec } from '../scenario/types.js';
import type { TlsObservation } from '../tls/observation.js';
import { evaluate, getPath } from './matchers.js';
import { connectionEvents, firstReceivedHeader, waitForConnectionEnd, waitForDelivery } from './log-correlation.js';
import type { Assertion, CheckResult, CheckStatus } from './result.js';
import { enumerationAssertions, offerOnlyAssertions } from './tls-surface.js';

/** Handshake parameters that every client must agree on when several run the same check. */
const AGREEMENT_PATHS = ['tls.protocol', 'tls.cipher.iana', 'tls.keyExchange.group', 'tls.keyExchange.bits'];

function request(session: ScenarioSession, check: CheckSpec): ClientRequest {
  const ep = session.postfix.endpoint(check.service);
  const c = check.client;
  const t = c.tls ?? {};
  const clientCert = t.clientCertificate ? session.certs.pairs.get(t.clientCertificate) : undefined;
  const m = c.message;
  return {
    host: ep.host,
    port: ep.port,
    mode: c.mode ?? (ep.service === 'smtps' || ep.port === 465 ? 'implicit' : 'starttls'),
    ...(c.ehloName ? { ehloName: c.ehloName } : {}),
    ...(c.forceStarttls ? { forceStarttls: true } : {}),
    ...(c.plaintextProbe ? { plaintextProbe: c.plaintextProbe } : {}),
    ...(c.injectAfterStarttls ? { injectAfterStarttls: c.injectAfterStarttls } : {}),
    ...(c.renegotiate ? { renegotiate: true } : {}),
    ...(c.resume ? { resume: true } : {}),
    ...(c.stopAfter ? { stopAfter: c.stopAfter } : {}),
    ...(c.timeouts ? { timeouts: c.timeouts } : {}),
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

function statusOf(errors: LabError[], assertions: readonly Assertion[]): CheckStatus {
  const infra = errors.find((e) => isInfrastructure(e.code));
  if (infra) return infra.code === 'ECLIENT_CAPABILITY' || infra.code === 'ETOOL' ? 'inconclusive' : 'error';
  return assertions.every((a) => a.ok) ? 'pass' : 'fail';
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

/**
 * The check's expectations on Postfix's log events of one connection: some event of the
 * `serverLog` type meets every expectation (the best candidate is reported when none does),
 * and `serverLogCounts` ("TYPE" or "TYPE:after-established") hold. `context` is what
 * equalsObserved / includesTemplate refer to: the client's observation or the hello's answer.
 */
function serverLogAssertions(check: CheckSpec, own: readonly PostfixLogEvent[], context: unknown): Assertion[] {
  const out: Assertion[] = [];
  if (check.serverLog) {
    const want = check.serverLog;
    const judged = own
      .filter((e) => e.type === want.event)
      .map((ev) =>
        Object.entries(want.expect).map(([path, m]): Assertion => {
          const observed = getPath(ev, path);
          const r = evaluate(m, observed, context);
          return { subject: 'server-log', path, expected: r.expected, observed: observed ?? null, ok: r.ok };
        }),
      );
    const best = judged.find((as) => as.every((a) => a.ok)) ?? judged.sort((a, b) => b.filter((x) => x.ok).length - a.filter((x) => x.ok).length)[0];
    if (!best) out.push({ subject: 'server-log', path: 'event', expected: want.event, observed: own.map((e) => e.type), ok: false });
    else out.push(...best, { subject: 'server-log', path: 'event', expected: want.event, observed: want.event, ok: true });
  }
  if (check.serverLogCounts) {
    const established = own.findIndex((e) => e.type === 'tls-established');
    for (const [key, m] of Object.entries(check.serverLogCounts)) {
      const [type, when] = key.split(':');
      const n = own.filter((e, i) => e.type === type && (when !== 'after-established' || (established >= 0 && i > established))).length;
      const r = evaluate(m, n, context);
      out.push({ subject: 'server-log', path: `count(${key})`, expected: r.expected, observed: n, ok: r.ok });
    }
  }
  return out;
}

/**
 * Run one check of a scenario against its running Postfix: each client connects, its
 * observation is held to the check's expectations, then Postfix's own log and (when a
 * message was sent) the delivered message are held to theirs.
 */
export async function runCheck(session: ScenarioSession, check: CheckSpec): Promise<CheckResult> {
  const started = Date.now();
  const assertions: Assertion[] = [];
  const observations: TlsObservation[] = [];
  const logEvents: PostfixLogEvent[] = [];
  const errors: LabError[] = [];
  const surface: Record<string, unknown> = {};
  const log = session.postfix.log;

  try {
    const req = request(session, check);
    const t = check.client.tls ?? {};
    const pair = t.clientCertificate ? session.certs.pairs.get(t.clientCertificate) : undefined;
    const ctx: ClientContext = {
      clientContainer: () => session.clientContainer(),
      trustBundle: t.trust === 'lab' ? session.certs.pki.trustBundle : null,
      clientCert: pair ? { cert: `${pair.cert.trim()}\n${pair.chain}`, key: pair.key } : null,
    };
    for (const name of check.clients) {
      const { observation } = await labClient(name)(req, ctx);
      observations.push(observation);
      if (observation.error && isInfrastructure(observation.error.code)) {
        errors.push(new LabError(observation.error.code, observation.error.message, { stage: observation.error.stage }));
        continue;
      }
      const subject = `client:${name}`;
      for (const [path, m] of Object.entries(check.expect)) {
        const observed = getPath(observation, path);
        const r = evaluate(m, observed, observation);
        assertions.push({ subject, path, expected: r.expected, observed: observed ?? null, ok: r.ok });
      }

      if ((check.serverLog || check.serverLogCounts || check.delivered) && observation.localPort === null) {
        assertions.push({ subject: 'server-log', path: 'connection', expected: 'a TCP connection to Postfix', observed: observation.error?.message ?? null, ok: false });
        continue;
      }
      const port = observation.localPort;
      if (port !== null) {
        await waitForConnectionEnd(log, port);
        const own = connectionEvents(log.all(), port);
        assertions.push(...serverLogAssertions(check, own, observation));
        if (check.delivered) {
          const queueId = observation.delivery?.queueId;
          if (!queueId) {
            assertions.push({ subject: 'received-header', path: 'delivery.queueId', expected: 'a queued message', observed: observation.delivery, ok: false });
          } else {
            const outcome = await waitForDelivery(log, queueId);
            const status = outcome.type === 'delivery' ? outcome.status : null;
            const st = evaluate(check.delivered.status, status, observation);
            assertions.push({ subject: 'server-log', path: 'delivery.status', expected: st.expected, observed: status, ok: st.ok });
            if (outcome.type === 'delivery') assertions.push({ subject: 'server-log', path: 'delivery.relay', expected: 'a lab destination (virtual, none)', observed: outcome.relay, ok: /^(virtual|none|local)\b/.test(outcome.relay) });
            if (check.delivered.receivedHeader !== null) {
              const msg = status === 'sent' ? await session.postfix.deliveredMessage(queueId) : null;
              const header = msg ? firstReceivedHeader(msg) : null;
              const r = evaluate(check.delivered.receivedHeader, header, observation);
              assertions.push({ subject: 'received-header', path: 'Received', expected: r.expected, observed: header, ok: r.ok });
            }
          }
        }
        logEvents.push(...connectionEvents(log.all(), port).filter((e) => !logEvents.includes(e)));
      }
    }
    if (check.startupLog.length || check.startupLogAbsent.length) {
      const all = log.all();
      const ready = all.findIndex((e) => e.type === 'daemon-started');
      const startup = ready >= 0 ? all.slice(0, ready + 1) : all;
      const matching = (want: CheckSpec['startupLog'][number]) => startup.filter((e) => e.type === want.event && Object.entries(want.expect).every(([p, m]) => evaluate(m, getPath(e, p), {}).ok));
      for (const want of check.startupLog) {
        const hits = matching(want);
        assertions.push({ subject: 'startup-log', path: want.event, expected: want.expect, observed: hits[0]?.raw ?? startup.filter((e) => e.type === want.event).map((e) => e.raw).slice(0, 5), ok: hits.length > 0 });
      }
      for (const unwanted of check.startupLogAbsent) {
        const hits = matching(unwanted);
        assertions.push({ subject: 'startup-log', path: `no ${unwanted.event}`, expected: { absent: unwanted.expect }, observed: hits.map((e) => e.raw).slice(0, 5), ok: hits.length === 0 });
      }
      logEvents.push(...startup.filter((e) => e.type === 'postconf' || e.type === 'warning' || e.type === 'fatal'));
    }
    if (check.enumerate) {
      const e = await enumerationAssertions(session, check);
      assertions.push(...e.assertions);
      surface.enumeration = e.summary;
    }
    if (check.offerOnly) {
      const h = await offerOnlyAssertions(session, check);
      assertions.push(...h.assertions);
      surface.hello = h.answer;
      const port = (h.answer as { localPort?: number | null }).localPort;
      if (port && (check.serverLog || check.serverLogCounts)) {
        await waitForConnectionEnd(log, port);
        const own = connectionEvents(log.all(), port);
        logEvents.push(...own);
        assertions.push(...serverLogAssertions(check, own, h.answer));
      }
    }
    if (observations.length > 1) {
      for (const path of AGREEMENT_PATHS) {
        const values = observations.map((o) => ({ client: o.client, value: getPath(o, path) ?? null }));
        const ok = values.every((v) => JSON.stringify(v.value) === JSON.stringify(values[0]!.value));
        assertions.push({ subject: 'clients-agree', path, expected: 'the same value from every client', observed: values, ok });
      }
    }
  } catch (err) {
    const e = asLabError(err);
    // A Postfix log event that never came is the server's silence, not the lab's failure.
    if (e.code === 'ETIMEOUT') assertions.push({ subject: 'server-log', path: 'wait', expected: 'the event to be logged', observed: e.message, ok: false });
    else errors.push(e);
  }

  const status = statusOf(errors, assertions);
  const failed = assertions.filter((a) => !a.ok);
  const message =
    status === 'pass'
      ? `${assertions.length} assertion(s) held`
      : status === 'fail'
        ? failed.map((a) => `${a.subject} ${a.path}: expected ${show(a.expected)}, observed ${show(a.observed)}`).join('; ')
        : errors.map((e) => `${e.code}${e.stage ? ` at ${e.stage}` : ''}: ${e.message}`).join('; ');
  const key = (a: Assertion) => `${a.subject} ${a.path}`;
  const result: CheckResult = {
    id: check.id,
    title: check.title,
    why: check.why,
    configSays: check.configSays,
    status,
    message,
    expected: Object.fromEntries(assertions.map((a) => [key(a), a.expected])),
    observed: Object.fromEntries(assertions.map((a) => [key(a), a.observed])),
    assertions,
    observations,
    logEvents,
    ...(Object.keys(surface).length ? { tlsSurface: surface } : {}),
    error: errors[0]?.toRecord() ?? null,
    durationMs: Date.now() - started,
  };
  return deepFreeze(result);
}
