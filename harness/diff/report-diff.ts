import { deepFreeze } from '../core/freeze.js';
import { DEFAULT_STACK, STACK_NAMES } from '../core/stacks.js';
import type { CheckResult, CheckStatus, Counts, ExitCode, Report, ScenarioReport } from '../report/types.js';
import type { TlsObservation } from '../tls/observation.js';

/**
 * What changed between two runs (BASE, the run before; HEAD, the run after), per scenario,
 * per port and per check: an immutable record, made here and nowhere else; the renderers
 * (render-text.ts, render-md.ts) only print it.
 *
 * Each change is classified by one rule, stated beside it (`why`):
 * - regression: a check fails in HEAD that did not fail in BASE; or, in what a client saw, a
 *   lower protocol, a newly accepted protocol below TLS 1.2, a cipher that lost forward secrecy
 *   or AEAD, fewer key-exchange bits of the same type, a certificate that no longer verifies,
 *   AUTH now offered before TLS; or an enumerated surface that grew (suites accepted that were not).
 * - improvement: the opposite of each.
 * - change: anything else that differs (a check added or removed, a verdict lost to an error,
 *   another certificate subject, resumption, suite order, an offer-only answer).
 * - info: the certificate fingerprint. The lab issues fresh certificates every run, so it
 *   always differs; renderers count it instead of listing it.
 */
export type ChangeKind = 'regression' | 'improvement' | 'change' | 'info';

export type Aspect =
  | 'scenario'
  | 'check'
  | 'verdict'
  | 'protocol'
  | 'cipher'
  | 'group'
  | 'certificate'
  | 'verification'
  | 'fingerprint'
  | 'auth-before-tls'
  | 'resumption'
  | 'suites-accepted'
  | 'suites-refused'
  | 'suite-order'
  | 'groups'
  | 'hello';

export interface Change {
  /** The scenario's id, with its stack when the reports hold several stacks ("sni [trixie]"). */
  readonly scenario: string;
  /** The TCP port(s) the check's clients connected to, as the report shows them; null when the report holds none (enumeration, startup-log). */
  readonly port: string | null;
  readonly check: string | null;
  /** The clients whose observations changed alike (raw, nodemailer, openssl); empty for verdicts and surfaces. */
  readonly clients: readonly string[];
  readonly aspect: Aspect;
  readonly before: string;
  readonly after: string;
  readonly kind: ChangeKind;
  /** Why it is classified as it is (the rule above, in a few words). */
  readonly why: string;
}

export interface ScenarioDiff {
  readonly id: string;
  /** The stack of the entries compared (a report's entry is keyed by id and stack); 'bookworm' for a report from before stacks. */
  readonly stack: string;
  /** How renderers name it: the id, with the stack when the reports hold several stacks. */
  readonly label: string;
  readonly title: string;
  /** The scenario's status in each run; null when the run does not have it. */
  readonly before: ScenarioReport['status'] | null;
  readonly after: ScenarioReport['status'] | null;
  readonly changes: readonly Change[];
}

export interface DiffSide {
  readonly file: string;
  readonly runId: string;
  readonly exitCode: ExitCode;
  readonly checks: Counts;
}

export interface ReportDiff {
  readonly base: DiffSide;
  readonly head: DiffSide;
  readonly scenarios: readonly ScenarioDiff[];
  readonly counts: Readonly<Record<ChangeKind, number>>;
  /** 1 when there is a regression, else 0 (a file that is not a report never gets this far: exit 2). */
  readonly exitCode: 0 | 1;
}

const PROTOCOL_RANK: Readonly<Record<string, number>> = { SSLv2: 0, SSLv3: 1, TLSv1: 2, 'TLSv1.0': 2, 'TLSv1.1': 3, 'TLSv1.2': 4, 'TLSv1.3': 5 };
const BELOW_TLS12 = (p: string) => (PROTOCOL_RANK[p] ?? 99) < PROTOCOL_RANK['TLSv1.2']!;

type Draft = Omit<Change, 'scenario' | 'port' | 'check' | 'clients'>;

