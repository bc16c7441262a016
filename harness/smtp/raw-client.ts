import net from 'node:net';
import tls from 'node:tls';
import { LabError, asLabError, type Stage } from '../core/errors.js';
import { deepFreeze } from '../core/freeze.js';
import { withTimeout } from '../core/timeouts.js';
import { DEFAULT_REPLY_LIMITS, ReplyReader, type ReplyLimits } from './reply-reader.js';
import { renegotiate } from '../tls/renegotiate.js';
import { describeTlsSocket, type TlsClientOptions, toNodeTlsOptions, tlsErrorMessage } from '../tls/node-tls.js';
import { OBSERVATION_SCHEMA, type SmtpReply, type TlsDetails, type TlsMode, type TlsObservation, type TranscriptEntry } from '../tls/observation.js';

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

/** OpenSSL errors raised by the client before the server said anything: not a server verdict. */
const CLIENT_SIDE_TLS_ERRORS = new Set(['ERR_SSL_NO_PROTOCOLS_AVAILABLE', 'ERR_SSL_NO_CIPHER_MATCH', 'ERR_SSL_NO_CIPHERS_AVAILABLE', 'ERR_SSL_NO_SUITABLE_GROUPS']);

const DEFAULTS = { connect: 5_000, banner: 10_000, reply: 10_000, handshake: 10_000 };

class Session {
  readonly started = Date.now();
  readonly transcript: TranscriptEntry[] = [];
  stage: Stage = 'tcp';
  socket: net.Socket | null = null;
  private reader: ReplyReader;
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: LabError) => void } | null = null;
  private closed: LabError | null = null;
  private readonly onData = (d: Buffer) => {
    this.reader.push(d, this.stage);
    this.pump();
  };
  private readonly onClose = () => this.fail(new LabError('ECLOSED', 'the server closed the connection', { stage: this.stage }));
  private readonly onError = (e: Error) => this.fail(new LabError('ECONNECTION', `connection error: ${e.message}`, { stage: this.stage }));

  constructor(readonly limits: ReplyLimits) {
    this.reader = new ReplyReader(limits);
  }

  note(dir: TranscriptEntry['dir'], text: string): void {
    this.transcript.push({ t: Date.now() - this.started, dir, text });
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    this.closed = null;
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
    socket.on('error', this.onError);
  }

  detach(): void {
    this.socket?.off('data', this.onData);
    this.socket?.off('close', this.onClose);
    this.socket?.off('error', this.onError);
  }

  /** Start over with a fresh reader (after STARTTLS), returning bytes the old one still held. */
  resetReader(): Buffer {
    const left = this.reader.takeLeftover();
    this.reader = new ReplyReader(this.limits);
    return left;
  }

  private pump(): void {
    if (this.reader.error) return this.fail(this.reader.error);
    if (!this.waiter) return;
    const r = this.reader.shift();
    if (r) {
      const w = this.waiter;
      this.waiter = null;
      r.lines.forEach((l, i) => this.note('S', `${r.code}${i === r.lines.length - 1 ? ' ' : '-'}${l}`));
      w.resolve(r);
    }
  }

  private fail(err: LabError): void {
    if (!this.closed) this.closed = err;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.reject(err);
    }
  }

  reply(name: string, ms: number): Promise<SmtpReply> {
    const p = new Promise<SmtpReply>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.pump();
      if (this.waiter && this.closed) this.fail(this.closed);
    });
    return withTimeout(name, ms, p, {
      stage: this.stage,
      onTimeout: () => {
        this.waiter = null;
        this.note('*', `timeout '${name}' after ${ms} ms`);
      },
    });
  }

  send(line: string, shown: string = line): void {
    this.note('C', shown);
    this.socket!.write(`${line}\r\n`);
  }

  async command(line: string, name: string, ms: number, shown?: string): Promise<SmtpReply> {
    this.send(line, shown);
    return this.reply(name, ms);
  }
}

