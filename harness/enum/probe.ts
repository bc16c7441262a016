import dns from 'node:dns/promises';
import net from 'node:net';
import tls from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import { LabError, asLabError } from '../core/errors.js';
import { withTimeout } from '../core/timeouts.js';
import { summarizeChain, type CertificateSummary } from './cert-summary.js';
import {
  byCode,
  groupByCode,
  keyExchangeOf,
  NAMED_GROUPS,
  PROBE_VERSIONS,
  type ProbeVersion,
  suitesFor,
  TLS13_SUITES,
  versionRank,
} from './cipher-suites.js';
import { buildClientHello, type ClientHelloSpec } from './client-hello.js';
import { AdaptivePool } from './pool.js';
import {
  type GroupEntry,
  PROBE_SCHEMA,
  type ProbeFeatures,
  type ProbeResult,
  type ProbeScope,
  type StarttlsDialogue,
  type SuiteEntry,
} from './probe-result.js';
import type { FinishedAnswer, ServerHelloAnswer } from './server-answer.js';
import {
  completeHandshake,
  type CompletedHandshake,
  DEFAULT_PROBE_TIMEOUTS,
  exchangeHello,
  openForTls,
  type ProbeTarget,
  type ProbeTimeouts,
  type SmtpDialogue,
  TransportError,
  type TransportOptions,
} from './starttls-transport.js';

export type { ProbeTarget, ProbeMode, ProbeTimeouts } from './starttls-transport.js';
export type { ProbeResult } from './probe-result.js';

/**
 * The enumeration engine behind `smtp-tls-lab probe`.
 *
 * Every handshake attempt is its own TCP connection and SMTP setup, run through a bounded,
 * throttle-aware pool. Enumeration never completes a handshake: a hand-built ClientHello
 * goes out, the ServerHello (or alert) comes back, the connection is dropped.
 *
 * Per protocol version the search is a chain: offer every suite that version can carry, the
 * server picks one, remove it, offer the rest, until the server refuses. With server
 * preference the chain's picks are the server's order. Groups are chained the same way (an
 * empty TLS 1.3 key_share makes the HelloRetryRequest name the server's pick; for TLS <= 1.2
 * the ServerKeyExchange names the curve), seeded with what the cipher chain already saw.
 * Chains for different versions and for groups run concurrently; only the few features that
 * need it complete a real handshake with node:tls.
 */

export interface ProbeOptions {
  /** Connections at once (default 8). Halved on every throttle signal, grown back on success. */
  readonly concurrency?: number;
  readonly timeouts?: Partial<ProbeTimeouts>;
  readonly ehloName?: string;
  /** SNI for hand-built hellos and node:tls handshakes (default: none; lab targets are IP addresses). */
  readonly sni?: string;
  /** 'enumeration': protocols, suites, order, groups, DHE size only (no complete handshakes). Default 'full'. */
  readonly scope?: ProbeScope;
  /** Retries per attempt after a transient failure (default 6). */
  readonly maxRetries?: number;
  /** Bound on the whole probe (default 180 s). */
  readonly deadlineMs?: number;
}

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_EHLO_NAME = 'probe.lab.test';
const DEFAULT_MAX_RETRIES = 6;
const DEFAULT_DEADLINE_MS = 180_000;
/** Backoff after a transient failure: base * 2^attempt, capped, with jitter. */
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

const EC_GROUPS: readonly number[] = NAMED_GROUPS.filter((g) => g.kind === 'ecdhe').map((g) => g.code);
const ALL_GROUPS: readonly number[] = NAMED_GROUPS.map((g) => g.code);
const TLS13_CODES: readonly number[] = TLS13_SUITES.map((s) => s.code);
const LEGACY_VERSIONS: readonly ProbeVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'];

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  return { promise, resolve, reject };
}

interface Pick {
  readonly code: number;
  readonly answer: ServerHelloAnswer;
}

interface ChainOutcome {
  readonly version: ProbeVersion;
  readonly first: FinishedAnswer;
  readonly accepted: boolean;
  readonly picks: readonly Pick[];
  /** The candidate list of the first step, in offer order. */
  readonly offered: readonly number[];
  /** TLS <= 1.2: the session id length of the answer to a hello without the session_ticket extension (step 2), if there was one. */
  readonly sessionIdWithoutTicket: number | null;
}

function groupName(code: number): string {
  const g = groupByCode(code);
  return g ? (g.openssl ?? g.iana) : `group-0x${code.toString(16).padStart(4, '0')}`;
}

function suiteLabel(code: number): string {
  const s = byCode(code);
  return s ? (s.openssl ?? s.iana) : `0x${code.toString(16).padStart(4, '0')}`;
}

export function describeAnswer(a: FinishedAnswer, v: ProbeVersion): string {
  switch (a.kind) {
    case 'server-hello':
      return a.version === v ? 'accepted' : `answered ${a.version} instead`;
    case 'alert':
      return `alert ${a.description} ${a.name}`;
    case 'sslv2-error':
      return a.text;
    case 'closed':
      return `closed the connection without an answer (${a.bytes} bytes)`;
    case 'timeout':
      return 'no answer in time';
    case 'garbage':
      return `not TLS: ${a.reason}`;
  }
}