const change = (aspect: Aspect, before: string, after: string, kind: ChangeKind, why: string): Draft => ({ aspect, before, after, kind, why });

function verdictChange(before: CheckStatus | null, after: CheckStatus | null): Draft | null {
  if (before === after) return null;
  const b = before ?? 'absent';
  const a = after ?? 'absent';
  if (after === 'fail') return change('verdict', b, a, 'regression', before === null ? 'a new check fails' : 'the check fails now');
  if (before === 'fail' && after === 'pass') return change('verdict', b, a, 'improvement', 'the check passes now');
  if (after === 'error' || after === 'inconclusive') return change('verdict', b, a, 'change', 'no verdict in HEAD (the lab could not judge)');
  if (after === null || before === null) return change('check', b, a, 'change', after === null ? 'the check is not in HEAD' : 'a new check');
  return change('verdict', b, a, 'change', 'a verdict where there was none');
}

const noTls = (o: TlsObservation) => (o.error ? `no TLS (${o.error.code}${o.error.stage ? ` at ${o.error.stage}` : ''})` : 'no TLS');

function protocolChange(b: TlsObservation, a: TlsObservation): Draft | null {
  const pb = b.tls?.protocol ?? null;
  const pa = a.tls?.protocol ?? null;
  if (pb === pa) return null;
  const before = pb ?? noTls(b);
  const after = pa ?? noTls(a);
  if (pb && pa) {
    const lower = (PROTOCOL_RANK[pa] ?? 0) < (PROTOCOL_RANK[pb] ?? 0);
    return change('protocol', before, after, lower ? 'regression' : 'improvement', lower ? 'a lower protocol is negotiated' : 'a higher protocol is negotiated');
  }
  if (pa) return BELOW_TLS12(pa) ? change('protocol', before, after, 'regression', 'a protocol below TLS 1.2 is now accepted') : change('protocol', before, after, 'change', 'the handshake completes now');
  return BELOW_TLS12(pb!) ? change('protocol', before, after, 'improvement', 'a protocol below TLS 1.2 is no longer accepted') : change('protocol', before, after, 'change', 'the handshake no longer completes');
}

/** 0–2: forward secrecy (TLS 1.3, ECDHE, DHE) and AEAD (GCM, CCM, ChaCha20-Poly1305), from the IANA name. */
function cipherStrength(iana: string): number {
  const fs = /^TLS_(AES|CHACHA20)_/.test(iana) || /_(ECDHE|DHE)_/.test(iana) ? 1 : 0;
  const aead = /(GCM|CCM|CHACHA20_POLY1305)/.test(iana) ? 1 : 0;
  return fs + aead;
}

function cipherChange(b: TlsObservation, a: TlsObservation): Draft | null {
  if (!b.tls || !a.tls) return null;
  const nb = b.tls.cipher.iana ?? b.tls.cipher.openssl;
  const na = a.tls.cipher.iana ?? a.tls.cipher.openssl;
  if (nb === na) return null;
  const sb = cipherStrength(nb);
  const sa = cipherStrength(na);
  if (sa < sb) return change('cipher', nb, na, 'regression', 'the cipher lost forward secrecy or AEAD');
  if (sa > sb) return change('cipher', nb, na, 'improvement', 'the cipher gained forward secrecy or AEAD');
  return change('cipher', nb, na, 'change', 'another cipher of the same kind');
}

const groupText = (k: NonNullable<TlsObservation['tls']>['keyExchange']) => (k ? `${k.type} ${k.group ?? '(group not shown)'}${k.bits !== null ? ` ${k.bits} bits` : ''}` : 'none');

function groupChange(b: TlsObservation, a: TlsObservation): Draft | null {
  if (!b.tls || !a.tls) return null;
  const kb = b.tls.keyExchange;
  const ka = a.tls.keyExchange;
  const before = groupText(kb);
  const after = groupText(ka);
  if (before === after) return null;
  if (kb && ka && kb.type === ka.type && kb.bits !== null && ka.bits !== null && kb.bits !== ka.bits) {
    return ka.bits < kb.bits ? change('group', before, after, 'regression', 'fewer key-exchange bits') : change('group', before, after, 'improvement', 'more key-exchange bits');
  }
  return change('group', before, after, 'change', 'another key exchange');
}

