import { randomBytes } from 'node:crypto';
import { spkiSha256 } from '../../../certs/lab-pki.js';
import { LabError } from '../../../core/errors.js';
import { expectationAssertions, logPresenceAssertions } from '../../server-log.js';
import { outboundQueue } from '../../log-correlation.js';
import type { PostfixLogEvent, PostfixLogEventOf } from '../../../postfix/log-parser.js';
import type { StartedPostfixContainer } from '../../../postfix/postfix-container.js';
import type { StartedSmtpPeer } from '../../../peer/smtp-peer.js';
import { postfixPeerRecord } from '../../../peer/postfix-peer-record.js';
import type { PeerRecord } from '../../../peer/peer-record.js';
import type { ReceivingMta } from '../../../interop/interop-peer-record.js';
import type { Assertion } from '../../result.js';
import { renderZones } from '../../../dns/zone.js';
import { parsePosttlsFinger, posttlsFingerCommand, type PosttlsFingerView } from '../../../postfix/posttls-finger.js';
import { nodeAddress } from '../../../lab/topology.js';
import { addEvents, type CheckRunner, type KindOutcome } from '../runner.js';
import { deliveryConversations } from '../../conversation.js';
import type { DeliveryAttempt, DeliveryObservation, QueueView } from './observation.js';
import type { DeliveryCheck } from './spec.js';
import { applyStsAction, beforeSend, resolverProblem, stsView, tlsrptAgreement, tlsrptView } from './sts.js';

const colonHex = (hex: string) => hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');

/** Bounds of the waits around a delivery (each named in its timeout message). */
const WAITS = { queueId: 15_000, peerSettle: 3_000 } as const;

type Receiver = { readonly name: string; readonly marker: number } & ({ readonly kind: 'capturing'; readonly peer: StartedSmtpPeer } | { readonly kind: 'postfix'; readonly postfix: StartedPostfixContainer } | { readonly kind: 'mta'; readonly mta: ReceivingMta });

/** The message the lab injects: a unique Message-ID joins the sender's log, the peers' records and the queue. */
function message(check: DeliveryCheck, messageId: string): string {
  return [
    `From: <${check.send.from}>`,
    `To: ${check.send.to.map((t) => `<${t}>`).join(', ')}`,
    `Subject: ${check.send.subject}`,
    `Message-ID: <${messageId}>`,
    `Date: ${new Date().toUTCString()}`,
    '',
    `Sent by smtp-tls-lab for check ${check.id}.`,
    '',
  ].join('\r\n');
}

async function inject(sender: StartedPostfixContainer, check: DeliveryCheck, text: string): Promise<void> {
  if (check.send.via === 'sendmail') {
    // The message travels base64-encoded as an argument: no shell quoting can break it.
    const script = 'm=$1; f=$2; shift 2; printf %s "$m" | base64 -d | /usr/sbin/sendmail -i -f "$f" -- "$@"';
    const r = await sender.exec(['sh', '-c', script, 'sh', Buffer.from(text).toString('base64'), check.send.from, ...check.send.to]);
    if (r.exitCode !== 0) throw new LabError('EMESSAGE', `sendmail in the sender refused the message (exit ${r.exitCode})`, { stage: 'mail', detail: r.output.slice(0, 2000) });
    return;
  }
  const { default: nodemailer } = await import('nodemailer');
  const ep = sender.endpoint(check.service);
  const transport = nodemailer.createTransport({ host: ep.host, port: ep.port, secure: false, ignoreTLS: true, name: 'client.lab.test', connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 });
  try {
    await transport.sendMail({ envelope: { from: check.send.from, to: [...check.send.to] }, raw: text });
  } catch (err) {
    throw new LabError('EMESSAGE', `the sender's ${check.service} service refused the message: ${(err as Error).message}`, { stage: 'mail', cause: err });
  } finally {
    transport.close();
  }
}