function suiteEntry(p: Pick): SuiteEntry {
  const s = byCode(p.code);
  const a = p.answer;
  let keyExchange: SuiteEntry['keyExchange'] = null;
  if (a.version === 'TLSv1.3' && a.selectedGroup !== null) keyExchange = { kind: 'tls13', group: groupName(a.selectedGroup) };
  else if (a.serverKeyExchange?.kind === 'ecdhe') keyExchange = { kind: 'ecdhe', group: groupName(a.serverKeyExchange.group) };
  else if (a.serverKeyExchange?.kind === 'dhe') keyExchange = { kind: 'dhe', bits: a.serverKeyExchange.primeBits };
  const hex = `0x${(p.code >> 8).toString(16).toUpperCase().padStart(2, '0')},0x${(p.code & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
  return {
    code: p.code,
    hex: s?.hex ?? hex,
    openssl: s?.openssl ?? null,
    iana: s?.iana ?? `unknown-${hex}`,
    kx: s?.kx ?? 'unknown',
    au: s?.au ?? 'unknown',
    enc: s?.enc ?? 'unknown',
    mac: s?.mac ?? 'unknown',
    bits: s?.bits ?? 0,
    keyExchange,
  };
}

/** node:tls version names for the versions node can speak (OpenSSL 3 has no SSLv3). */
const NODE_VERSION: Partial<Record<ProbeVersion, tls.SecureVersion>> = { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };

function backoffMs(attempt: number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random() / 2));
}

class Prober {
  private readonly pool: AdaptivePool;
  private readonly t: ProbeTimeouts;
  private readonly transport: TransportOptions;
  private readonly maxRetries: number;
  private readonly sockets = new Set<net.Socket>();
  private fatal: LabError | null = null;
  /** True once one connection got through to a TLS answer: before that, refused connections are not retried. */
  private reached = false;
  connections = 0;
  retries = 0;
  throttles = 0;
  helloAttempts = 0;
  completeHandshakes = 0;
  readonly warnings: string[] = [];
  dialogue: SmtpDialogue | null = null;
  private readonly first = new Map<ProbeVersion, Deferred<FinishedAnswer>>(PROBE_VERSIONS.map((v) => [v, deferred<FinishedAnswer>()]));
  /** Per version: the session id length answered to the chain's step 1 (a hello without session_ticket), or null when there was no step 1. */
  private readonly sessionIdStep = new Map<ProbeVersion, Deferred<number | null>>(PROBE_VERSIONS.map((v) => [v, deferred<number | null>()]));

  constructor(
    private readonly target: ProbeTarget,
    private readonly opts: ProbeOptions & { readonly scope: ProbeScope },
  ) {
    this.pool = new AdaptivePool(opts.concurrency ?? DEFAULT_CONCURRENCY);
    this.t = { ...DEFAULT_PROBE_TIMEOUTS, ...opts.timeouts };
    this.maxRetries = opts.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.transport = {
      ehloName: opts.ehloName ?? DEFAULT_EHLO_NAME,
      timeouts: this.t,
      track: (s) => {
        // Counted when opened: a connection the server resets at once may never emit 'connect' here.
        this.connections++;
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      },
    };
  }

  get peak(): number {
    return this.pool.peak;
  }

  /** Stop everything: waiting attempts reject, open sockets are destroyed. The first error wins. */
  abort(err: unknown): void {
    const e = asLabError(err);
    this.fatal ??= e;
    this.pool.abort(this.fatal);
    for (const s of this.sockets) s.destroy();
  }

  get abortReason(): LabError | null {
    return this.fatal;
  }

  sessionIdWithoutTicket(v: ProbeVersion): Promise<number | null> {
    return this.sessionIdStep.get(v)!.promise;
  }

  private check(): void {
    if (this.fatal) throw this.fatal;
  }

  /**
   * One connection through the pool, retried with backoff on transient failures. Before the
   * first success only 421 is retried: a refused connection then means nothing listens.
   */
  private async attempt<T>(purpose: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.check();
      let failure: TransportError | null = null;
      const out = await this.pool.run(async () => {
        try {
          return { value: await work() };
        } catch (e) {
          if (e instanceof TransportError) {
            failure = e;
            return null;
          }
          throw e;
        }
      });
      if (out) {
        this.pool.succeeded();
        return out.value;
      }
      const f = failure as TransportError | null;
      if (!f) throw new LabError('EINTERNAL', `${purpose}: attempt failed without an error`);
      const retryable = f.transient && (this.reached || f.throttle) && attempt < this.maxRetries && !this.fatal;
      if (!retryable) {
        if (f.transient && attempt >= this.maxRetries) {
          throw new TransportError(f.code, `${f.message} (still failing after ${attempt} retries: ${purpose})`, { stage: f.stage ?? 'tcp', reply: f.reply, ...(f.detail !== undefined ? { detail: f.detail } : {}) });
        }
        throw f;
      }
      this.retries++;
      this.throttles++;
      this.pool.throttled();
      await new Promise((r) => setTimeout(r, backoffMs(attempt))); // bounded backoff (BACKOFF_CAP_MS)
    }
  }

  private noteDialogue(d: SmtpDialogue | null): void {
    if (d && !this.dialogue) this.dialogue = d;
  }

  /** One hand-built ClientHello on a fresh connection; the answer, after retries for closes and timeouts. */
  async hello(spec: ClientHelloSpec, purpose: string): Promise<FinishedAnswer> {
    const bytes = buildClientHello(spec);
    let closedRetries = 0;
    let timeoutRetries = 0;
    for (;;) {
      const answer = await this.attempt(purpose, async () => {
        const opened = await openForTls(this.target, this.transport);
        this.noteDialogue(opened.dialogue);
        return exchangeHello(opened.socket, bytes, this.t.serverAnswer);
      });
      this.check();
      if (answer.kind === 'garbage') {
        throw new LabError('ETLS', `the server's answer to a ClientHello is not TLS (${answer.reason}); first bytes ${answer.firstBytes}`, { stage: 'handshake', detail: answer.printable });
      }
      if (answer.kind === 'closed' && answer.bytes === 0 && closedRetries < 2) {
        // A close without a byte can be load shedding as much as a refusal: ask twice more.
        this.retries++;
        await new Promise((r) => setTimeout(r, backoffMs(closedRetries++))); // bounded backoff (BACKOFF_CAP_MS)
        continue;
      }
      if (answer.kind === 'timeout') {
        if (timeoutRetries < 1) {
          timeoutRetries++;
          this.retries++;
          continue;
        }
        throw new LabError('ETIMEOUT', `the server did not answer a ClientHello within ${this.t.serverAnswer} ms (${purpose}, ${answer.bytes} bytes received)`, { stage: 'handshake' });
      }
      this.reached = true;
      this.helloAttempts++;
      return answer;
    }
  }

  firstAnswer(v: ProbeVersion): Promise<FinishedAnswer> {
    return this.first.get(v)!.promise;
  }

  /** The cipher chain of one version: offer all, remove the pick, repeat until refused. */
  async cipherChain(v: ProbeVersion): Promise<ChainOutcome> {
    const d = this.first.get(v)!;
    const sid = this.sessionIdStep.get(v)!;
    try {
      const tls13 = v === 'TLSv1.3';
      const offered = tls13 ? TLS13_CODES : suitesFor(v);
      let remaining = [...offered];
      const picks: Pick[] = [];
      let first: FinishedAnswer | null = null;
      let sessionIdWithoutTicket: number | null = null;
      for (let step = 0; remaining.length > 0 && step <= offered.length; step++) {
        const spec: ClientHelloSpec = tls13
          ? { maxVersion: v, ciphers: remaining, groups: ALL_GROUPS, keyShareGroups: [], ...this.sni() }
          : {
              maxVersion: v,
              ciphers: remaining,
              groups: EC_GROUPS,
              // Step 0 also offers DEFLATE (CRIME); step 1 leaves out session_ticket so the session id shows.
              ...(step === 0 ? { compressionMethods: [1, 0] } : {}),
              ...(step === 1 ? { sessionTicket: false } : {}),
              ...this.sni(),
            };
        const a = await this.hello(spec, `${v} suites, step ${step}`);
        if (step === 0) {
          first = a;
          d.resolve(a);
        }
        if (a.kind !== 'server-hello' || a.version !== v) break;
        if (step === 1 && !tls13) {
          sessionIdWithoutTicket = a.sessionIdLength;
          sid.resolve(a.sessionIdLength);
        }
        if (!remaining.includes(a.cipher)) {
          this.warnings.push(`${v}: the server picked ${suiteLabel(a.cipher)}, which was not offered; the suite list for ${v} stops there`);
          break;
        }
        picks.push({ code: a.cipher, answer: a });
        remaining = remaining.filter((c) => c !== a.cipher);
      }
      if (!first) throw new LabError('EINTERNAL', `${v}: the chain made no attempt`);
      sid.resolve(sessionIdWithoutTicket);
      return { version: v, first, accepted: first.kind === 'server-hello' && first.version === v, picks, offered, sessionIdWithoutTicket };
    } catch (e) {
      d.reject(e);
      sid.reject(e);
      throw e;
    }
  }

  private sni(): { sni?: string } {
    return this.opts.sni !== undefined ? { sni: this.opts.sni } : {};
  }

  /** Server or client order, from the chain where possible, else with one hello offering two accepted suites reversed. */
  async order(chain: ChainOutcome): Promise<{ order: 'server' | 'client' | null; evidence: string | null }> {
    const { picks, offered, version: v } = chain;
    if (picks.length < 2) return { order: null, evidence: picks.length === 1 ? 'only one suite accepted' : null };
    const a = picks[0]!.code;
    const idx = (c: number) => offered.indexOf(c);
    const earlier = picks.find((p) => idx(p.code) < idx(a));
    if (earlier) {
      return { order: 'server', evidence: `offered all suites with ${suiteLabel(earlier.code)} before ${suiteLabel(a)}; the server picked ${suiteLabel(a)}` };
    }
    const b = picks[1]!.code;
    const spec: ClientHelloSpec =
      v === 'TLSv1.3' ? { maxVersion: v, ciphers: [b, a], groups: ALL_GROUPS, keyShareGroups: [], ...this.sni() } : { maxVersion: v, ciphers: [b, a], groups: EC_GROUPS, ...this.sni() };
    const r = await this.hello(spec, `${v} order`);
    if (r.kind === 'server-hello' && r.version === v && r.cipher === a) {
      return { order: 'server', evidence: `offered ${suiteLabel(a)} first, then ${suiteLabel(b)} first: the server picked ${suiteLabel(a)} both times` };
    }
    if (r.kind === 'server-hello' && r.version === v && r.cipher === b) {
      return { order: 'client', evidence: `offered ${suiteLabel(a)} first, then ${suiteLabel(b)} first: the server picked the client's first choice both times` };
    }
    this.warnings.push(`${v}: the order test offering ${suiteLabel(b)}, ${suiteLabel(a)} got ${describeAnswer(r, v)}`);
    return { order: null, evidence: `order test answered: ${describeAnswer(r, v)}` };
  }

  /** TLS 1.3 groups: empty key_share, the HelloRetryRequest names the pick; remove it, repeat. */
  async groups13(seed: number | null): Promise<number[]> {
    const found = seed === null ? [] : [seed];
    for (let step = 0; step <= ALL_GROUPS.length; step++) {
      const remaining = ALL_GROUPS.filter((g) => !found.includes(g));
      if (remaining.length === 0) break;
      const a = await this.hello({ maxVersion: 'TLSv1.3', ciphers: TLS13_CODES, groups: remaining, keyShareGroups: [], ...this.sni() }, `TLSv1.3 groups, step ${step}`);
      if (a.kind !== 'server-hello' || a.version !== 'TLSv1.3') break;
      if (a.selectedGroup === null || !remaining.includes(a.selectedGroup)) {
        this.warnings.push(`TLSv1.3: the server's answer named group ${a.selectedGroup === null ? 'none' : groupName(a.selectedGroup)}, not one offered; group list stops there`);
        break;
      }
      found.push(a.selectedGroup);
    }
    return found;
  }

  /** TLS <= 1.2 groups: only ECDHE suites offered, the ServerKeyExchange names the curve; remove it, repeat. */
  async groupsLegacy(v: ProbeVersion, seed: number | null, certCurve: number | null): Promise<number[]> {
    const ecdhe = suitesFor(v).filter((c) => keyExchangeOf(c) === 'ecdhe');
    const found = seed === null ? [] : [seed];
    for (let step = 0; step <= EC_GROUPS.length; step++) {
      let remaining = EC_GROUPS.filter((g) => !found.includes(g));
      if (remaining.length === 0) break;
      // An ECDSA certificate's own curve must stay in supported_groups or the server cannot use the
      // certificate at all (RFC 8422 5.1); keep it last once it is found.
      const keepCert = certCurve !== null && found.includes(certCurve);
      if (keepCert) remaining = [...remaining, certCurve];
      const a = await this.hello({ maxVersion: v, ciphers: ecdhe, groups: remaining, ...this.sni() }, `${v} groups, step ${step}`);
      if (a.kind !== 'server-hello' || a.version !== v) break;
      const g = a.serverKeyExchange?.kind === 'ecdhe' ? a.serverKeyExchange.group : null;
      if (g === null) {
        this.warnings.push(`${v}: an ECDHE suite was picked but no named curve was seen in ServerKeyExchange; group list stops there`);
        break;
      }
      if (keepCert && g === certCurve) {
        this.warnings.push(
          `${v}: groups the server ranks below its certificate's curve ${groupName(certCurve)} cannot be enumerated (the curve must be offered for the ECDSA certificate to be usable): ${remaining
            .filter((x) => x !== certCurve)
            .map(groupName)
            .join(', ')} untested`,
        );
        break;
      }
      if (!remaining.includes(g) || found.includes(g)) {
        this.warnings.push(`${v}: the server picked curve ${groupName(g)}, which was not offered; group list stops there`);
        break;
      }
      found.push(g);
    }
    return found;
  }

  /** A hello one version below the highest with TLS_FALLBACK_SCSV: inappropriate_fallback (86) means the server honours it. */
  async fallback(below: ProbeVersion): Promise<boolean | null> {
    const spec: ClientHelloSpec = { maxVersion: below, ciphers: suitesFor(below), groups: EC_GROUPS, fallbackScsv: true, ...this.sni() };
    const a = await this.hello(spec, `${below} with TLS_FALLBACK_SCSV`);
    if (a.kind === 'alert' && a.description === 86) return true;
    if (a.kind === 'server-hello') return false;
    this.warnings.push(`fallback SCSV: a ${below} hello with TLS_FALLBACK_SCSV got ${describeAnswer(a, below)}, neither inappropriate_fallback nor a ServerHello`);
    return null;
  }

  /** A complete node:tls handshake through the pool (with retries for throttling). */
  async handshake(purpose: string, options: tls.ConnectionOptions, onSession?: (s: Buffer) => void): Promise<CompletedHandshake> {
    const hs = await this.attempt(purpose, () => {
      const o: tls.ConnectionOptions = { ...options };
      return completeHandshake(this.target, o, { ...this.transport, ehloAfter: true, ...(onSession ? { onSession } : {}) });
    });
    this.completeHandshakes++;
    this.reached = true;
    return hs;
  }

  get timeouts(): ProbeTimeouts {
    return this.t;
  }
}