type Cert = NonNullable<NonNullable<TlsObservation['tls']>['peerCertificate']>;
const certText = (c: Cert | null) => (c ? `${c.subject}; issuer ${c.issuer}; ${c.keyType}${c.keyBits !== null ? ` ${c.keyBits}` : ''}${c.curve ? ` ${c.curve}` : ''}; chain ${c.chainLength}` : 'none');

function certificateChanges(b: TlsObservation, a: TlsObservation): Draft[] {
  if (!b.tls || !a.tls) return [];
  const out: Draft[] = [];
  const cb = b.tls.peerCertificate;
  const ca = a.tls.peerCertificate;
  if (certText(cb) !== certText(ca)) out.push(change('certificate', certText(cb), certText(ca), 'change', 'another certificate (subject, issuer, key or chain)'));
  else if (cb && ca && cb.sha256 !== ca.sha256) out.push(change('fingerprint', cb.sha256, ca.sha256, 'info', 'the lab issues fresh certificates every run'));
  const vb = b.tls.verification;
  const va = a.tls.verification;
  const vText = (v: typeof vb) => (v.verified ? 'verified' : `not verified (${[v.chainError, v.nameError].filter(Boolean).join(', ') || 'no reason given'})`);
  if (vText(vb) !== vText(va)) {
    const kind: ChangeKind = vb.verified && !va.verified ? 'regression' : !vb.verified && va.verified ? 'improvement' : 'change';
    out.push(change('verification', vText(vb), vText(va), kind, kind === 'regression' ? 'the certificate no longer verifies' : kind === 'improvement' ? 'the certificate verifies now' : 'another verification error'));
  }
  return out;
}

/** AUTH offered before TLS, as the EHLO reply before STARTTLS showed it; null when the client did not see that reply. */
function authBeforeTls(o: TlsObservation): string | null {
  const caps = o.capabilities.beforeTls;
  if (caps === null) return null;
  const auth = caps.filter((c) => /^AUTH\b/i.test(c));
  return auth.length ? `offered (${auth.join(', ')})` : 'not offered';
}

function authChange(b: TlsObservation, a: TlsObservation): Draft | null {
  const ab = authBeforeTls(b);
  const aa = authBeforeTls(a);
  if (ab === null || aa === null || ab === aa) return null;
  if (ab === 'not offered') return change('auth-before-tls', ab, aa, 'regression', 'AUTH is offered before TLS, where a password would cross in clear');
  if (aa === 'not offered') return change('auth-before-tls', ab, aa, 'improvement', 'AUTH is no longer offered before TLS');
  return change('auth-before-tls', ab, aa, 'change', 'other AUTH mechanisms before TLS');
}

function resumptionChange(b: TlsObservation, a: TlsObservation): Draft | null {
  if (b.resumption === null || a.resumption === null) return null;
  const t = (o: TlsObservation) => (o.tls ? (o.tls.sessionReused ? 'resumed' : 'not resumed') : noTls(o));
  return t(b) === t(a) ? null : change('resumption', t(b), t(a), 'change', 'session resumption differs');
}

function observationChanges(b: TlsObservation, a: TlsObservation): Draft[] {
  return [protocolChange(b, a), cipherChange(b, a), groupChange(b, a), ...certificateChanges(b, a), authChange(b, a), resumptionChange(b, a)].filter((d): d is Draft => d !== null);
}

interface EnumerationSurface {
  readonly protocol: string;
  readonly accepted: readonly string[];
  readonly order: string | null;
  readonly groups?: readonly string[];
}

const asEnumeration = (s: CheckResult['tlsSurface']): EnumerationSurface | null => {
  const e = s?.enumeration as EnumerationSurface | undefined;
  return e && typeof e.protocol === 'string' && Array.isArray(e.accepted) ? e : null;
};

