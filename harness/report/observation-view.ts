/**
 * What the readable formats (summary.md, index.html) show of a check's observations, derived
 * from the report model only: the SMTP dialogue as ladder steps, the Postfix log lines of one
 * connection, and the negotiated TLS per port. Pure functions; no escaping here (each format
 * escapes for its own syntax).
 */
import type { CheckResult, LogEvent, ScenarioReport } from './types.js';

type Observation = CheckResult['observations'][number];

/**
 * One step of a ladder diagram: a message from the client (`C`) or the server (`S`) — the
 * lines of one multi-line reply together — a note of the client's (`*`: TLS events, s_client's
 * output, timeouts), or the TLS handshake as the client saw it (`tls`).
 */
export interface LadderStep {
  readonly kind: 'C' | 'S' | '*' | 'tls';
  readonly lines: readonly string[];
  /** Milliseconds since the observation started (the first line's). */
  readonly t: number | null;
}

/**
 * A credential on a client line is never shown, even if a client forgot to redact it: the
 * argument of AUTH, and whatever the client answered to a 334 challenge.
 */
function redactClientLine(text: string, afterChallenge: boolean): string {
  if (afterChallenge) return text === '' || text === '*' ? text : '<redacted>';
  const m = /^(AUTH\s+\S+)\s+(.+)$/i.exec(text);
  return m && m[2] !== '<redacted>' ? `${m[1]} <redacted>` : text;
}

/** The one-line handshake summary of an observation, or why there was none. */
export function handshakeSummary(o: Observation): string[] {
  const t = o.tls;
  if (!t) return o.error && (o.error.stage === 'handshake' || o.error.code === 'ETLS') ? [`TLS handshake failed: ${o.error.code}: ${o.error.message}`] : [];
  const kx = t.keyExchange ? `${t.keyExchange.type}${t.keyExchange.group ? ` ${t.keyExchange.group}` : ''}${t.keyExchange.bits ? ` (${t.keyExchange.bits} bits)` : ''}` : null;
  const cert = t.peerCertificate ? `certificate ${t.peerCertificate.commonName ?? t.peerCertificate.subject} (${t.peerCertificate.keyType ?? '?'}${t.peerCertificate.keyBits ? ` ${t.peerCertificate.keyBits}` : ''}, chain of ${t.peerCertificate.chainLength})` : 'no certificate';
  const verified = t.verification.verified ? 'verified' : `not verified${t.verification.chainError ? `: ${t.verification.chainError}` : ''}${t.verification.nameError ? `; ${t.verification.nameError}` : ''}`;
  return [
    `handshake: ${t.protocol} ${t.cipher.iana ?? t.cipher.openssl}${t.sessionReused ? ' (resumed)' : ''}`,
    [kx, cert, verified].filter((x) => x !== null).join(', '),
  ];
}

/**
 * The observation's transcript as ladder steps: consecutive lines from the same side are one
 * step (a multi-line reply is one arrow), and the handshake summary goes where the TLS session
 * began: at the client's "TLS established" note, else after the reply to STARTTLS, else (an
 * implicit-TLS or s_client connection) before the first SMTP line.
 */
export function ladderSteps(o: Observation): LadderStep[] {
  const steps: { kind: LadderStep['kind']; lines: string[]; t: number | null }[] = [];
  let afterChallenge = false;
  for (const e of o.transcript) {
    const text = e.dir === 'C' ? redactClientLine(e.text, afterChallenge) : e.text.replace(/\r$/, '');
    if (e.dir === 'S') afterChallenge = /^334[ -]/.test(text);
    const last = steps[steps.length - 1];
    // A new server reply starts after a final line ("250 x", not "250-x").
    const continues = last && last.kind === e.dir && (e.dir !== 'S' || /^\d{3}-/.test(last.lines[last.lines.length - 1] ?? ''));
    if (continues && e.dir !== 'C') last.lines.push(text);
    else steps.push({ kind: e.dir, lines: [text], t: e.t });
  }
  const summary = handshakeSummary(o);
  if (summary.length === 0) return steps;
  const tlsStep = { kind: 'tls' as const, lines: summary, t: null };
  const established = steps.findIndex((s) => s.kind === '*' && s.lines.some((l) => l.startsWith('TLS established')));
  const starttls = steps.findIndex((s, i) => s.kind === 'C' && /^STARTTLS$/i.test(s.lines[0] ?? '') && steps[i + 1]?.kind === 'S');
  const firstSmtp = steps.findIndex((s) => s.kind === 'S' || s.kind === 'C');
  const at = established >= 0 ? established + 1 : starttls >= 0 ? starttls + 2 : firstSmtp >= 0 ? firstSmtp : steps.length;
  return [...steps.slice(0, at), tlsStep, ...steps.slice(at)];
}

