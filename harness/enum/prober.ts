import type net from 'node:net';
import type tls from 'node:tls';
import { LabError, asLabError } from '../core/errors.js';
import { byCode, groupByCode, NAMED_GROUPS, type ProbeVersion, TLS13_SUITES } from './cipher-suites.js';
import { buildClientHello, type ClientHelloSpec } from './client-hello.js';
import { AdaptivePool } from './pool.js';
import type { ResolvedProbeOptions } from './probe-options.js';
import type { FinishedAnswer } from './server-answer.js';
import {
  completeHandshake,
  type CompletedHandshake,
  exchangeHello,
  openForTls,
  type ProbeTarget,
  type ProbeTimeouts,
  type SmtpDialogue,
  TransportError,
  type TransportOptions,
} from './starttls-transport.js';

/**
 * The prober: every attempt of every feature goes through it. An attempt is its own TCP
 * connection and SMTP setup, run in a bounded, throttle-aware pool (AdaptivePool); 421s,
 * refused and reset connections are retried with bounded backoff and counted.
 *
 * Which failure ends what: before the first TLS answer, any failure other than a timeout
 * stops the whole probe (nothing listens, it is not SMTP, STARTTLS is refused, the answer is
 * not TLS: every other attempt would fail the same way). After it, a failure belongs to the
 * feature whose attempt it was, and that feature records it; the others go on.
 */

/** Backoff after a transient failure: base * 2^attempt, capped, with jitter. */
const BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

export const EC_GROUPS: readonly number[] = NAMED_GROUPS.filter((g) => g.kind === 'ecdhe').map((g) => g.code);
export const ALL_GROUPS: readonly number[] = NAMED_GROUPS.map((g) => g.code);
export const TLS13_CODES: readonly number[] = TLS13_SUITES.map((s) => s.code);
export const LEGACY_VERSIONS: readonly ProbeVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'];
/** node:tls version names for the versions node can speak (OpenSSL 3 has no SSLv3). */
export const NODE_VERSION: Partial<Record<ProbeVersion, tls.SecureVersion>> = { TLSv1: 'TLSv1', 'TLSv1.1': 'TLSv1.1', 'TLSv1.2': 'TLSv1.2', 'TLSv1.3': 'TLSv1.3' };

export function groupName(code: number): string {
  const g = groupByCode(code);
  return g ? (g.openssl ?? g.iana) : `group-0x${code.toString(16).padStart(4, '0')}`;
}