const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');

function surfaceChanges(b: CheckResult, a: CheckResult): Draft[] {
  const out: Draft[] = [];
  const eb = asEnumeration(b.tlsSurface);
  const ea = asEnumeration(a.tlsSurface);
  if (eb && ea) {
    const p = ea.protocol;
    const added = ea.accepted.filter((s) => !eb.accepted.includes(s));
    const removed = eb.accepted.filter((s) => !ea.accepted.includes(s));
    if (added.length) out.push(change('suites-accepted', `${p}: ${eb.accepted.length} accepted`, `${p}: ${ea.accepted.length} accepted, new: ${list(added)}`, 'regression', eb.accepted.length === 0 ? `${p} is now accepted at all` : 'the server accepts suites it refused'));
    if (removed.length) out.push(change('suites-refused', `${p}: ${eb.accepted.length} accepted`, `${p}: ${ea.accepted.length} accepted, now refused: ${list(removed)}`, 'improvement', 'the server refuses suites it accepted'));
    const common = (xs: readonly string[], other: readonly string[]) => xs.filter((s) => other.includes(s));
    const orderText = (e: EnumerationSurface) => `${e.order ?? 'order not determined'}: ${list(common(e.accepted, e === eb ? ea.accepted : eb.accepted))}`;
    // Order means something only where both runs accepted suites.
    if (eb.accepted.length && ea.accepted.length && (eb.order !== ea.order || (ea.order === 'server' && common(eb.accepted, ea.accepted).join() !== common(ea.accepted, eb.accepted).join()))) {
      out.push(change('suite-order', orderText(eb), orderText(ea), 'change', eb.order !== ea.order ? 'who chooses the suite changed' : "the server's preference order changed"));
    }
    if (eb.groups && ea.groups && eb.groups.join() !== ea.groups.join()) out.push(change('groups', list(eb.groups), list(ea.groups), 'change', 'the key exchange groups differ'));
  }
  const hb = b.tlsSurface?.hello as Record<string, unknown> | undefined;
  const ha = a.tlsSurface?.hello as Record<string, unknown> | undefined;
  if (hb && ha) {
    const t = (h: Record<string, unknown>) => [h.kind, h.version, h.cipher, h.alert].filter((x) => x !== null && x !== undefined).join(' ');
    if (t(hb) !== t(ha)) out.push(change('hello', t(hb), t(ha), 'change', "the server's answer to the hand-built hello differs"));
  }
  return out;
}

const portsOf = (...checks: (CheckResult | undefined)[]) => {
  const ports = [...new Set(checks.flatMap((c) => c?.observations.map((o) => o.target.port) ?? []))].sort((x, y) => x - y);
  return ports.length ? ports.join(', ') : null;
};

/** The i-th observation of each client in BASE paired with the i-th of the same client in HEAD. */
function pairObservations(b: readonly TlsObservation[], a: readonly TlsObservation[]): [TlsObservation, TlsObservation][] {
  const nth = (xs: readonly TlsObservation[]) => {
    const seen = new Map<string, number>();
    return xs.map((o) => {
      const i = seen.get(o.client) ?? 0;
      seen.set(o.client, i + 1);
      return [`${o.client}#${i}`, o] as const;
    });
  };
  const head = new Map(nth(a));
  return nth(b).flatMap(([key, o]) => (head.has(key) ? [[o, head.get(key)!] as [TlsObservation, TlsObservation]] : []));
}

