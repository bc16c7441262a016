import type { Reader } from '../scenario/validate.js';

/**
 * The MTA-STS policy host of a scenario (node kind `sts-policy`): one HTTPS site per policy
 * domain, `https://mta-sts.<domain>/.well-known/mta-sts.txt`, each with its own certificate and
 * its own answer. Data only; read by the scenario loader, served by policy-container.ts.
 */

/** What the site answers for /.well-known/mta-sts.txt. */
export type PolicyAnswer =
  /** A policy file written from its fields (RFC 8461 section 3.2), served as text/plain. */
  | { readonly kind: 'policy'; readonly mode: 'enforce' | 'testing' | 'none'; readonly mx: readonly string[]; readonly maxAge: number }
  /** Exactly this text (a garbled policy), with this Content-Type. */
  | { readonly kind: 'body'; readonly body: string; readonly contentType: string }
  /** An HTTP status without a policy (404, 500 …). */
  | { readonly kind: 'status'; readonly status: number }
  /** A 301 to another URL (RFC 8461 3.3: senders must not follow it). */
  | { readonly kind: 'redirect'; readonly location: string }
  /** A valid-looking policy padded with comment-free filler to this many bytes (RFC 8461 3.3 lets senders refuse large files; the resolver's limit is 64 kB). */
  | { readonly kind: 'oversized'; readonly bytes: number }
  /** The connection is closed before any HTTP answer (the policy host is "down" for this site). */
  | { readonly kind: 'reset' };

export interface StsSite {
  /** The policy domain: the site is mta-sts.<domain>. */
  readonly domain: string;
  /** The scenario certificate the site presents (chosen by SNI; the lab CA issues it unless the scenario says otherwise). */
  readonly certificate: string;
  readonly answer: PolicyAnswer;
}

export interface StsPolicySpec {
  readonly sites: readonly StsSite[];
}

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/;
const MX_PATTERN = /^(\*\.)?[a-z0-9.-]+$/;

/** The policy file's text for a 'policy' answer, CRLF line endings as RFC 8461's ABNF writes them. */
export function renderPolicy(p: Extract<PolicyAnswer, { kind: 'policy' }>): string {
  return ['version: STSv1', `mode: ${p.mode}`, ...p.mx.map((m) => `mx: ${m}`), `max_age: ${p.maxAge}`, ''].join('\r\n');
}

/** Reads an answer: exactly one of policy, body, status, redirect, oversizedBytes, reset. */
export function readAnswer(r: Reader): PolicyAnswer {
  const keys = ['policy', 'body', 'status', 'redirect', 'oversizedBytes', 'reset'].filter((k) => r.has(k));
  if (keys.length !== 1) r.fail(`exactly one of "policy", "body", "status", "redirect", "oversizedBytes", "reset" (found ${keys.length ? keys.join(', ') : 'none'})`);
  const k = keys[0]!;
  if (k === 'policy') {
    const p = r.field('policy').object(['mode', 'mx', 'maxAge']);
    const mx = p.has('mx') ? p.field('mx').list().map((m) => m.string(MX_PATTERN, 'an MX pattern (mx.example.test or *.example.test)')) : [];
    return { kind: 'policy', mode: p.field('mode').oneOf(['enforce', 'testing', 'none'] as const), mx, maxAge: p.has('maxAge') ? p.field('maxAge').number(0, 31_557_600) : 86_400 };
  }
  if (k === 'body') return { kind: 'body', body: r.field('body').string(/^[\s\S]{0,70000}$/, 'the policy text to serve as is'), contentType: r.has('contentType') ? r.field('contentType').string(/^[a-z]+\/[a-z0-9.+-]+(; ?[a-z]+=[A-Za-z0-9-]+)?$/, 'a Content-Type') : 'text/plain' };
  if (k === 'status') return { kind: 'status', status: r.field('status').number(100, 599) };
  if (k === 'redirect') return { kind: 'redirect', location: r.field('redirect').string(/^https:\/\/[a-z0-9.-]+(:\d+)?\/[\x21-\x7e]*$/, 'an https:// URL on a lab host') };
  if (k === 'oversizedBytes') return { kind: 'oversized', bytes: r.field('oversizedBytes').number(1, 1_048_576) };
  if (r.field('reset').boolean() !== true) r.field('reset').fail('true (or leave "reset" out)');
  return { kind: 'reset' };
}

/** The node's "sts" block: { "sites": [ { "domain", "certificate", <answer> } ] }. */
export function readStsPolicySpec(r: Reader, certNames: readonly string[]): StsPolicySpec {
  r.object(['sites']);
  const list = r.field('sites').list();
  if (list.length === 0) r.field('sites').fail('at least one site');
  const sites = list.map((s) => {
    s.object(['domain', 'certificate', 'policy', 'body', 'contentType', 'status', 'redirect', 'oversizedBytes', 'reset']);
    return {
      domain: s.field('domain').string(DOMAIN, 'a policy domain (the site is mta-sts.<domain>)'),
      certificate: s.field('certificate').oneOf(certNames.length ? certNames : ['(no certificate in this scenario)']),
      answer: readAnswer(s),
    };
  });
  const domains = sites.map((s) => s.domain);
  domains.forEach((d, i) => {
    if (domains.indexOf(d) !== i) list[i]!.field('domain').fail('a domain no other site of the node serves');
  });
  return { sites };
}
