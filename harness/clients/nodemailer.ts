import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import { describeTlsSocket, tlsErrorMessage, toNodeTlsOptions } from '../tls/node-tls.js';
import { ObservationBuilder } from '../tls/observation-builder.js';
import type { SmtpReply, TlsObservation, TranscriptEntry } from '../tls/observation.js';
import { WATCH_TAG, watchTlsSockets } from './tls-socket-watch.js';
import type { ClientOutcome, ClientRequest } from './index.js';

/**
 * nodemailer used as a mail client uses it: a transport with secure (465) or requireTLS
 * (587/25), optional AUTH, then `verify()` or `sendMail()`. The TLS details come from the
 * TLSSocket nodemailer itself negotiated (see tls-socket-watch.ts); the transcript and EHLO
 * capabilities come from nodemailer's own debug log.
 */

/** nodemailer's error command → the lab's stage. */
function stageOf(command: string | undefined, upgraded: boolean): Stage {
  const c = (command ?? '').toUpperCase();
  if (c === 'CONN') return upgraded ? 'ehlo' : 'tcp';
  if (c.startsWith('GREETING') || c === '') return upgraded ? 'ehlo' : 'banner';
  if (c.startsWith('EHLO') || c.startsWith('HELO') || c.startsWith('LHLO')) return 'ehlo';
  if (c.startsWith('STARTTLS')) return 'starttls';
  if (c.startsWith('AUTH')) return 'auth';
  return 'mail';
}

function codeOf(err: { code?: string; message: string }, stage: Stage): ErrorCode {
  switch (err.code) {
    case 'ECONNECTION':
    case 'ESOCKET':
    case 'EDNS':
      return /tls|ssl|handshake|alert/i.test(err.message) ? 'ETLS' : stage === 'tcp' ? 'ECONNECTION' : 'ECLOSED';
    case 'ETIMEDOUT':
    case 'EPROXY':
      return 'ETIMEOUT';
    case 'ETLS':
      return /did not advertise|not advertise STARTTLS|STARTTLS/i.test(err.message) && stage !== 'handshake' ? 'ENOSTARTTLS' : 'ETLS';
    case 'EAUTH':
      return 'EAUTH';
    case 'EENVELOPE':
      return 'EENVELOPE';
    case 'EMESSAGE':
      return 'EMESSAGE';
    case 'EPROTOCOL':
      return 'EPROTOCOL';
    default:
      return 'ECLOSED';
  }
}

function redact(line: string, afterAuthChallenge: boolean): string {
  // "AUTH PLAIN <token>" keeps its mechanism; a bare "AUTH LOGIN" carries no secret and stays as sent.
  if (/^AUTH\s+\S+/i.test(line)) return line.replace(/^(AUTH\s+\S+)\s+.*$/i, '$1 <redacted>');
  return afterAuthChallenge ? '<redacted>' : line;
}

export async function runNodemailer(req: ClientRequest): Promise<ClientOutcome> {
  const obs = new ObservationBuilder('nodemailer', { host: req.host, port: req.port, mode: req.mode });
  const note = (dir: TranscriptEntry['dir'], text: string) => obs.note(dir, text);
  const id = randomUUID();
  let upgraded = req.mode === 'implicit';
  let lastServerCode = 0;
  // The client's own address as Postfix logs it: from the TCP socket under STARTTLS, from the
  // implicit-TLS socket once its TCP connection is up (before the handshake, which may fail),
  // and from nodemailer's own "Connection established" log entry (the only sight of it in plain mode).
  let localKnown = false;
  const setLocal = (address: string | undefined, port: number | undefined) => {
    if (localKnown || address === undefined || port === undefined) return;
    localKnown = true;
    obs.set('localAddress', address);
    obs.set('localPort', port);
  };

  const unwatch = watchTlsSockets(id, (socket, underlying) => {
    if (underlying) setLocal(underlying.localAddress, underlying.localPort);
    else socket.once('connect', () => setLocal(socket.localAddress, socket.localPort));
    socket.once('secureConnect', () => {
      const details = describeTlsSocket(socket, req.tls);
      obs.set('tls', details);
      setLocal(socket.localAddress, socket.localPort);
      note('*', `TLS established: ${details.protocol} ${details.cipher.openssl}`);
    });
  });

  const log = (level: string) => (meta: Record<string, unknown> | undefined, message: string, ...args: unknown[]) => {
    const text = args.length ? message.replace(/%[sd]/g, () => String(args.shift())) : message;
    if (meta?.tnx === 'network' && typeof meta.localAddress === 'string' && typeof meta.localPort === 'number') setLocal(meta.localAddress, meta.localPort);
    if (meta?.tnx === 'server') {
      for (const l of text.split(/\r?\n/).filter(Boolean)) {
        note('S', l);
        lastServerCode = Number(l.slice(0, 3)) || lastServerCode;
      }
    } else if (meta?.tnx === 'client') {
      for (const l of text.split(/\r?\n/).filter(Boolean)) note('C', redact(l, lastServerCode === 334));
    } else if (level !== 'trace' && !/^(Sending message|Resolved|Connection established)/.test(text)) {
      if (/upgraded with STARTTLS/i.test(text)) upgraded = true;
      note('*', text);
    }
  };
  const logger = { level: () => {}, trace: log('trace'), debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), fatal: log('fatal') };

  const transport = nodemailer.createTransport({
    host: req.host,
    port: req.port,
    secure: req.mode === 'implicit',
    requireTLS: req.mode === 'starttls',
    ignoreTLS: req.mode === 'plain',
    name: req.ehloName ?? 'client.lab.test',
    connectionTimeout: req.timeouts?.connect ?? 5_000,
    greetingTimeout: req.timeouts?.banner ?? 10_000,
    socketTimeout: req.timeouts?.reply ?? 10_000,
    logger,
    debug: true,
    ...(req.auth ? { auth: { user: req.auth.user, pass: req.auth.pass }, authMethod: req.auth.mechanism } : {}),
    tls: { ...toNodeTlsOptions(req.tls), [WATCH_TAG]: id } as never,
  });

  try {
    if (req.message) {
      const info = await transport.sendMail({ envelope: { from: req.message.from, to: [...req.message.to] }, raw: req.message.data.replace(/\r?\n/g, '\r\n') });
      const reply = parseReply(info.response);
      obs.set('delivery', { accepted: true, reply, queueId: /queued as ([0-9A-Za-z]+)/.exec(info.response)?.[1] ?? null });
    } else {
      await transport.verify();
    }
  } catch (err) {
    const e = err as Error & { code?: string; command?: string; responseCode?: number; response?: string };
    const stage = /handshake|SSL routines|alert/i.test(e.message) ? 'handshake' : stageOf(e.command, upgraded);
    // TLS failures are phrased as the other clients phrase them ("…: reason, alert N").
    const message = stage === 'handshake' ? tlsErrorMessage(e) : e.message;
    obs.fail(new LabError(codeOf(e, stage), `nodemailer: ${message}`, { stage, detail: e.response ?? e.message }));
    if (stage === 'mail' && e.response) obs.set('delivery', { accepted: false, reply: parseReply(e.response), queueId: null });
  } finally {
    transport.close();
    unwatch();
  }

  const transcript = obs.transcript;
  const caps = capabilities(transcript, req.mode === 'implicit');
  obs.set('banner', firstReply(transcript));
  obs.set('capabilities', { beforeTls: req.mode === 'implicit' ? null : caps.before, afterTls: req.mode === 'plain' ? null : caps.after });
  obs.set('starttlsReply', replyAfter(transcript, /^STARTTLS$/i));
  // What nodemailer really did: it skips AUTH when the server offers none, so `auth` is null then.
  obs.set('auth', authFromTranscript(transcript));
  return { observation: obs.finish(), extra: {} };
}