function checkChanges(scenario: string, b: CheckResult | undefined, a: CheckResult | undefined): Change[] {
  const id = (a ?? b)!.id;
  const out: Change[] = [];
  const verdict = verdictChange(b?.status ?? null, a?.status ?? null);
  const port = portsOf(b, a);
  if (verdict) out.push({ scenario, port, check: id, clients: [], ...verdict });
  if (!b || !a) return out;
  // The same change seen by several clients is one change, naming them all.
  const merged = new Map<string, Change>();
  for (const [ob, oa] of pairObservations(b.observations, a.observations)) {
    for (const d of observationChanges(ob, oa)) {
      const key = JSON.stringify([oa.target.port, d.aspect, d.before, d.after]);
      const seen = merged.get(key);
      merged.set(key, seen ? { ...seen, clients: [...seen.clients, oa.client] } : { scenario, port: String(oa.target.port), check: id, clients: [oa.client], ...d });
    }
  }
  out.push(...merged.values());
  for (const d of surfaceChanges(b, a)) out.push({ scenario, port, check: id, clients: [], ...d });
  return out;
}

/**
 * A report entry's key: its id and its stack. A run over several stacks has one entry per
 * (scenario, stack); a report from before stacks (no `stack`) ran on bookworm, so its keys are
 * those of a bookworm run and single-stack reports pair exactly as before.
 */
export const entryKey = (s: Pick<ScenarioReport, 'id' | 'stack'>): string => `${s.id}\0${stackOf(s)}`;
const stackOf = (s: Pick<ScenarioReport, 'stack'>): string => s.stack?.name ?? DEFAULT_STACK;
/** Entries in a run's order: by id, then by stack as the stacks are listed (bullseye … sid). */
export function byIdThenStack(a: Pick<ScenarioReport, 'id' | 'stack'>, b: Pick<ScenarioReport, 'id' | 'stack'>): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  const rank = (x: Pick<ScenarioReport, 'stack'>) => ((STACK_NAMES as readonly string[]).indexOf(stackOf(x)) + STACK_NAMES.length + 1) % (STACK_NAMES.length + 1);
  return rank(a) - rank(b) || (stackOf(a) < stackOf(b) ? -1 : stackOf(a) > stackOf(b) ? 1 : 0);
}

function scenarioDiff(b: ScenarioReport | undefined, a: ScenarioReport | undefined, severalStacks: boolean): ScenarioDiff {
  const s = (a ?? b)!;
  const label = severalStacks ? `${s.id} [${stackOf(s)}]` : s.id;
  const changes: Change[] = [];
  if (!b || !a) {
    changes.push({ scenario: label, port: null, check: null, clients: [], aspect: 'scenario', before: b ? b.status : 'absent', after: a ? a.status : 'absent', kind: 'change', why: a ? 'a scenario only HEAD ran' : 'a scenario only BASE ran' });
  }
  const ids = [...new Set([...(b?.checks ?? []), ...(a?.checks ?? [])].map((c) => c.id))];
  for (const id of ids) changes.push(...checkChanges(label, b?.checks.find((c) => c.id === id), a?.checks.find((c) => c.id === id)));
  return { id: s.id, stack: stackOf(s), label, title: s.title, before: b?.status ?? null, after: a?.status ?? null, changes };
}

/** Compare two reports (already read and checked to be reports). Pure: the same two inputs give the same record. */
export function diffReports(base: { file: string; report: Report }, head: { file: string; report: Report }): ReportDiff {
  // Entries are paired by id and stack: a multi-stack report holds one id several times.
  const all = [...base.report.scenarios, ...head.report.scenarios];
  const keys = [...new Map([...all].sort(byIdThenStack).map((s) => [entryKey(s), s])).keys()];
  const severalStacks = new Set(all.map(stackOf)).size > 1;
  const scenarios = keys.map((k) => scenarioDiff(base.report.scenarios.find((s) => entryKey(s) === k), head.report.scenarios.find((s) => entryKey(s) === k), severalStacks));
  const counts = { regression: 0, improvement: 0, change: 0, info: 0 };
  for (const c of scenarios.flatMap((s) => s.changes)) counts[c.kind]++;
  const side = (x: { file: string; report: Report }): DiffSide => ({ file: x.file, runId: x.report.run.id, exitCode: x.report.summary.exitCode, checks: x.report.summary.checks });
  return deepFreeze({ base: side(base), head: side(head), scenarios, counts, exitCode: counts.regression > 0 ? 1 : 0 });
}
