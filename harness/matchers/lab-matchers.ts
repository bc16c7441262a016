import { STAGES, type Stage } from '../core/errors.js';
import type { PostfixLog } from '../postfix/log-stream.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import { OBSERVATION_SCHEMA, type TlsObservation } from '../tls/observation.js';

/**
 * The lab's assertions for a user's own tests, as matcher functions in the shape vitest's (and
 * Jest's) `expect.extend` takes: `(received, ...expected) => { pass, message }`, reading only
 * `this.isNot`. Nothing here loads vitest, so importing the library never does; the types for
 * `expect(x).toNegotiate(…)` are in ./vitest.ts.
 *
 * What they read: a TlsObservation (what one lab client saw of one connection) and a Postfix
 * log (a PostfixLog, a StartedPostfixContainer's `log`, or a list of its events). Each message
 * says what was expected and what was there instead, so a failure reads without a debugger.
 */

export interface NegotiationExpectation {
  /** 'TLSv1.3', 'TLSv1.2' … as OpenSSL and Postfix name them. */
  readonly protocol?: string;
  /** The suite by OpenSSL name (ECDHE-RSA-AES128-GCM-SHA256, TLS_AES_256_GCM_SHA384) or IANA name. */
  readonly cipher?: string;
}

export interface AdvertiseOptions {
  /** Which EHLO reply to read: before STARTTLS, after it (the one under TLS), or either (default). */
  readonly when?: 'before-tls' | 'after-tls' | 'any';
}

/**
 * An event pattern: every key given must match the event's field. Strings and numbers are
 * compared exactly, a RegExp tests a string field, a nested object is matched the same way
 * (`{ peer: { port: 41234 } }`).
 */
export type LogPattern = { readonly [key: string]: string | number | boolean | null | RegExp | LogPattern };

interface MatcherThis {
  readonly isNot: boolean;
}

interface MatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

const STAGE_SET: ReadonlySet<string> = new Set(STAGES);

function isObservation(x: unknown): x is TlsObservation {
  return typeof x === 'object' && x !== null && (x as { schema?: unknown }).schema === OBSERVATION_SCHEMA;
}

function describeReceived(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (typeof x === 'object') return `an object with keys ${Object.keys(x).slice(0, 8).join(', ')}`;
  return typeof x;
}

const isEvent = (e: unknown): e is PostfixLogEvent => typeof e === 'object' && e !== null && typeof (e as { type?: unknown }).type === 'string' && typeof (e as { raw?: unknown }).raw === 'string';

/**
 * The events of a PostfixLog, of anything with one as `log` (a started Postfix container), or
 * of a list of events. A log is recognised by its shape, not by `instanceof`: the compiled
 * library (build/) and the TypeScript sources are two copies of the class.
 */
function eventsOf(x: unknown): readonly PostfixLogEvent[] | null {
  const asLog = (l: unknown): readonly PostfixLogEvent[] | null => {
    if (typeof l !== 'object' || l === null || typeof (l as PostfixLog).all !== 'function' || typeof (l as PostfixLog).waitFor !== 'function') return null;
    const all: unknown = (l as PostfixLog).all();
    return Array.isArray(all) && all.every(isEvent) ? all : null;
  };
  if (Array.isArray(x)) return x.every(isEvent) ? x : null;
  return asLog(x) ?? (typeof x === 'object' && x !== null && 'log' in x ? asLog((x as { log: unknown }).log) : null);
}

/** A matcher given something it cannot read throws, so that `.not` cannot turn the mistake into a pass. */
function wrongInput(matcher: string, wants: string, received: unknown): never {
  throw new TypeError(`${matcher}: expected ${wants}, received ${describeReceived(received)}`);
}

/** What an observation negotiated, in one phrase. */
function negotiated(o: TlsObservation): string {
  if (o.tls) return `negotiated ${o.tls.protocol} with ${o.tls.cipher.openssl}${o.tls.cipher.iana && o.tls.cipher.iana !== o.tls.cipher.openssl ? ` (${o.tls.cipher.iana})` : ''}`;
  if (o.error) return `negotiated no TLS: ${o.error.code} at ${o.error.stage ?? 'no stage'}: ${o.error.message}`;
  return 'negotiated no TLS (the connection stopped before a handshake)';
}

function wanted(e: NegotiationExpectation): string {
  const parts = [e.protocol ? `protocol ${e.protocol}` : null, e.cipher ? `cipher ${e.cipher}` : null].filter(Boolean);
  return parts.length ? parts.join(' and ') : 'TLS (any protocol and cipher)';
}

const cipherMatches = (want: string | undefined, openssl: string, iana: string | null) => want === undefined || want === openssl || want === iana;