interface HandshakeFindings {
  capabilitiesAfter: readonly string[] | null;
  bannerInTls: CompletedHandshake['bannerInTls'];
  certificate: CertificateSummary | null;
  renegotiation: ProbeFeatures['clientRenegotiation'];
  resumption: ProbeFeatures['sessionResumption'];
}

function peerChainDer(sock: tls.TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  let cur: tls.DetailedPeerCertificate | undefined = sock.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cur && cur.raw && !seen.has(cur.fingerprint256) && out.length < 16) {
    seen.add(cur.fingerprint256);
    out.push(cur.raw);
    cur = cur.issuerCertificate;
  }
  return out;
}

async function closeSmtp(hs: CompletedHandshake, t: ProbeTimeouts): Promise<void> {
  // QUIT and a clean TLS close keep the session in the server's cache (OpenSSL drops a session whose connection was not shut down).
  try {
    if (hs.link) await hs.link.command('QUIT', 'probe QUIT reply', t.reply);
  } catch {
    // The result is known already.
  }
  await withTimeout(
    'probe close after QUIT',
    t.reply,
    new Promise<void>((resolve) => {
      if (hs.socket.destroyed) return resolve();
      hs.socket.once('close', () => resolve());
      hs.socket.end();
    }),
  ).catch(() => undefined);
  hs.socket.destroy();
}

