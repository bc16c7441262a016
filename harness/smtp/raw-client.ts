import type net from 'node:net';
import tls from 'node:tls';
import type { ReplyLimits } from './reply-reader.js';
import { SmtpSession } from './smtp-session.js';
import { expectReply, readGreeting, requestStarttls, sayEhlo } from './starttls.js';
import { connectTcp } from './tcp.js';
import { tlsHandshake } from '../tls/handshake.js';
import { describeTlsSocket, type TlsClientOptions, toNodeTlsOptions } from '../tls/node-tls.js';
import { ObservationBuilder } from '../tls/observation-builder.js';
import type { SmtpReply, TlsMode, TlsObservation } from '../tls/observation.js';
import { renegotiate } from '../tls/renegotiate.js';

/**
 * Our own SMTP client on node:net / node:tls, with full control of every step:
 * banner → EHLO → STARTTLS → handshake → EHLO → [AUTH] → [MAIL/RCPT/DATA] → QUIT.
 * It records what it saw as a TlsObservation; it never throws for a server-side failure,
 * which lands in observation.error with its code and stage instead.
 */

export interface RawClientOptions {
  readonly host: string;
  readonly port: number;
  readonly mode: TlsMode;
  readonly ehloName?: string;
  readonly tls?: TlsClientOptions;
  /** Send STARTTLS even when EHLO did not advertise it (default: stop with ENOSTARTTLS). */
  readonly forceStarttls?: boolean;
  /** A command to send before TLS (e.g. MAIL FROM, to see the server refuse it); its reply is kept in the transcript. */
  readonly plaintextProbe?: string;
  /**
   * Send this command in the same packet as STARTTLS ("STARTTLS\r\nRSET\r\n"): the
   * CVE-2011-0411 class. A safe server discards it; if it answers it inside TLS, it survived.
   */
  readonly injectAfterStarttls?: string;
  /** After TLS and EHLO, ask for a TLS renegotiation (TLS 1.2 and below) and record the server's answer. */
  readonly renegotiate?: boolean;
  /** Stop after this step; later steps are not attempted. */
  readonly stopAfter?: 'banner' | 'ehlo' | 'handshake';
  readonly auth?: { readonly mechanism: 'PLAIN' | 'LOGIN'; readonly user: string; readonly pass: string };
  readonly message?: { readonly from: string; readonly to: readonly string[]; readonly data: string };
  readonly timeouts?: Partial<{ connect: number; banner: number; reply: number; handshake: number }>;
  readonly limits?: ReplyLimits;
}

export interface RawClientResult {
  readonly observation: TlsObservation;
  /** The TLS session for a resumption attempt. Kept out of the observation: it holds secrets. */
  readonly session: Buffer | null;
  /** The plaintext probe's reply, when one was sent. */
  readonly probeReply: SmtpReply | null;
}

const DEFAULTS = { connect: 5_000, banner: 10_000, reply: 10_000, handshake: 10_000 };

