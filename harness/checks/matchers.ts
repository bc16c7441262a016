import type { Reader } from '../scenario/validate.js';

/**
 * Expectations in scenario files. A plain value (string, number, boolean, null, list) must
 * equal the observed value; an object holds exactly one operator. `equalsObserved` and
 * `includesTemplate` compare with what the client observed in the same check, so a check can
 * say "the server logged the cipher the client negotiated" without naming the cipher.
 */
export type Primitive = string | number | boolean | null;
export type Matcher =
  | Primitive
  | readonly Primitive[]
  | { readonly equals: unknown }
  | { readonly oneOf: readonly Primitive[] }
  | { readonly includes: Primitive }
  | { readonly excludes: Primitive }
  | { readonly matches: string }
  | { readonly atLeast: number }
  | { readonly atMost: number }
  | { readonly exists: boolean }
  | { readonly equalsObserved: string }
  | { readonly includesTemplate: string }
  | { readonly anyMatches: string }
  | { readonly noneMatches: string };

export const OPERATORS = ['equals', 'oneOf', 'includes', 'excludes', 'matches', 'atLeast', 'atMost', 'exists', 'equalsObserved', 'includesTemplate', 'anyMatches', 'noneMatches'] as const;

/** Read a value by dotted path ("tls.cipher.openssl", "capabilities.beforeTls"). */
export function getPath(root: unknown, path: string): unknown {
  let cur: unknown = root;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export function parseMatcher(r: Reader): Matcher {
  const v = r.raw();
  if (v === null || ['string', 'number', 'boolean'].includes(typeof v)) return v as Primitive;
  if (Array.isArray(v)) {
    if (v.some((x) => x !== null && typeof x === 'object')) r.fail('a list of plain values');
    return v as Primitive[];
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v as object);
    if (keys.length !== 1 || !OPERATORS.includes(keys[0] as (typeof OPERATORS)[number])) {
      r.fail(`a plain value or an object with exactly one of ${OPERATORS.join(', ')}`);
    }
    const op = keys[0]!;
    const arg = r.field(op);
    if (op === 'matches' || op === 'anyMatches' || op === 'noneMatches') {
      const src = arg.string();
      try {
        new RegExp(src);
      } catch {
        arg.fail('a valid regular expression');
      }
    }
    if (op === 'atLeast' || op === 'atMost') arg.number();
    if (op === 'exists') arg.boolean();
    if (op === 'equalsObserved' || op === 'includesTemplate') arg.string();
    if (op === 'oneOf') arg.list();
    return v as Matcher;
  }
  return r.fail('a matcher');
}

export interface MatchOutcome {
  readonly ok: boolean;
  /** The expectation with observed references resolved, for the report. */
  readonly expected: unknown;
}

function fillTemplate(template: string, observation: unknown): string {
  return template.replace(/\{([\w.]+)\}/g, (_, p: string) => String(getPath(observation, p)));
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function evaluate(m: Matcher, actual: unknown, observation: unknown): MatchOutcome {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { ok: deepEqual(actual, m), expected: m };
  const [op, arg] = Object.entries(m)[0] as [string, unknown];
  switch (op) {
    case 'equals':
      return { ok: deepEqual(actual, arg), expected: arg };
    case 'oneOf':
      return { ok: (arg as unknown[]).some((x) => deepEqual(actual, x)), expected: m };
    case 'includes':
      return { ok: Array.isArray(actual) ? actual.some((x) => deepEqual(x, arg)) : typeof actual === 'string' && actual.includes(String(arg)), expected: m };
    case 'excludes':
      return { ok: Array.isArray(actual) ? !actual.some((x) => deepEqual(x, arg)) : typeof actual === 'string' && !actual.includes(String(arg)), expected: m };
    case 'matches':
      return { ok: typeof actual === 'string' && new RegExp(arg as string).test(actual), expected: m };
    case 'atLeast':
      return { ok: typeof actual === 'number' && actual >= (arg as number), expected: m };
    case 'atMost':
      return { ok: typeof actual === 'number' && actual <= (arg as number), expected: m };
    case 'exists':
      return { ok: (actual !== undefined && actual !== null) === arg, expected: m };
    case 'equalsObserved': {
      const want = getPath(observation, arg as string);
      return { ok: want !== undefined && deepEqual(actual, want), expected: { equals: want, from: `client observation ${arg as string}` } };
    }
    case 'includesTemplate': {
      const want = fillTemplate(arg as string, observation);
      return { ok: typeof actual === 'string' && actual.replace(/\s+/g, ' ').includes(want), expected: { includes: want } };
    }
    case 'anyMatches':
      return { ok: Array.isArray(actual) && actual.some((x) => typeof x === 'string' && new RegExp(arg as string).test(x)), expected: m };
    case 'noneMatches':
      return { ok: Array.isArray(actual) && !actual.some((x) => typeof x === 'string' && new RegExp(arg as string).test(x)), expected: m };
    default:
      return { ok: false, expected: m };
  }
}