function capabilities(r: SmtpReply): string[] {
  return r.lines.slice(1).map((l) => l.trim());
}

function hasStarttls(caps: readonly string[]): boolean {
  return caps.some((c) => c.toUpperCase() === 'STARTTLS');
}

function expect(r: SmtpReply, codes: readonly number[], code: ConstructorParameters<typeof LabError>[0], what: string, stage: Stage): void {
  if (!codes.includes(r.code)) throw new LabError(code, `${what}: ${r.code} ${r.lines.join(' / ')}`, { stage });
}

function connectTcp(s: Session, host: string, port: number, ms: number): Promise<net.Socket> {
  return withTimeout(
    'tcp-connect',
    ms,
    new Promise<net.Socket>((resolve, reject) => {
      const sock = net.connect({ host, port });
      sock.once('connect', () => resolve(sock));
      sock.once('error', (e) => reject(new LabError('ECONNECTION', `cannot connect to ${host}:${port}: ${e.message}`, { stage: 'tcp' })));
      s.socket = sock;
    }),
    { stage: 'tcp' },
  );
}

function handshake(s: Session, opts: tls.ConnectionOptions, ms: number): Promise<tls.TLSSocket> {
  return withTimeout(
    'tls-handshake',
    ms,
    new Promise<tls.TLSSocket>((resolve, reject) => {
      let t: tls.TLSSocket;
      try {
        t = tls.connect(opts);
      } catch (e) {
        // Thrown before a byte is sent: our own TLS library cannot offer what was asked.
        reject(new LabError('ECLIENT_CAPABILITY', `the client cannot offer this: ${(e as Error).message}`, { stage: 'handshake' }));
        return;
      }
      s.socket = t;
      t.once('secureConnect', () => resolve(t));
      t.once('error', (e: Error & { code?: string }) => {
        const local = e.code !== undefined && CLIENT_SIDE_TLS_ERRORS.has(e.code);
        reject(new LabError(local ? 'ECLIENT_CAPABILITY' : 'ETLS', tlsErrorMessage(e), { stage: 'handshake', detail: e.message }));
      });
      t.once('close', () => reject(new LabError('ETLS', 'the server closed the connection during the TLS handshake', { stage: 'handshake' })));
    }),
    { stage: 'handshake' },
  );
}

/** Client-initiated renegotiation, with its outcome in the transcript. */
async function renegotiateNoted(s: Session, sock: tls.TLSSocket, ms: number): Promise<NonNullable<TlsObservation['renegotiation']>> {
  s.note('*', 'client-initiated renegotiation requested');
  const outcome = await renegotiate(sock, ms);
  s.note('*', `renegotiation ${outcome.accepted ? 'accepted' : `refused: ${outcome.error}`}${outcome.connectionClosed ? '; connection closed' : ''}`);
  return outcome;
}