export async function runRawClient(o: RawClientOptions): Promise<RawClientResult> {
  const t = { ...DEFAULTS, ...o.timeouts };
  const obs = new ObservationBuilder('raw', { host: o.host, port: o.port, mode: o.mode });
  const s = new SmtpSession({ ...(o.limits ? { limits: o.limits } : {}), stage: 'tcp', note: (dir, text) => obs.note(dir, text) });
  const ehloName = o.ehloName ?? 'client.lab.test';
  const nodeTls = toNodeTlsOptions(o.tls ?? {});
  /** Every socket opened (TCP, then TLS over it), destroyed at the end whatever happened. */
  const sockets: net.Socket[] = [];
  let session: Buffer | null = null;
  let probeReply: SmtpReply | null = null;

  const upgrade = async (base: tls.ConnectionOptions): Promise<tls.TLSSocket> => {
    s.stage = 'handshake';
    const sock = await tlsHandshake({ ...nodeTls, ...base }, { timeoutMs: t.handshake, onSocket: (x) => sockets.push(x) });
    // TLS 1.2 hands out its session (or ticket) during the handshake, before this line runs;
    // TLS 1.3 tickets arrive afterwards, as 'session' events.
    session = sock.getSession() ?? null;
    sock.on('session', (sess: Buffer) => {
      session = sess;
    });
    const details = describeTlsSocket(sock, o.tls ?? {});
    obs.set('tls', details);
    obs.note('*', `TLS established: ${details.protocol} ${details.cipher.openssl}${details.sessionReused ? ' (resumed)' : ''}`);
    s.attach(sock);
    return sock;
  };

  try {
    // Implicit TLS too starts with a bare TCP connection, so the client's address and port are
    // known (and Postfix's log pairs with them) even when the handshake then fails.
    const tcp = await connectTcp(o.host, o.port, { timeoutMs: t.connect, onSocket: (x) => sockets.push(x) });
    const localPort = tcp.localPort ?? null;
    obs.set('localAddress', tcp.localAddress ?? null);
    obs.set('localPort', localPort);
    obs.note('*', `connected to ${o.host}:${o.port} from port ${localPort} (${o.mode})`);
    if (o.mode === 'implicit') await upgrade({ socket: tcp, host: o.host });
    else s.attach(tcp);

    await readGreeting(s, { ms: t.banner, seen: (r) => obs.set('banner', r) });
    if (o.stopAfter === 'banner') return finish();

    const ehlo = await sayEhlo(s, { ehloName, ms: t.reply });
    const before = o.mode === 'implicit' ? null : ehlo.capabilities;
    obs.set('capabilities', { beforeTls: before, afterTls: o.mode === 'implicit' ? ehlo.capabilities : null });

    if (o.plaintextProbe && o.mode !== 'implicit') {
      probeReply = await s.command(o.plaintextProbe, 'plaintext-probe-reply', t.reply);
      obs.set('probe', { command: o.plaintextProbe, reply: probeReply });
    }
    if (o.stopAfter === 'ehlo') return finish();

    if (o.mode === 'starttls') {
      const starttls = await requestStarttls(s, {
        capabilities: before ?? [],
        ms: t.reply,
        ...(o.forceStarttls ? { force: true } : {}),
        ...(o.injectAfterStarttls ? { inject: o.injectAfterStarttls } : {}),
        seen: (r) => obs.set('starttlsReply', r),
      });
      await upgrade({ socket: starttls.stream as net.Socket });
      if (o.stopAfter === 'handshake') return finish();
      s.stage = 'ehlo';
      let ehlo2 = await s.command(`EHLO ${ehloName}`, 'ehlo-after-tls-reply', t.reply);
      if (o.injectAfterStarttls) {
        // An EHLO reply is multi-line and starts with the server's name. A single-line reply
        // before it answers the injected command: the plaintext survived into TLS.
        const survived = ehlo2.lines.length === 1;
        obs.set('injection', { command: o.injectAfterStarttls, survived, firstReplyInTls: ehlo2 });
        if (survived) ehlo2 = await s.reply('ehlo-after-tls-reply', t.reply);
      }
      expectReply(ehlo2, [250], 'EEHLO', 'EHLO after TLS was refused', 'ehlo');
      obs.set('capabilities', { beforeTls: before, afterTls: ehlo2.lines.slice(1).map((l) => l.trim()) });
    }

    if (o.renegotiate && s.stream instanceof tls.TLSSocket) {
      s.stage = 'handshake';
      obs.note('*', 'client-initiated renegotiation requested');
      const outcome = await renegotiate(s.stream, Math.min(t.handshake, 3_000));
      obs.note('*', `renegotiation ${outcome.accepted ? 'accepted' : `refused: ${outcome.error}`}${outcome.connectionClosed ? '; connection closed' : ''}`);
      obs.set('renegotiation', outcome);
      s.stage = 'ehlo';
      // Whatever the answer, is the session still usable? A NOOP tells.
      if (!outcome.connectionClosed) await s.command('NOOP', 'noop-after-renegotiation-reply', t.reply);
    }

    if (o.auth) {
      s.stage = 'auth';
      let r: SmtpReply;
      if (o.auth.mechanism === 'PLAIN') {
        const token = Buffer.from(`\0${o.auth.user}\0${o.auth.pass}`).toString('base64');
        r = await s.command(`AUTH PLAIN ${token}`, 'auth-reply', t.reply, 'AUTH PLAIN <redacted>');
      } else {
        r = await s.command('AUTH LOGIN', 'auth-reply', t.reply);
        if (r.code === 334) r = await s.command(Buffer.from(o.auth.user).toString('base64'), 'auth-user-reply', t.reply, '<redacted>');
        if (r.code === 334) r = await s.command(Buffer.from(o.auth.pass).toString('base64'), 'auth-pass-reply', t.reply, '<redacted>');
      }
      obs.set('auth', { mechanism: o.auth.mechanism, reply: r });
      expectReply(r, [235], 'EAUTH', 'authentication failed', 'auth');
    }

    if (o.message) {
      s.stage = 'mail';
      const m = o.message;
      const mail = await s.command(`MAIL FROM:<${m.from}>`, 'mail-from-reply', t.reply);
      obs.set('delivery', { accepted: false, reply: mail, queueId: null });
      expectReply(mail, [250], 'EENVELOPE', 'MAIL FROM was refused', 'mail');
      for (const rcpt of m.to) {
        const r = await s.command(`RCPT TO:<${rcpt}>`, 'rcpt-to-reply', t.reply);
        obs.set('delivery', { accepted: false, reply: r, queueId: null });
        expectReply(r, [250, 251], 'EENVELOPE', `RCPT TO <${rcpt}> was refused`, 'mail');
      }
      const data = await s.command('DATA', 'data-reply', t.reply);
      obs.set('delivery', { accepted: false, reply: data, queueId: null });
      expectReply(data, [354], 'EMESSAGE', 'DATA was refused', 'mail');
      const body = m.data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      s.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`, [`<${Buffer.byteLength(body)} bytes of message data>`]);
      const done = await s.reply('end-of-data-reply', t.reply);
      const queueId = /queued as ([0-9A-Za-z]+)/.exec(done.lines.join(' '))?.[1] ?? null;
      obs.set('delivery', { accepted: done.code === 250, reply: done, queueId });
      expectReply(done, [250], 'EMESSAGE', 'the message was refused', 'mail');
    }

    s.stage = 'quit';
    try {
      await s.command('QUIT', 'quit-reply', 2_000);
    } catch {
      // The session's result is already known; a server that drops the line at QUIT changes nothing.
    }
  } catch (err) {
    obs.fail(err, s.stage);
  }
  return finish();

  function finish(): RawClientResult {
    s.detach();
    // Outermost first: tcp.destroy() then tls.destroy() in one tick crashes Node 20 (SIGSEGV).
    for (const sock of [...sockets].reverse()) sock.destroy();
    return { observation: obs.finish(), session, probeReply };
  }
}