/** One recipient's outcome from its delivery line and the same smtp process's lines of that session. */
function attempt(recipient: string, delivery: PostfixLogEventOf<'delivery'> | null, session: readonly PostfixLogEvent[]): DeliveryAttempt {
  const last = <T extends PostfixLogEvent['type']>(type: T) => [...session].reverse().find((e): e is PostfixLogEventOf<T> => e.type === type) ?? null;
  const tls = last('tls-established');
  const verify = last('tls-verify-failed');
  const keyExchange = tls?.keyExchange ? [tls.keyExchange.name, tls.keyExchange.curve ?? (tls.keyExchange.bits ? `${tls.keyExchange.bits}` : null)].filter(Boolean).join(' ') : null;
  return Object.freeze({
    recipient,
    status: delivery?.status ?? null,
    dsn: delivery?.dsn ?? null,
    relay: delivery?.relay ?? null,
    reason: delivery?.reason ?? null,
    delay: delivery?.delay ?? null,
    tls: tls && tls.direction === 'to'
      ? Object.freeze({
          trust: tls.trust,
          reused: tls.reused,
          protocol: tls.protocol,
          cipher: tls.cipher,
          bits: tls.cipherBits.used,
          keyExchange: tls.keyExchange?.curve ? tls.keyExchange.curve : keyExchange,
          serverSignature: tls.serverSignature?.name ?? null,
          peer: `${tls.peer.name}[${tls.peer.addr}]${tls.peer.port === null ? '' : `:${tls.peer.port}`}`,
        })
      : null,
    verifyFailure: verify?.reason ?? null,
    starttlsOfferNoted: session.some((e) => e.type === 'starttls-offered'),
  });
}

/**
 * Waits for the next outcome of each of `recipients` after `since`; an outcome not logged in
 * time is null (and said). The others (not retried: already sent or bounced) are null at once.
 */