export async function runRawClient(o: RawClientOptions): Promise<RawClientResult> {
  const t = { ...DEFAULTS, ...o.timeouts };
  const s = new Session(o.limits ?? DEFAULT_REPLY_LIMITS);
  const ehloName = o.ehloName ?? 'client.lab.test';
  const startedAt = new Date(s.started).toISOString();
  let banner: SmtpReply | null = null;
  let before: string[] | null = null;
  let after: string[] | null = null;
  let starttlsReply: SmtpReply | null = null;
  let tlsDetails: TlsDetails | null = null;
  let auth: TlsObservation['auth'] = null;
  let delivery: TlsObservation['delivery'] = null;
  let error: LabError | null = null;
  let session: Buffer | null = null;
  let probeReply: SmtpReply | null = null;
  let localPort: number | null = null;
  let localAddress: string | null = null;
  let injection: TlsObservation['injection'] = null;
  let renegotiation: TlsObservation['renegotiation'] = null;
  const nodeTls = toNodeTlsOptions(o.tls ?? {});

  const upgrade = async (base: tls.ConnectionOptions) => {
    s.stage = 'handshake';
    const sock = await handshake(s, { ...nodeTls, ...base }, t.handshake);
    // TLS 1.2 hands out its session (or ticket) during the handshake, before this line runs;
    // TLS 1.3 tickets arrive afterwards, as 'session' events.
    session = sock.getSession() ?? null;
    sock.on('session', (sess: Buffer) => {
      session = sess;
    });
    tlsDetails = describeTlsSocket(sock, o.tls ?? {});
    s.note('*', `TLS established: ${tlsDetails.protocol} ${tlsDetails.cipher.openssl}${tlsDetails.sessionReused ? ' (resumed)' : ''}`);
    s.attach(sock);
    return sock;
  };

  try {
    if (o.mode === 'implicit') {
      s.stage = 'handshake';
      const sock = await upgrade({ host: o.host, port: o.port });
      localPort = sock.localPort ?? null;
      localAddress = sock.localAddress ?? null;
    } else {
      const sock = await connectTcp(s, o.host, o.port, t.connect);
      localPort = sock.localPort ?? null;
      localAddress = sock.localAddress ?? null;
      s.attach(sock);
    }
    s.note('*', `connected to ${o.host}:${o.port} from port ${localPort} (${o.mode})`);

    s.stage = 'banner';
    banner = await s.reply('banner', t.banner);
    expect(banner, [220], 'EBANNER', 'the greeting was not 220', 'banner');
    if (o.stopAfter === 'banner') return finish();

    s.stage = 'ehlo';
    const ehlo = await s.command(`EHLO ${ehloName}`, 'ehlo-reply', t.reply);
    expect(ehlo, [250], 'EEHLO', 'EHLO was refused', 'ehlo');
    if (o.mode === 'implicit') after = capabilities(ehlo);
    else before = capabilities(ehlo);

    if (o.plaintextProbe && o.mode !== 'implicit') {
      probeReply = await s.command(o.plaintextProbe, 'plaintext-probe-reply', t.reply);
    }
    if (o.stopAfter === 'ehlo') return finish();

    if (o.mode === 'starttls') {
      s.stage = 'starttls';
      if (!hasStarttls(before ?? []) && !o.forceStarttls) throw new LabError('ENOSTARTTLS', 'the server did not advertise STARTTLS', { stage: 'starttls' });
      if (o.injectAfterStarttls) {
        // One write: both commands reach the server in the same segment, before TLS starts.
        s.note('C', 'STARTTLS');
        s.note('C', `${o.injectAfterStarttls}   (sent in the same packet as STARTTLS)`);
        s.socket!.write(`STARTTLS\r\n${o.injectAfterStarttls}\r\n`);
        starttlsReply = await s.reply('starttls-reply', t.reply);
      } else {
        starttlsReply = await s.command('STARTTLS', 'starttls-reply', t.reply);
      }
      expect(starttlsReply, [220], 'ESTARTTLS', 'STARTTLS was refused', 'starttls');
      const plain = s.socket!;
      s.detach();
      const leftover = s.resetReader();
      if (leftover.length > 0) {
        // Bytes after "220 Ready to start TLS" and before the handshake can only be an injection
        // (CVE-2011-0411 class, server side). A careful client discards them and stops.
        s.note('*', `discarded ${leftover.length} plaintext bytes received after the STARTTLS reply`);
        throw new LabError('EINJECTION', `the server sent ${leftover.length} bytes of plaintext after its STARTTLS reply`, {
          stage: 'starttls',
          detail: JSON.stringify(leftover.toString('latin1').slice(0, 200)),
        });
      }
      await upgrade({ socket: plain });
      if (o.stopAfter === 'handshake') return finish();
      s.stage = 'ehlo';
      let ehlo2 = await s.command(`EHLO ${ehloName}`, 'ehlo-after-tls-reply', t.reply);
      if (o.injectAfterStarttls) {
        // An EHLO reply is multi-line and starts with the server's name. A single-line reply
        // before it answers the injected command: the plaintext survived into TLS.
        const survived = ehlo2.lines.length === 1;
        injection = { command: o.injectAfterStarttls, survived, firstReplyInTls: ehlo2 };
        if (survived) ehlo2 = await s.reply('ehlo-after-tls-reply', t.reply);
      }
      expect(ehlo2, [250], 'EEHLO', 'EHLO after TLS was refused', 'ehlo');
      after = capabilities(ehlo2);
    }

    if (o.renegotiate && s.socket instanceof tls.TLSSocket) {
      s.stage = 'handshake';
      renegotiation = await renegotiateNoted(s, s.socket, Math.min(t.handshake, 3_000));
      s.stage = 'ehlo';
      // Whatever the answer, is the session still usable? A NOOP tells.
      if (!renegotiation.connectionClosed) await s.command('NOOP', 'noop-after-renegotiation-reply', t.reply);
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
      auth = { mechanism: o.auth.mechanism, reply: r };
      expect(r, [235], 'EAUTH', 'authentication failed', 'auth');
    }

    if (o.message) {
      s.stage = 'mail';
      const m = o.message;
      const mail = await s.command(`MAIL FROM:<${m.from}>`, 'mail-from-reply', t.reply);
      delivery = { accepted: false, reply: mail, queueId: null };
      expect(mail, [250], 'EENVELOPE', 'MAIL FROM was refused', 'mail');
      for (const rcpt of m.to) {
        const r = await s.command(`RCPT TO:<${rcpt}>`, 'rcpt-to-reply', t.reply);
        delivery = { accepted: false, reply: r, queueId: null };
        expect(r, [250, 251], 'EENVELOPE', `RCPT TO <${rcpt}> was refused`, 'mail');
      }
      const data = await s.command('DATA', 'data-reply', t.reply);
      delivery = { accepted: false, reply: data, queueId: null };
      expect(data, [354], 'EMESSAGE', 'DATA was refused', 'mail');
      const body = m.data.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
      s.note('C', `<${Buffer.byteLength(body)} bytes of message data>`);
      s.socket!.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
      const done = await s.reply('end-of-data-reply', t.reply);
      const queueId = /queued as ([0-9A-Za-z]+)/.exec(done.lines.join(' '))?.[1] ?? null;
      delivery = { accepted: done.code === 250, reply: done, queueId };
      expect(done, [250], 'EMESSAGE', 'the message was refused', 'mail');
    }

    s.stage = 'quit';
    try {
      await s.command('QUIT', 'quit-reply', 2_000);
    } catch {
      // The session's result is already known; a server that drops the line at QUIT changes nothing.
    }
  } catch (err) {
    error = asLabError(err);
    if (error.stage === null) error = new LabError(error.code, error.message, { stage: s.stage, ...(error.detail ? { detail: error.detail } : {}) });
    s.note('*', `error at ${error.stage}: ${error.code} ${error.message}`);
  }
  return finish();

  function finish(): RawClientResult {
    s.detach();
    s.socket?.destroy();
    const observation: TlsObservation = {
      schema: OBSERVATION_SCHEMA,
      client: 'raw',
      target: { host: o.host, port: o.port, mode: o.mode },
      startedAt,
      durationMs: Date.now() - s.started,
      localAddress,
      localPort,
      banner,
      capabilities: { beforeTls: before, afterTls: after },
      starttlsReply,
      probe: probeReply && o.plaintextProbe ? { command: o.plaintextProbe, reply: probeReply } : null,
      injection,
      renegotiation,
      resumption: null,
      tls: tlsDetails,
      auth,
      delivery,
      transcript: [...s.transcript],
      error: error ? error.toRecord() : null,
    };
    return { observation: deepFreeze(observation), session, probeReply };
  }
}