async function renegotiate(sock: tls.TLSSocket, t: ProbeTimeouts): Promise<NonNullable<ProbeFeatures['clientRenegotiation']>> {
  return withTimeout(
    'probe renegotiation',
    t.handshake,
    new Promise<NonNullable<ProbeFeatures['clientRenegotiation']>>((resolve) => {
      sock.once('error', (e: Error) => resolve({ accepted: false, detail: `refused: ${e.message}` }));
      sock.once('close', () => resolve({ accepted: false, detail: 'refused: the server closed the connection' }));
      const ok = sock.renegotiate({ rejectUnauthorized: false }, (err) =>
        resolve(err ? { accepted: false, detail: `refused: ${err.message}` } : { accepted: true, detail: 'the server completed a client-initiated renegotiation' }),
      );
      if (!ok) resolve({ accepted: false, detail: 'node:tls could not start a renegotiation on this connection' });
    }),
  ).catch((e: unknown) => ({ accepted: false, detail: `refused: no answer (${e instanceof Error ? e.message : String(e)})` }));
}

async function handshakeFeatures(
  p: Prober,
  hv: ProbeVersion,
  needCert: boolean,
  ticketExt: boolean | null,
  sessionIdLen: Promise<number | null>,
  sni: string | undefined,
): Promise<HandshakeFindings> {
  const nodeVersion = NODE_VERSION[hv]!;
  const tls13 = hv === 'TLSv1.3';
  const base: tls.ConnectionOptions = {
    minVersion: nodeVersion,
    maxVersion: nodeVersion,
    ciphers: tls13 ? 'DEFAULT:@SECLEVEL=0' : 'ALL:COMPLEMENTOFALL:@SECLEVEL=0',
    ...(sni !== undefined ? { servername: sni } : {}),
  };
  const t = p.timeouts;
  const findings: HandshakeFindings = { capabilitiesAfter: null, bannerInTls: null, certificate: null, renegotiation: null, resumption: null };
  const details: string[] = [];

  // Handshake 1: capabilities inside TLS, the certificate if still needed, a ticket session, then renegotiation.
  const ticketRun = (async () => {
    let session: Buffer | null = null;
    const hs = await p.handshake(`${hv} complete handshake`, base, (s) => (session = s));
    try {
      findings.capabilitiesAfter = hs.capabilitiesAfter;
      findings.bannerInTls = hs.bannerInTls;
      if (needCert) findings.certificate = summarizeChain(peerChainDer(hs.socket), 'node-tls-handshake');
      session ??= hs.socket.getSession() ?? null;
      if (!tls13) findings.renegotiation = await renegotiate(hs.socket, t);
    } finally {
      hs.socket.destroy();
    }
    if (ticketExt === false && !tls13) {
      details.push('ticket: the ServerHello did not answer the session_ticket extension');
      return false;
    }
    if (!session) {
      details.push('ticket: no session was received to resume');
      return false;
    }
    const again = await p.handshake(`${hv} ticket resumption`, { ...base, session });
    const reused = again.socket.isSessionReused();
    again.socket.destroy();
    details.push(`ticket: ${reused ? 'resumed' : 'a full handshake again'}`);
    return reused;
  })();

  // Handshakes 2 and 3: session id resumption (TLS <= 1.2), only when the server gave a session id to resume.
  const idRun = (async (): Promise<boolean | null> => {
    if (tls13) return null;
    if ((await sessionIdLen) === 0) {
      details.push('id: the server sent an empty session id (RFC 5246 7.4.1.3: the session cannot be resumed)');
      return false;
    }
    const noTicket = { ...base, secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
    let session: Buffer | null = null;
    const hs = await p.handshake(`${hv} handshake for session id`, noTicket, (s) => (session = s));
    session ??= hs.socket.getSession() ?? null;
    await closeSmtp(hs, t);
    if (!session) {
      details.push('id: no session was received to resume');
      return false;
    }
    const again = await p.handshake(`${hv} session id resumption`, { ...noTicket, session });
    const reused = again.socket.isSessionReused();
    again.socket.destroy();
    details.push(`id: ${reused ? 'resumed' : 'a full handshake again'}`);
    return reused;
  })();

  const [ticket, id] = await Promise.all([ticketRun, idRun]);
  findings.resumption = { protocol: hv, id, ticket, detail: details.sort().join('; ') };
  return findings;
}

function validateTarget(target: ProbeTarget, opts: ProbeOptions): void {
  const bad = (m: string) => {
    throw new LabError('EUSAGE', `probe: ${m}`);
  };
  if (typeof target.host !== 'string' || target.host.length === 0 || target.host.length > 253) bad('host must be a non-empty host name or address');
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) bad(`port must be 1..65535, not ${target.port}`);
  if (!['starttls', 'implicit', 'plain'].includes(target.mode)) bad(`mode must be starttls, implicit or plain, not ${String(target.mode)}`);
  const c = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(c) || c < 1 || c > 64) bad(`concurrency must be 1..64, not ${c}`);
  for (const [k, v] of Object.entries(opts.timeouts ?? {})) if (!Number.isInteger(v) || v < 1) bad(`timeout ${k} must be a positive number of milliseconds, not ${String(v)}`);
  // The EHLO name goes on the wire after "EHLO ": nothing but a host name or an address literal (no CR/LF, no spaces).
  if (opts.ehloName !== undefined && !/^[A-Za-z0-9.-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$/.test(opts.ehloName)) bad(`ehloName must be a host name or [address], not ${JSON.stringify(opts.ehloName)}`);
  if (opts.sni !== undefined && !/^[A-Za-z0-9.-]{1,253}$/.test(opts.sni)) bad(`sni must be an ASCII host name, not ${JSON.stringify(opts.sni)}`);
  if (opts.maxRetries !== undefined && (!Number.isInteger(opts.maxRetries) || opts.maxRetries < 0 || opts.maxRetries > 20)) bad(`maxRetries must be 0..20, not ${opts.maxRetries}`);
}

