import type { AnyShape } from '../../core/shape.js';
import { allPaths, fieldKind, nearestPath, resolvesIn, shapeAt } from '../../core/shape.js';
import type { TlsMode } from '../../tls/observation.js';
import { LOG_EVENT_SHAPES, LOG_EVENT_TYPES, type PostfixLogEventType } from '../../postfix/log-parser.js';
import { Found, ScenarioFileError, type Reader } from '../../scenario/validate.js';
import { parseMatcher, type Matcher } from '../matchers.js';
import type { StackName } from '../../core/stacks.js';

/** The kinds of check a scenario can hold; each is a small module with its own schema and runner. */
export type CheckKindName = 'client-handshake' | 'enumeration' | 'offer-only' | 'startup-log' | 'delivery' | 'mta-send';

/** Fields every check has, whatever its kind. */
export interface CheckCommon {
  readonly kind: CheckKindName;
  readonly id: string;
  readonly title: string;
  /** Why this check exists: the setting it shows and what a reader should learn. */
  readonly why: string;
  /** What the configuration says about this case, set beside what the server did in the report. */
  readonly configSays: string;
  /** master.cf inet service the check talks to (smtp, submission, smtps, or a port). */
  readonly service: string;
  /**
   * Where the server really behaves differently on another stack: per stack, the check as it
   * applies there (the kind's own keys of the entry replace the check's, read and validated as
   * the check is) and why. A stack without an entry uses the check as written.
   */
  readonly byStack?: Readonly<Partial<Record<StackName, StackExpectation>>>;
}

/** One stack's entry of a check's `byStack`: what it replaces, the check as it applies on that stack, and why. */
export interface StackExpectation {
  /** Required: the server difference that makes this stack's expectation differ. */
  readonly why: string;
  /** The kind's keys the entry replaces (expect, serverLog, enumerate …), in the file's order. */
  readonly keys: readonly string[];
  /** The check with those keys replaced (same id, kind and service; no byStack of its own). */
  readonly check: CheckCommon;
}

/** What a check result records of the expectation it was judged by, when its check has a byStack. */
export interface AppliedExpectation {
  readonly stack: string;
  /** 'byStack': the stack's own entry; 'default': the check as written (the entry's stacks are elsewhere). */
  readonly from: 'byStack' | 'default';
  /** The entry's why ('' for the default). */
  readonly why: string;
  /** The keys the entry replaced ([] for the default). */
  readonly keys: readonly string[];
  /** Every stack the check has an entry for. */
  readonly byStack: readonly string[];
}

/**
 * The check as it applies on `stack`, and which expectation that is (null for a check without
 * byStack: nothing to record). Generic over kinds: a variant is a whole check of the same kind.
 */
export function checkForStack<S extends CheckCommon>(check: S, stack: string): { readonly check: S; readonly expectation: AppliedExpectation | null } {
  if (!check.byStack) return { check, expectation: null };
  const stacks = Object.keys(check.byStack);
  const entry = check.byStack[stack as StackName];
  if (!entry) return { check, expectation: { stack, from: 'default', why: '', keys: [], byStack: stacks } };
  return { check: entry.check as S, expectation: { stack, from: 'byStack', why: entry.why, keys: entry.keys, byStack: stacks } };
}

export const COMMON_KEYS = ['kind', 'id', 'title', 'why', 'configSays', 'service'] as const;

/** What a kind's reader needs to know about the scenario around the check. */
export interface SpecContext {
  readonly certNames: readonly string[];
  readonly saslUsers: readonly string[];
  /** How a client reaches TLS on a service by default (implicit for wrapper-mode services). */
  modeOf(service: string): TlsMode;
  /** The inet services Postfix will listen on (master.cf names, and their ports). */
  readonly services: readonly { readonly service: string; readonly port: number }[];
  /** Nodes that receive what the Postfix under test sends (capturing peers, other Postfix nodes), by name. */
  readonly receivingNodes: readonly string[];
  /** Interop MTA nodes that send to the Postfix under test (an exim node's "sender"), by name, with their transport names. */
  readonly sendingNodes?: Readonly<Record<string, readonly string[]>>;
  /** The lab DNS zones of the scenario (none without a "dns" block). */
  readonly zones?: readonly string[];
}

export interface CheckKindSpec<S extends CheckCommon> {
  readonly kind: S['kind'];
  /** Keys this kind reads besides the common ones; any other key is an error. */
  readonly keys: readonly string[];
  /** Without an explicit "kind", a check is of this kind when it has one of these keys. */
  readonly inferredFrom: readonly string[];
  read(r: Reader, common: CheckCommon, ctx: SpecContext): S;
}

/** A Postfix log expectation: an event of this type whose fields meet every matcher. */
export interface LogEventExpectation {
  readonly event: PostfixLogEventType;
  readonly expect: Readonly<Record<string, Matcher>>;
}

/**
 * Expectations keyed by dotted path. Each path must name a field of `shape` (a misspelt path
 * is refused with the nearest known one), and references inside matchers
 * (equalsObserved, includesTemplate) must name fields of `context`.
 */