export function suiteLabel(code: number): string {
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

function backoffMs(attempt: number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.round(base * (0.5 + Math.random() / 2));
}

export class Prober {
  private readonly pool: AdaptivePool;
  private readonly transport: TransportOptions;
  private readonly sockets = new Set<net.Socket>();
  private stopReason: LabError | null = null;
  private fatalReason: LabError | null = null;
  private firstFailure: LabError | null = null;
  /** True once one connection got through to a TLS answer: before that, failures stop the probe and refused connections are not retried. */
  private reachedTls = false;
  connections = 0;
  retries = 0;
  throttles = 0;
  helloAttempts = 0;
  completeHandshakes = 0;
  readonly warnings: string[] = [];
  dialogue: SmtpDialogue | null = null;

  constructor(
    readonly target: ProbeTarget,
    readonly options: ResolvedProbeOptions,
  ) {
    this.pool = new AdaptivePool(options.concurrency);
    this.transport = {
      ehloName: options.ehloName,
      timeouts: options.timeouts,
      track: (s) => {
        // Counted when opened: a connection the server resets at once may never emit 'connect' here.
        this.connections++;
        this.sockets.add(s);
        s.once('close', () => this.sockets.delete(s));
      },
    };
  }

  get timeouts(): ProbeTimeouts {
    return this.options.timeouts;
  }

  get peak(): number {
    return this.pool.peak;
  }

  get reached(): boolean {
    return this.reachedTls;
  }

  /** The error that stopped the whole probe (the endpoint cannot be probed at all), or null. */
  get fatal(): LabError | null {
    return this.fatalReason;
  }

  /** The first error any attempt ended with: what the probe reports when nothing at all was found. */
  get firstError(): LabError | null {
    return this.firstFailure;
  }

  /**
   * Stop every attempt: waiting ones reject with the reason, open sockets are destroyed. fatal:
   * the probe as a whole fails with it; otherwise (the deadline) each feature still running
   * records it and the findings so far are kept.
   */
  stop(reason: unknown, fatal: boolean): void {
    const e = asLabError(reason);
    if (fatal) this.fatalReason ??= e;
    this.stopReason ??= e;
    this.pool.abort(this.stopReason);
    for (const s of this.sockets) s.destroy();
  }

  private check(): void {
    if (this.stopReason) throw this.stopReason;
  }

  private failed(e: LabError): LabError {
    this.firstFailure ??= e;
    if (!this.reachedTls && e.code !== 'ETIMEOUT') this.stop(e, true);
    return e;
  }

  /**
   * One connection through the pool, retried with backoff on transient failures. Before the
   * first success only 421 is retried: a refused connection then means nothing listens.
   */
  private async attempt<T>(purpose: string, work: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      this.check();
      let failure: TransportError | null = null;
      let out: { value: T } | null;
      try {
        out = await this.pool.run(async () => {
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
      } catch (e) {
        if (this.stopReason) throw this.stopReason;
        throw this.failed(asLabError(e));
      }
      if (out) {
        this.pool.succeeded();
        return out.value;
      }
      if (this.stopReason) throw this.stopReason;
      const f = failure as TransportError | null;
      if (!f) throw this.failed(new LabError('EINTERNAL', `${purpose}: attempt failed without an error`));
      const retryable = f.transient && (this.reachedTls || f.throttle) && attempt < this.options.maxRetries;
      if (!retryable) {
        if (f.transient && attempt >= this.options.maxRetries) {
          throw this.failed(
            new TransportError(f.code, `${f.message} (still failing after ${attempt} retries: ${purpose})`, { stage: f.stage ?? 'tcp', reply: f.reply, ...(f.detail !== undefined ? { detail: f.detail } : {}) }),
          );
        }
        throw this.failed(f);
      }
      this.retries++;
      this.throttles++;
      this.pool.throttled();
      await new Promise((r) => setTimeout(r, backoffMs(attempt))); // bounded backoff (BACKOFF_CAP_MS)
    }
  }

  sni(): { sni?: string } {
    return this.options.sni !== undefined ? { sni: this.options.sni } : {};
  }

  /** One hand-built ClientHello on a fresh connection; the answer, after retries for closes and timeouts. */
  async hello(spec: ClientHelloSpec, purpose: string): Promise<FinishedAnswer> {
    const bytes = buildClientHello(spec);
    let closedRetries = 0;
    let timeoutRetries = 0;
    for (;;) {
      const answer = await this.attempt(purpose, async () => {
        const opened = await openForTls(this.target, this.transport);
        if (opened.dialogue && !this.dialogue) this.dialogue = opened.dialogue;
        return exchangeHello(opened.socket, bytes, this.timeouts.serverAnswer);
      });
      this.check();
      if (answer.kind === 'garbage') {
        throw this.failed(new LabError('ETLS', `the server's answer to a ClientHello is not TLS (${answer.reason}); first bytes ${answer.firstBytes}`, { stage: 'handshake', detail: answer.printable }));
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
        throw this.failed(new LabError('ETIMEOUT', `the server did not answer a ClientHello within ${this.timeouts.serverAnswer} ms (${purpose}, ${answer.bytes} bytes received)`, { stage: 'handshake' }));
      }
      this.reachedTls = true;
      this.helloAttempts++;
      return answer;
    }
  }

  /** A complete node:tls handshake through the pool (with retries for throttling), EHLO inside TLS in SMTP modes. */
  async handshake(purpose: string, options: tls.ConnectionOptions, onSession?: (s: Buffer) => void): Promise<CompletedHandshake> {
    const hs = await this.attempt(purpose, () => completeHandshake(this.target, { ...options }, { ...this.transport, ehloAfter: true, ...(onSession ? { onSession } : {}) }));
    this.completeHandshakes++;
    this.reachedTls = true;
    return hs;
  }
}