async function outcomes(sender: StartedPostfixContainer, check: DeliveryCheck, queueId: string, since: number, out: KindOutcome, label: string, recipients: readonly string[] = check.send.to): Promise<DeliveryAttempt[]> {
  const log = sender.log;
  const found = await Promise.all(
    check.send.to.map((rcpt) =>
      !recipients.includes(rcpt) ? null : log
        .waitFor(`${label} outcome for ${rcpt}`, (e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery' && e.queueId === queueId && e.to === rcpt, check.outcomeTimeoutMs, since)
        .catch((err: LabError) => {
          out.assertions.push({ subject: 'sender-log', path: `${label} outcome for ${rcpt}`, expected: 'a delivery status line (sent, deferred or bounced)', observed: err.message, ok: false });
          return null;
        }),
    ),
  );
  return check.send.to.map((rcpt, i) => attempt(rcpt, found[i]!, found[i] ? outboundQueue.session(log, found[i]!, since) : []));
}

interface PostqueueEntry {
  readonly queue_name: string;
  readonly queue_id: string;
  readonly recipients?: readonly { readonly address: string; readonly delay_reason?: string }[];
}

async function queueView(sender: StartedPostfixContainer, queueId: string | null): Promise<QueueView> {
  const r = await sender.exec(['postqueue', '-j']);
  if (r.exitCode !== 0) throw new LabError('EPOSTFIX_CHECK', `postqueue -j failed in the sender (exit ${r.exitCode})`, { detail: r.output.slice(0, 2000) });
  const entries = r.output
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as PostqueueEntry);
  const mine = entries.find((e) => e.queue_id === queueId);
  return Object.freeze({
    thisMessage: mine
      ? Object.freeze({ queueName: mine.queue_name, recipients: Object.freeze((mine.recipients ?? []).map((x) => Object.freeze({ address: x.address, delayReason: x.delay_reason ?? null }))) })
      : null,
    deferredCount: entries.filter((e) => e.queue_name === 'deferred').length,
  });
}

/** The record of every receiving node, limited to what happened since the check began. */
async function peerRecords(receivers: readonly Receiver[], sentTo: (node: string) => string | null): Promise<Record<string, PeerRecord>> {
  const records: Record<string, PeerRecord> = {};
  for (const rc of receivers) {
    if (rc.kind === 'capturing') {
      const mine = (r: PeerRecord) => r.connections.filter((c) => c.index >= rc.marker);
      // A failed handshake is known once the connection closed: give it a moment, never fail on it.
      const settled = await rc.peer.waitFor('connections of this check closed', (r) => mine(r).every((c) => c.closed || c.tls !== null), WAITS.peerSettle).catch(() => rc.peer.record());
      const connections = mine(settled);
      records[rc.name] = Object.freeze({ ...settled, connections: Object.freeze(connections), messages: Object.freeze(connections.flatMap((c) => c.messages)) });
    } else if (rc.kind === 'mta') {
      // An interop MX (Exim, OpenSMTPD) gives its record from its own log (harness/interop/).
      records[rc.name] = (await rc.mta.peerRecord(rc.name, rc.marker, sentTo(rc.name))) as unknown as PeerRecord;
    } else {
      records[rc.name] = await postfixPeerRecord(rc.name, rc.postfix, rc.marker, sentTo(rc.name));
    }
  }
  return records;
}

/**
 * The three sources must agree: a recipient the sender logged as sent arrived at a receiving
 * node (and one it deferred or bounced did not), the sender's TLS summary names the protocol
 * and cipher the capturing peer negotiated, and the queue holds the message exactly when a
 * recipient is still deferred. A disagreement fails the check, saying which sources differ.
 */
function agreement(obs: DeliveryObservation): Assertion[] {
  const out: Assertion[] = [];
  const final = obs.deliveries.map((d) => obs.retry?.deliveries.find((r) => r.recipient === d.recipient && r.status !== null) ?? d);
  const arrived = (rcpt: string) => Object.values(obs.peers).some((p) => p.messages.some((m) => m.messageId === obs.messageId && m.rcptTo.includes(rcpt)));
  for (const d of final) {
    if (d.status === null) continue;
    const got = arrived(d.recipient);
    out.push({ subject: 'agreement', path: `sender log vs peers: ${d.recipient}`, expected: d.status === 'sent' ? 'a receiving node has the message' : 'no receiving node has the message', observed: got ? 'a receiving node has it' : 'no receiving node has it', ok: got === (d.status === 'sent') });
  }
  const carried = final.find((d) => d.status === 'sent' && d.tls);
  if (carried?.tls) {
    const conn = Object.values(obs.peers)
      .filter((p) => p.kind === 'capturing')
      .flatMap((p) => p.connections)
      .find((c) => c.messages.some((m) => m.messageId === obs.messageId && m.rcptTo.includes(carried.recipient)));
    if (conn?.tls) {
      out.push({ subject: 'agreement', path: 'sender log vs peer: TLS protocol', expected: carried.tls.protocol, observed: conn.tls.protocol, ok: conn.tls.protocol === carried.tls.protocol });
      out.push({ subject: 'agreement', path: 'sender log vs peer: cipher', expected: carried.tls.cipher, observed: conn.tls.cipher, ok: conn.tls.cipher === carried.tls.cipher });
    }
  }
  if (obs.posttlsFinger && final[0]?.status) {
    const labVerified = final[0].status === 'sent' && final[0].tls?.trust === 'Verified';
    const oracleVerified = obs.posttlsFinger.trust === 'Verified';
    out.push({ subject: 'agreement', path: 'lab vs posttls-finger: verified', expected: labVerified ? 'posttls-finger Verified too' : 'posttls-finger not Verified either', observed: obs.posttlsFinger.trust === null ? 'posttls-finger made no TLS session' : `posttls-finger ${obs.posttlsFinger.trust}${obs.posttlsFinger.verifyFailure ? ` (${obs.posttlsFinger.verifyFailure})` : ''}`, ok: labVerified === oracleVerified });
  }
  const waiting = final.filter((d) => d.status === 'deferred').map((d) => d.recipient);
  const queued = obs.queue.thisMessage?.recipients.map((r) => r.address) ?? [];
  if (final.every((d) => d.status !== null)) {
    out.push({ subject: 'agreement', path: 'sender log vs queue', expected: waiting.length ? { deferred: waiting } : 'not in the queue', observed: obs.queue.thisMessage ? { [obs.queue.thisMessage.queueName]: queued } : 'not in the queue', ok: waiting.length === 0 ? obs.queue.thisMessage === null : obs.queue.thisMessage?.queueName === 'deferred' && waiting.every((w) => queued.includes(w)) });
  }
  return out;
}

/**
 * The check's `before` changes. A zone change re-signs the zone in the dns node (nsd restarted,
 * unbound's cache emptied) and then reloads the sender's Postfix: a running smtp process keeps
 * what it looked up, so without the reload the old answer would still be used.
 */
async function applyBefore(session: Parameters<CheckRunner<DeliveryCheck>>[0], check: DeliveryCheck): Promise<void> {
  let zoneChanged = false;
  for (const a of check.before) {
    if ('zone' in a) {
      const dnsNode = session.topology.firstOfKind('dns');
      if (!dnsNode || !session.scenario.dns) throw new LabError('ESCENARIO', `check ${check.id}: a zone change needs a dns node`);
      const dns = await session.node(dnsNode.name, 'dns');
      const spec = { zones: session.scenario.dns.zones.map((z) => (z.name === a.zone ? { ...z, records: a.records } : z)) };
      const files = renderZones(spec, { address: (n) => nodeAddress(session.network, session.topology.spec(n)), dnsAddress: dns.address, certs: session.certs.pairs }).files;
      await dns.updateZone(a.zone, files[a.zone]!);
      zoneChanged = true;
    } else if ('stsSite' in a) {
      await applyStsAction(session, check, a);
    } else {
      const peer = await session.node(a.peer, 'smtp-peer');
      const pair = session.certs.pairs.get(a.certificate);
      if (!pair) throw new LabError('ESCENARIO', `check ${check.id}: no certificate ${a.certificate}`);
      peer.presentCertificate(pair);
    }
  }
  if (zoneChanged) {
    const log = session.postfix.log;
    const since = log.size;
    const r = await session.postfix.exec(['postfix', 'reload']);
    if (r.exitCode !== 0) throw new LabError('EPOSTFIX_CHECK', `postfix reload in the sender failed (exit ${r.exitCode})`, { detail: r.output.slice(0, 2000) });
    await log.waitFor('sender reloaded after the zone change (master: reload -- version)', (e) => / reload -- version /.test(e.raw), 10_000, since);
  }
}

export const runDelivery: CheckRunner<DeliveryCheck> = async (session, check, out) => {
  const sender = session.postfix;
  await applyBefore(session, check);
  const receivers: Receiver[] = [];
  for (const n of session.topology.nodes) {
    if (n.kind === 'smtp-peer') {
      const peer = await session.node(n.name, 'smtp-peer');
      receivers.push({ kind: 'capturing', name: n.name, peer, marker: peer.connectionCount });
    } else if (n.kind === 'postfix' && n.postfix) {
      const pf = await session.node(n.name, 'postfix');
      receivers.push({ kind: 'postfix', name: n.name, postfix: pf, marker: pf.log.size });
    } else if (n.kind === 'exim' || n.kind === 'opensmtpd') {
      const mta = await session.node(n.name, n.kind);
      receivers.push({ kind: 'mta', name: n.name, mta, marker: mta.recordMarker });
    }
  }
  const stsMarkers = await beforeSend(session, check);
  const since = sender.log.size;
  const messageId = `${check.id}.${randomBytes(6).toString('hex')}@smtp-tls-lab.lab.test`;
  const injected = Date.now();
  await inject(sender, check, message(check, messageId));
  const idEvent = await sender.log.waitFor('queue id of the injected message (cleanup: message-id=)', (e): e is PostfixLogEventOf<'queue-message-id'> => e.type === 'queue-message-id' && e.messageId === messageId, WAITS.queueId, since);
  const queueId = idEvent.queueId;
  let queueIdDropped = false;
  try {
    const deliveries = await outcomes(sender, check, queueId, since, out, 'first attempt');
    const firstDone = Date.now();
    let retry: DeliveryObservation['retry'] = null;
    if (check.send.retry) {
      const again = sender.log.size;
      const r = deliveries.some((d) => d.status === 'deferred') ? await sender.exec(['postqueue', '-i', queueId]) : { exitCode: 0, output: '' };
      if (r.exitCode !== 0) throw new LabError('EPOSTFIX_CHECK', `postqueue -i ${queueId} failed (exit ${r.exitCode})`, { detail: r.output.slice(0, 2000) });
      // Only what is still deferred is tried again; a recipient already sent has no second attempt.
      const waiting = deliveries.filter((d) => d.status === 'deferred').map((d) => d.recipient);
      retry = Object.freeze({ deliveries: Object.freeze(await outcomes(sender, check, queueId, again, out, 'retry', waiting)) });
    }
    // A message the sender says it handed to a receiving Postfix (its relay is one of that node's names).
    const sentTo = (node: string) => {
      const names = session.topology.spec(node).hostnames;
      const relayed = [...deliveries, ...(retry?.deliveries ?? [])].some((d) => d.status === 'sent' && d.relay !== null && names.includes(d.relay.replace(/\[.*$/, '')));
      return relayed ? messageId : null;
    };
    const peers = await peerRecords(receivers, sentTo);
    let queue = await queueView(sender, queueId);
    // qmgr removes a delivered message a moment after smtp logged it sent: wait for that, briefly, before judging the queue.
    const allDone = retry === null && deliveries.every((x) => x.status === 'sent' || x.status === 'bounced');
    for (let i = 0; i < 20 && queue.thisMessage && allDone; i++) {
      await new Promise((r) => setTimeout(r, 100));
      queue = await queueView(sender, queueId);
    }
    const dnsNode = session.topology.firstOfKind('dns');
    const dns = check.dnsLookups.length && dnsNode ? await session.node(dnsNode.name, 'dns') : null;
    const lookups = dns ? await Promise.all(check.dnsLookups.map((q) => dns.query(q.name, q.type))) : [];
    let oracle: PosttlsFingerView | null = null;
    if (check.posttlsFinger) {
      const { destination, level } = check.posttlsFinger;
      const r = await sender.exec(posttlsFingerCommand(destination, level));
      oracle = parsePosttlsFinger(destination, level, r.exitCode, r.output);
    }
    const own = outboundQueue.events(sender.log, queueId, since);
    const resolverDown = session.topology.firstOfKind('sts-resolver') ? resolverProblem(own, sender.log.since(since)) : null;
    if (resolverDown) throw new LabError('ESTS', `the MTA-STS resolver did not answer Postfix's socketmap query, so this is no MTA-STS verdict: ${resolverDown}`);
    const tlsrpt = await tlsrptView(sender, check, stsMarkers, own);
    const sts = await stsView(session, check, stsMarkers);
    const obs: DeliveryObservation = Object.freeze({
      messageId,
      queueId,
      via: check.send.via,
      deliveries: Object.freeze(deliveries),
      retry,
      peers: Object.freeze(peers),
      queue,
      endToEndMs: firstDone - injected,
      dns: Object.freeze(lookups),
      posttlsFinger: oracle,
      certificates: Object.freeze(Object.fromEntries([...session.certs.pairs].map(([name, p]) => [name, Object.freeze({ sha256: p.sha256, spkiSha256: colonHex(spkiSha256(p.cert)) })]))),
      tlsrpt,
      sts,
    });
    out.tlsSurface.delivery = obs;
    const version = sender.log.all().find((e): e is Extract<PostfixLogEvent, { type: 'daemon-started' }> => e.type === 'daemon-started')?.version ?? null;
    const conversations = deliveryConversations({ node: sender.node.name, software: version ? `Postfix ${version}` : null }, [...deliveries, ...(retry?.deliveries ?? [])], peers, (n) => session.topology.spec(n).hostnames, own);
    if (conversations.length) out.tlsSurface.conversations = conversations;
    out.assertions.push(...expectationAssertions('delivery', check.expect, obs));
    addEvents(out, own);
    out.assertions.push(...logPresenceAssertions('sender-log', own, check.senderLog, check.senderLogAbsent, obs));
    out.assertions.push(...agreement(obs));
    out.assertions.push(...tlsrptAgreement(obs.tlsrpt));
  } finally {
    // A deferred message would be retried during a later check and confuse its peer record: it goes once judged.
    if (!queueIdDropped) {
      queueIdDropped = true;
      await sender.exec(['postsuper', '-d', queueId]).catch(() => undefined);
    }
  }
};