export function readExpectations(
  r: Reader,
  checkId: string,
  shape: AnyShape,
  what: string,
  opts: { readonly context?: AnyShape; readonly refuse?: (path: string) => string | null } = {},
): Record<string, Matcher> {
  const known = allPaths(shape);
  return Object.fromEntries(
    r.entries().map(([path, v]) => {
      if (!resolvesIn(shape, path)) {
        const near = nearestPath(known, path);
        throw new ScenarioFileError(r.file, `${r.path}["${path}"]`, `a path of ${what}`, new Found(`'${path}' in check '${checkId}', which no ${what} has`), near ? `did you mean '${near}'?` : undefined);
      }
      const refused = opts.refuse?.(path);
      if (refused) throw new ScenarioFileError(r.file, `${r.path}["${path}"]`, `a path the server's behaviour decides`, new Found(`'${path}' in check '${checkId}'`), refused);
      const m = parseMatcher(v);
      checkApplies(v, checkId, path, m, shapeAt(shape, path)!);
      checkReferences(v, checkId, m, opts.context ?? shape);
      return [path, m];
    }),
  );
}

/** What may be said of a field by the kind of value it holds; anything else could never hold. */
const APPLIES: Readonly<Record<'value' | 'list' | 'record', (m: Matcher, op: string | null) => boolean>> = {
  value: (m, op) => !Array.isArray(m) && op !== 'anyMatches' && op !== 'noneMatches',
  list: (m, op) => m === null || Array.isArray(m) || ['exists', 'equals', 'equalsObserved', 'includes', 'excludes', 'anyMatches', 'noneMatches', 'oneOf'].includes(op ?? ''),
  record: (m, op) => m === null || ['exists', 'equals', 'equalsObserved', 'oneOf'].includes(op ?? ''),
};

/**
 * A matcher that can never hold for the kind of field it is put on is a mistake in the file,
 * not a verdict: "tls.cipher": "TLS_AES_256_GCM_SHA384" compares a record with a string, and
 * "capabilities.beforeTls": "STARTTLS" a list with a string. Both would fail every server.
 */
function checkApplies(r: Reader, checkId: string, path: string, m: Matcher, field: AnyShape): void {
  const kind = fieldKind(field);
  const op = m !== null && typeof m === 'object' && !Array.isArray(m) ? Object.keys(m)[0]! : null;
  if (APPLIES[kind](m, op)) return;
  const fields = kind === 'record' ? Object.keys(field as object).map((k) => `${path}.${k}`).slice(0, 6).join(', ') : '';
  const remedy = {
    value: `'${path}' holds one value: compare it with a value, or use { "oneOf": [ … ] } for a choice`,
    list: `'${path}' is a list: use { "includes": … }, { "excludes": … }, { "anyMatches": … } or { "noneMatches": … }, or name one entry ('${path}.0')`,
    record: `'${path}' is a record: name one of its fields (${fields}), or compare the whole record with null or { "exists": … }`,
  }[kind];
  throw new ScenarioFileError(r.file, r.path, `a matcher that can hold for a ${kind === 'value' ? 'single value' : kind} at '${path}'`, new Found(`${JSON.stringify(m)} in check '${checkId}'`), remedy);
}

/** equalsObserved / includesTemplate name paths of the observation they are compared with. */
export function checkReferences(r: Reader, checkId: string, m: Matcher, context: AnyShape): void {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return;
  const refs = 'equalsObserved' in m ? [m.equalsObserved] : 'includesTemplate' in m ? [...m.includesTemplate.matchAll(/\{([\w.]+)\}/g)].map((x) => x[1]!) : [];
  for (const ref of refs) {
    if (resolvesIn(context, ref)) continue;
    const near = nearestPath(allPaths(context), ref);
    throw new ScenarioFileError(r.file, r.path, 'a reference to a field of the observation', new Found(`'${ref}' in check '${checkId}', which the observation has not`), near ? `did you mean '${near}'?` : undefined);
  }
}

/** { event, expect } with the event type and its field paths checked against the parser's shapes. */
export function readLogEventExpectation(r: Reader, checkId: string, context: AnyShape | null): LogEventExpectation {
  r.object(['event', 'expect']);
  const event = r.field('event').oneOf(LOG_EVENT_TYPES);
  const shape = LOG_EVENT_SHAPES[event] as AnyShape;
  return { event, expect: r.has('expect') ? readExpectations(r.field('expect'), checkId, shape, `'${event}' log event`, context ? { context } : {}) : {} };
}

/** serverLogCounts: "TYPE" or "TYPE:after-established" → a matcher on the count. */
export function readLogCounts(r: Reader): Record<string, Matcher> {
  for (const [k, v] of r.entries()) {
    const [type, when] = k.split(':');
    if (!(LOG_EVENT_TYPES as readonly string[]).includes(type!) || (when !== undefined && when !== 'after-established')) {
      v.fail(`a log event type (${LOG_EVENT_TYPES.join(', ')}), optionally followed by ':after-established'`);
    }
  }
  return Object.fromEntries(r.entries().map(([k, v]) => [k, parseMatcher(v)]));
}