function toNegotiate(this: MatcherThis, received: unknown, expected: NegotiationExpectation = {}): MatcherResult {
  const not = this.isNot ? 'not ' : '';
  if (isObservation(received)) {
    const t = received.tls;
    const pass = t !== null && (expected.protocol === undefined || t.protocol === expected.protocol) && cipherMatches(expected.cipher, t.cipher.openssl, t.cipher.iana);
    return { pass, message: () => `expected the ${received.client} client's connection to ${received.target.host}:${received.target.port} ${not}to negotiate ${wanted(expected)}; it ${negotiated(received)}` };
  }
  const events = eventsOf(received);
  if (!events) return wrongInput('toNegotiate', 'a TlsObservation or a Postfix log', received);
  const tls = events.filter((e): e is Extract<PostfixLogEvent, { type: 'tls-established' }> => e.type === 'tls-established');
  const pass = tls.some((e) => (expected.protocol === undefined || e.protocol === expected.protocol) && cipherMatches(expected.cipher, e.cipher, null));
  const seen = tls.length ? tls.slice(-5).map((e) => `${e.protocol} ${e.cipher}`).join('; ') : 'no TLS summary line';
  return { pass, message: () => `expected the Postfix log ${not}to show a TLS connection with ${wanted(expected)}; it has ${tls.length} TLS summary line(s) (last: ${seen})` };
}

/** The keyword of a capability line ("AUTH PLAIN LOGIN" → AUTH), or the whole line when the wanted value has arguments. */
function advertises(lines: readonly string[], capability: string): boolean {
  const want = capability.trim().toUpperCase();
  return lines.some((l) => {
    const line = l.trim().toUpperCase();
    return want.includes(' ') ? line === want : line.split(/\s+/)[0] === want;
  });
}

function toAdvertise(this: MatcherThis, received: unknown, capability: string, options: AdvertiseOptions = {}): MatcherResult {
  if (!isObservation(received)) return wrongInput('toAdvertise', 'a TlsObservation', received);
  const when = options.when ?? 'any';
  const replies: [string, readonly string[] | null][] = [];
  if (when !== 'after-tls') replies.push(['before TLS', received.capabilities.beforeTls]);
  if (when !== 'before-tls') replies.push(['after TLS', received.capabilities.afterTls]);
  const read = replies.filter((r): r is [string, readonly string[]] => r[1] !== null);
  const pass = read.some(([, lines]) => advertises(lines, capability));
  const seen = read.length ? read.map(([w, lines]) => `${w}: ${lines.join(', ') || '(nothing)'}`).join('; ') : `no EHLO reply ${when === 'any' ? '' : `${when} `}was seen by the ${received.client} client`;
  return { pass, message: () => `expected the server ${this.isNot ? 'not ' : ''}to advertise ${capability}${when === 'any' ? '' : ` (${when})`}; ${seen}` };
}

function fieldMatches(value: unknown, want: LogPattern[string]): boolean {
  if (want instanceof RegExp) return typeof value === 'string' && want.test(value);
  if (want !== null && typeof want === 'object') return typeof value === 'object' && value !== null && Object.entries(want).every(([k, w]) => fieldMatches((value as Record<string, unknown>)[k], w));
  return value === want;
}

const showPattern = (p: LogPattern): string =>
  `{ ${Object.entries(p).map(([k, v]) => `${k}: ${v instanceof RegExp ? String(v) : v !== null && typeof v === 'object' ? showPattern(v) : JSON.stringify(v)}`).join(', ')} }`;

function toHaveLogged(this: MatcherThis, received: unknown, pattern: LogPattern): MatcherResult {
  const events = eventsOf(received);
  if (!events) return wrongInput('toHaveLogged', 'a Postfix log (PostfixLog, a started Postfix container, or its events)', received);
  const hits = events.filter((e) => fieldMatches(e, pattern));
  const keys = Object.keys(pattern);
  // The lines closest to the pattern: those with every key it names, else the last few lines.
  const near = events.filter((e) => keys.every((k) => k in e)).slice(-5);
  const context = (this.isNot ? hits.slice(0, 5) : near.length ? near : events.slice(-5)).map((e) => `  ${e.raw}`).join('\n');
  return {
    pass: hits.length > 0,
    message: () =>
      this.isNot
        ? `expected the Postfix log not to have a line matching ${showPattern(pattern)}; ${hits.length} did:\n${context}`
        : `expected the Postfix log to have a line matching ${showPattern(pattern)}; none of its ${events.length} line(s) did${context ? `; ${near.length ? 'lines with those fields' : 'the last lines'}:\n${context}` : ''}`,
  };
}

function toFailAt(this: MatcherThis, received: unknown, stage: Stage): MatcherResult {
  if (!isObservation(received)) return wrongInput('toFailAt', 'a TlsObservation', received);
  if (!STAGE_SET.has(stage)) throw new TypeError(`toFailAt: '${stage}' is not a stage (stages: ${STAGES.join(', ')})`);
  const e = received.error;
  const pass = e !== null && e.stage === stage;
  const saw = e ? `it failed at ${e.stage ?? 'no stage'}: ${e.code}: ${e.message}` : `it did not fail (${negotiated(received)})`;
  return { pass, message: () => `expected the ${received.client} client's connection ${this.isNot ? 'not ' : ''}to fail at ${stage}; ${saw}` };
}

/** For `expect.extend(labMatchers)`. */
export const labMatchers = { toNegotiate, toAdvertise, toHaveLogged, toFailAt } as const;