/** The host as an address: resolved once (the OS resolver), never looked up again, no MX or other DNS. */
async function resolveOnce(host: string, ms: number): Promise<string> {
  if (net.isIP(host)) return host;
  const h = host.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(h)) return h;
  try {
    const r = await withTimeout('probe resolve host', ms, dns.lookup(host), { stage: 'tcp' });
    return r.address;
  } catch (e) {
    if (e instanceof LabError) throw e;
    throw new LabError('ECONNECTION', `cannot resolve ${host}: ${(e as Error).message}`, { stage: 'tcp' });
  }
}

function record<T>(f: (v: ProbeVersion) => T): Record<ProbeVersion, T> {
  return Object.fromEntries(PROBE_VERSIONS.map((v) => [v, f(v)])) as Record<ProbeVersion, T>;
}

export async function probe(target: ProbeTarget, opts: ProbeOptions = {}): Promise<ProbeResult> {
  validateTarget(target, opts);
  const started = Date.now();
  const scope: ProbeScope = opts.scope ?? 'full';
  const timeouts = { ...DEFAULT_PROBE_TIMEOUTS, ...opts.timeouts };
  const address = await resolveOnce(target.host, timeouts.connect);
  const resolved: ProbeTarget = { host: address, port: target.port, mode: target.mode };
  const p = new Prober(resolved, { ...opts, scope });

  const run = async (): Promise<ProbeResult> => {
    // Every task goes through guard: its failure stops the whole probe at once. The guarded
    // promise is marked handled here; it is awaited (and its error surfaced) below.
    const guard = <T>(x: Promise<T>): Promise<T> => {
      const g = x.catch((e: unknown) => {
        p.abort(e);
        throw e;
      });
      g.catch(() => undefined);
      return g;
    };

    const chains = new Map<ProbeVersion, Promise<ChainOutcome>>(PROBE_VERSIONS.map((v) => [v, guard(p.cipherChain(v))]));
    const firsts = Promise.all(PROBE_VERSIONS.map((v) => p.firstAnswer(v).then((a) => [v, a] as const)));
    const acceptedFirst = (a: FinishedAnswer, v: ProbeVersion): a is ServerHelloAnswer => a.kind === 'server-hello' && a.version === v;

    // Everything that waits for the first answer of every version: which versions exist decides the rest.
    const afterFirsts = guard(
      firsts.then(async (list) => {
        const firstOf = new Map(list);
        const accepted = PROBE_VERSIONS.filter((v) => acceptedFirst(firstOf.get(v)!, v));
        const legacyTop = [...LEGACY_VERSIONS].reverse().find((v) => accepted.includes(v)) ?? null;
        const legacyFirst = legacyTop ? (firstOf.get(legacyTop) as ServerHelloAnswer) : null;
        const certDer = legacyFirst?.certificates ?? null;

        const first13 = firstOf.get('TLSv1.3')!;
        const g13 = acceptedFirst(first13, 'TLSv1.3') ? guard(p.groups13(first13.selectedGroup)) : Promise.resolve(null);

        let certCurve: number | null = null;
        if (certDer && certDer[0]) {
          const summary = summarizeChain([certDer[0]], 'certificate-message');
          const curve = summary?.curve ? NAMED_GROUPS.find((g) => g.openssl === summary.curve || g.aliases.includes(summary.curve!) || g.iana === summary.curve) : undefined;
          certCurve = curve?.code ?? null;
        }
        const seedLegacy = legacyFirst?.serverKeyExchange?.kind === 'ecdhe' ? legacyFirst.serverKeyExchange.group : null;
        const gLegacy = legacyTop && legacyTop !== 'SSLv3' ? guard(p.groupsLegacy(legacyTop, seedLegacy, certCurve)) : Promise.resolve(null);

        // Fallback SCSV: only meaningful with two versions; offer the second highest.
        const desc = [...accepted].sort((a, b) => versionRank(b) - versionRank(a));
        const below = desc[1];
        const fallback = scope === 'full' && below ? guard(p.fallback(below)) : Promise.resolve(null);

        let hs: Promise<HandshakeFindings | null> = Promise.resolve(null);
        if (scope === 'full') {
          const hv = legacyTop && NODE_VERSION[legacyTop] ? legacyTop : accepted.includes('TLSv1.3') ? 'TLSv1.3' : null;
          if (hv) {
            const needCert = !certDer || certDer.length === 0;
            // The session id answer comes from the chain's second step (a hello without session_ticket).
            const sid = hv !== 'TLSv1.3' ? p.sessionIdWithoutTicket(hv) : Promise.resolve(null);
            hs = guard(
              handshakeFeatures(p, hv, needCert, legacyFirst ? legacyFirst.sessionTicket : null, sid, opts.sni).catch((e: unknown) => {
                // A feature handshake that fails (our own TLS library cannot make it, the server
                // refuses EHLO inside TLS …) is not a reason to lose the enumeration.
                if (p.abortReason) throw e;
                const le = asLabError(e);
                p.warnings.push(`complete handshake at ${hv} failed (${le.code}${le.stage ? ` at ${le.stage}` : ''}: ${le.message}); renegotiation, resumption and the capabilities after TLS are unknown`);
                return null;
              }),
            );
          } else if (accepted.includes('SSLv3')) {
            p.warnings.push('only SSLv3 is accepted: node:tls cannot complete an SSLv3 handshake, so renegotiation and resumption are unknown');
          }
        }
        return { firstOf, accepted, legacyTop, legacyFirst, certDer, g13, gLegacy, fallback, hs };
      }),
    );

    const orders = new Map<ProbeVersion, Promise<{ order: 'server' | 'client' | null; evidence: string | null }>>(
      PROBE_VERSIONS.map((v) => [v, guard(chains.get(v)!.then((c) => p.order(c)))]),
    );

    const settled = await Promise.allSettled([...chains.values(), afterFirsts, ...orders.values()]);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw p.abortReason ?? asLabError(failed.reason);
    const ctx = await afterFirsts;
    const [g13, gLegacy, fallback, hsFindings] = await Promise.all([ctx.g13, ctx.gLegacy, ctx.fallback, ctx.hs]);

    const chainOf = new Map<ProbeVersion, ChainOutcome>();
    for (const v of PROBE_VERSIONS) chainOf.set(v, await chains.get(v)!);
    const orderOf = new Map<ProbeVersion, { order: 'server' | 'client' | null; evidence: string | null }>();
    for (const v of PROBE_VERSIONS) orderOf.set(v, await orders.get(v)!);

    // Groups: union over TLS 1.3 and the highest legacy version, with the versions each was seen with.
    const groupVersions = new Map<number, ProbeVersion[]>();
    const groupsByProtocol: Partial<Record<ProbeVersion, readonly string[]>> = {};
    if (g13) {
      groupsByProtocol['TLSv1.3'] = g13.map(groupName);
      for (const g of g13) groupVersions.set(g, [...(groupVersions.get(g) ?? []), 'TLSv1.3']);
    }
    if (gLegacy && ctx.legacyTop) {
      groupsByProtocol[ctx.legacyTop] = gLegacy.map(groupName);
      for (const g of gLegacy) groupVersions.set(g, [...(groupVersions.get(g) ?? []), ctx.legacyTop]);
    }
    const groups: GroupEntry[] = [...groupVersions.entries()].map(([code, versions]) => {
      const g = groupByCode(code);
      return {
        code,
        name: groupName(code),
        iana: g?.iana ?? `unknown-${code}`,
        kind: g?.kind ?? 'ecdhe',
        bits: g?.bits ?? 0,
        protocols: [...versions].sort((a, b) => versionRank(a) - versionRank(b)),
      };
    });

    const dheBits = new Set<number>();
    for (const c of chainOf.values()) for (const pk of c.picks) if (pk.answer.serverKeyExchange?.kind === 'dhe') dheBits.add(pk.answer.serverKeyExchange.primeBits);
    const allBits = [...dheBits].sort((a, b) => a - b);

    // Certificate: the Certificate message of the highest legacy version, else the first legacy pick that had one, else node:tls.
    let certificate: CertificateSummary | null = null;
    const legacyCerts =
      (ctx.certDer && ctx.certDer.length > 0 ? ctx.certDer : null) ??
      [...chainOf.values()].flatMap((c) => c.picks).find((pk) => pk.answer.certificates && pk.answer.certificates.length > 0)?.answer.certificates ??
      null;
    if (legacyCerts) certificate = summarizeChain(legacyCerts, 'certificate-message');
    else if (hsFindings?.certificate) certificate = hsFindings.certificate;

    const legacyAccepted = LEGACY_VERSIONS.filter((v) => ctx.accepted.includes(v));
    const compression = legacyAccepted.length === 0 ? null : legacyAccepted.some((v) => (ctx.firstOf.get(v) as ServerHelloAnswer).compression !== 0);
    const features: ProbeFeatures = {
      secureRenegotiation: ctx.legacyFirst ? ctx.legacyFirst.secureRenegotiation : null,
      clientRenegotiation: hsFindings?.renegotiation ?? null,
      compression,
      extendedMasterSecret: ctx.legacyFirst ? ctx.legacyFirst.extendedMasterSecret : null,
      fallbackScsv: fallback,
      sessionTicketExtension: ctx.legacyFirst ? ctx.legacyFirst.sessionTicket : null,
      sessionResumption: hsFindings?.resumption ?? null,
    };

    let starttls: StarttlsDialogue | null = null;
    if (target.mode === 'starttls') {
      const before = p.dialogue?.capabilities ?? null;
      const auth = (before ?? []).find((c) => /^AUTH[ =]/i.test(c));
      starttls = {
        banner: p.dialogue?.banner ?? null,
        capabilitiesBefore: before,
        capabilitiesAfter: hsFindings?.capabilitiesAfter ?? null,
        authBeforeTls: before ? auth !== undefined : null,
        authMechanismsBeforeTls: auth ? auth.slice(5).trim().split(/\s+/).filter(Boolean) : [],
      };
    } else if (target.mode === 'implicit') {
      starttls = {
        banner: hsFindings?.bannerInTls ?? null,
        capabilitiesBefore: null,
        capabilitiesAfter: hsFindings?.capabilitiesAfter ?? null,
        authBeforeTls: null,
        authMechanismsBeforeTls: [],
      };
    }

    return {
      schema: PROBE_SCHEMA,
      target: { host: target.host, port: target.port, mode: target.mode, address },
      mode: target.mode,
      scope,
      startedAt: new Date(started).toISOString(),
      protocols: record((v) => ctx.accepted.includes(v)),
      protocolAnswers: record((v) => describeAnswer(ctx.firstOf.get(v)!, v)),
      ciphersByProtocol: record((v) => chainOf.get(v)!.picks.map(suiteEntry)),
      order: record((v) => orderOf.get(v)!.order),
      orderEvidence: record((v) => orderOf.get(v)!.evidence),
      groups,
      groupsByProtocol,
      dhe: allBits.length > 0 ? { bits: allBits[0]!, allBits } : null,
      certificate,
      features,
      starttls,
      connections: p.connections,
      retries: p.retries,
      throttles: p.throttles,
      helloAttempts: p.helloAttempts,
      completeHandshakes: p.completeHandshakes,
      peakConcurrency: p.peak,
      durationMs: Date.now() - started,
      warnings: [...p.warnings],
    };
  };

  const deadline = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  return withTimeout('probe total', deadline, run(), {
    onTimeout: () => p.abort(new LabError('ETIMEOUT', `timeout 'probe total' expired after ${deadline} ms`)),
  });
}