const portOf = (e: LogEvent): number | null => ('peer' in e ? e.peer.port : null);

/**
 * The check's Postfix log events that belong to one observation's connection: from smtpd's
 * `connect from …:PORT` of the client's own port to the `disconnect` of that port (same
 * process), and the queue's lines of a message that connection queued. `matched` is false when
 * no event names the port (then all the check's events are given, so nothing is hidden).
 */
export function logEventsOf(o: Observation, events: readonly LogEvent[]): { readonly matched: boolean; readonly events: readonly LogEvent[] } {
  const start = o.localPort === null ? -1 : events.findIndex((e) => e.type === 'connect' && e.peer.port === o.localPort);
  if (start < 0) return { matched: false, events };
  const pid = events[start]!.pid;
  const own: LogEvent[] = [];
  const queueIds = new Set<string>();
  for (let i = start; i < events.length; i++) {
    const e = events[i]!;
    if (e.pid !== pid) continue;
    const port = portOf(e);
    if (port !== null && port !== o.localPort) continue;
    own.push(e);
    if (e.type === 'queue-client') queueIds.add(e.queueId);
    if (e.type === 'disconnect' && port === o.localPort) break;
  }
  const queued = events.filter((e) => !own.includes(e) && 'queueId' in e && typeof e.queueId === 'string' && queueIds.has(e.queueId));
  return { matched: true, events: [...own, ...queued].sort((a, b) => events.indexOf(a) - events.indexOf(b)) };
}

/** One row of the negotiated-TLS table: a port, a client, what it negotiated, and the checks that saw it. */
export interface NegotiatedRow {
  readonly port: number;
  readonly mode: string;
  readonly client: string;
  readonly protocol: string;
  readonly cipher: string;
  readonly keyExchange: string;
  readonly checks: readonly string[];
}

/** What the scenario's clients negotiated, per port and client, each distinct outcome once (with the checks that saw it). */
export function negotiatedRows(s: ScenarioReport): NegotiatedRow[] {
  const rows = new Map<string, { row: Omit<NegotiatedRow, 'checks'>; checks: string[] }>();
  for (const c of s.checks) {
    for (const o of c.observations) {
      const t = o.tls;
      const row = {
        port: o.target.port,
        mode: o.target.mode,
        client: o.client,
        protocol: t?.protocol ?? (o.error ? `none (${o.error.code}${o.error.stage ? ` at ${o.error.stage}` : ''})` : 'none'),
        cipher: t ? (t.cipher.iana ?? t.cipher.openssl) : '',
        keyExchange: t?.keyExchange ? [t.keyExchange.type, t.keyExchange.group, t.keyExchange.bits ? `${t.keyExchange.bits} bits` : null].filter(Boolean).join(' ') : '',
      };
      const key = JSON.stringify(row);
      const had = rows.get(key) ?? { row, checks: [] };
      if (!had.checks.includes(c.id)) had.checks.push(c.id);
      rows.set(key, had);
    }
  }
  return [...rows.values()].map(({ row, checks }) => ({ ...row, checks })).sort((a, b) => a.port - b.port || a.client.localeCompare(b.client) || a.protocol.localeCompare(b.protocol));
}

/** A value as compact JSON for "expected"/"observed" cells (undefined as "nothing"). */
export function showValue(v: unknown, max = 2000): string {
  if (v === undefined) return 'nothing';
  const text = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v, null, 1) ?? String(v);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