function parseReply(text: string): SmtpReply {
  const lines = text.split(/\r?\n/).filter(Boolean);
  return { code: Number(lines[0]?.slice(0, 3)) || 0, lines: lines.map((l) => l.slice(4)) };
}

/** The reply (consecutive S lines) that follows the first C line matching `cmd`. */
function replyAfter(t: readonly TranscriptEntry[], cmd: RegExp, from = 0): SmtpReply | null {
  const i = t.findIndex((e, k) => k >= from && e.dir === 'C' && cmd.test(e.text));
  if (i < 0) return null;
  const lines: string[] = [];
  for (let k = i + 1; k < t.length && t[k]!.dir !== 'C'; k++) if (t[k]!.dir === 'S') lines.push(t[k]!.text);
  return lines.length ? parseReply(lines.join('\n')) : null;
}

function firstReply(t: readonly TranscriptEntry[]): SmtpReply | null {
  const lines: string[] = [];
  for (const e of t) {
    if (e.dir === 'C') break;
    if (e.dir === 'S') lines.push(e.text);
  }
  return lines.length ? parseReply(lines.join('\n')) : null;
}

/**
 * The AUTH exchange as the transcript shows it: the mechanism of the AUTH command nodemailer
 * sent, and the server's final reply to it (for LOGIN, the reply after the 334 challenges and
 * the answers to them). Null when no AUTH command was sent, or the server never replied.
 */
export function authFromTranscript(t: readonly TranscriptEntry[]): TlsObservation['auth'] {
  const start = t.findIndex((e) => e.dir === 'C' && /^AUTH\s+\S+/i.test(e.text));
  if (start < 0) return null;
  const mechanism = /^AUTH\s+(\S+)/i.exec(t[start]!.text)![1]!.toUpperCase();
  let from = start;
  for (;;) {
    const reply = replyAfter(t, /.*/, from);
    if (!reply) return null;
    if (reply.code !== 334) return { mechanism, reply };
    // A challenge: the client's answer is the next line it sent; the reply to that follows it.
    const answer = t.findIndex((e, k) => k > from && e.dir === 'C');
    if (answer < 0) return null;
    from = answer;
  }
}

/**
 * EHLO capabilities before and after STARTTLS, from the transcript. The boundary is the
 * STARTTLS command itself: nodemailer sends its second EHLO from inside its handshake
 * callback, before any listener of ours runs, so a note of ours could land after it.
 */
function capabilities(t: readonly TranscriptEntry[], implicit: boolean): { before: string[] | null; after: string[] | null } {
  const replies: { tls: boolean; caps: string[] }[] = [];
  let tls = implicit;
  for (let i = 0; i < t.length; i++) {
    const e = t[i]!;
    if (e.dir === 'C' && /^STARTTLS$/i.test(e.text)) tls = true;
    if (e.dir === 'C' && /^EHLO /i.test(e.text)) {
      const r = replyAfter(t, /^EHLO /i, i);
      if (r && r.code === 250) replies.push({ tls, caps: r.lines.slice(1).map((l) => l.trim()) });
    }
  }
  return { before: replies.find((r) => !r.tls)?.caps ?? null, after: replies.find((r) => r.tls)?.caps ?? null };
}
