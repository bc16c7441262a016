/**
 * Parser for Postfix's log lines, written from Postfix's own format strings:
 *
 *  - the TLS summary of tls_log_summary() (src/tls/tls_misc.c):
 *      "%s TLS connection %s %s %s%s%s: %s with cipher %s (%d/%d bits)"
 *        trust (Anonymous|Untrusted|Trusted|Verified), established|reused, from|to,
 *        name[addr]:port, optional " to <SNI>" (server side), protocol, cipher, bits
 *      then optionally " key-exchange %s" [" (%s)" curve | " (%d bits)"],
 *      " server-signature %s" [" (%s)" | " (%d bits)"] [" server-digest %s"],
 *      " client-signature %s" [...] [" client-digest %s"]
 *  - smtpd's "connect from %s", "disconnect from %s%s" (command counts), "lost connection after %s from %s",
 *    "SSL_accept error from %s: %d", "%s: client=%s"
 *  - the delivery agents' "%s: to=<%s>, relay=%s, delay=%s, delays=%s, dsn=%s, status=%s (%s)"
 *  - the queue's life: cleanup's "%s: message-id=%s", qmgr's "%s: from=<%s>, size=%ld, nrcpt=%d" and "%s: removed"
 *  - smtp(8) as a TLS client: "Host offered STARTTLS: [%s]" (smtp_tls_note_starttls_offer), and
 *    tls_verify.c's "%s certificate verification failed for %s: %s" / "certificate verification failed for %s: %s"
 *  - "warning: ...", "fatal: ...", "panic: ...", master's "daemon started -- version %s"
 *  - the lab entrypoint's own "lab-entrypoint: ..." and "lab-isolate: ..." lines and postconf's complaints.
 *
 * "from name[addr]" is also accepted without the space, as in lines where a host name was
 * removed by hand (seed 002 quotes such lines).
 *
 * Every event keeps the raw line. Unknown lines become { type: 'other' } rather than errors.
 */
import type { Shape } from '../core/shape.js';

export interface Peer {
  readonly name: string;
  readonly addr: string;
  readonly port: number | null;
}

export interface KeyInfo {
  readonly name: string;
  readonly curve: string | null;
  readonly bits: number | null;
}

interface Base {
  readonly raw: string;
  /** Syslog-style time stamp as Postfix wrote it (no year), or null for non-Postfix lines. */
  readonly time: string | null;
  readonly program: string | null;
  readonly pid: number | null;
}

export type PostfixLogEvent =
  | (Base & { readonly type: 'daemon-started'; readonly version: string })
  | (Base & { readonly type: 'connect'; readonly peer: Peer })
  | (Base & { readonly type: 'disconnect'; readonly peer: Peer; readonly commands: Readonly<Record<string, string>> })
  | (Base & { readonly type: 'lost-connection'; readonly after: string; readonly peer: Peer })
  | (Base & {
      readonly type: 'tls-established';
      readonly trust: 'Anonymous' | 'Untrusted' | 'Trusted' | 'Verified';
      readonly reused: boolean;
      readonly direction: 'from' | 'to';
      readonly peer: Peer;
      readonly sni: string | null;
      readonly protocol: string;
      readonly cipher: string;
      readonly cipherBits: { readonly used: number; readonly algorithm: number };
      readonly keyExchange: KeyInfo | null;
      readonly serverSignature: (KeyInfo & { readonly digest: string | null }) | null;
      readonly clientSignature: (KeyInfo & { readonly digest: string | null }) | null;
    })
  | (Base & { readonly type: 'tls-handshake-error'; readonly role: 'accept' | 'connect'; readonly peer: Peer; readonly code: number })
  | (Base & { readonly type: 'tls-library-problem'; readonly reason: string | null; readonly text: string })
  // smtpd.c: "%s: client=%s[%s]:%s" then ", sasl_method=%s", ", sasl_username=%s", ", sasl_sender=%s" when the client logged in.
  | (Base & { readonly type: 'queue-client'; readonly queueId: string; readonly peer: Peer; readonly saslMethod: string | null; readonly saslUsername: string | null })
  | (Base & {
      readonly type: 'delivery';
      readonly queueId: string;
      readonly to: string;
      readonly relay: string;
      readonly delay: number;
      readonly dsn: string;
      readonly status: 'sent' | 'deferred' | 'bounced' | 'expired' | 'undeliverable' | 'deliverable';
      readonly reason: string;
    })
  | (Base & { readonly type: 'reject'; readonly queueId: string | null; readonly stage: string; readonly peer: Peer; readonly reply: string })
  | (Base & { readonly type: 'queue-message-id'; readonly queueId: string; readonly messageId: string })
  | (Base & { readonly type: 'queue-from'; readonly queueId: string; readonly from: string; readonly size: number; readonly nrcpt: number })
  | (Base & { readonly type: 'queue-removed'; readonly queueId: string })
  | (Base & { readonly type: 'starttls-offered'; readonly host: string })
  | (Base & { readonly type: 'tls-verify-failed'; readonly peer: Peer; readonly reason: string })
  // Postfix 3.10+ with smtp_tlsrpt_enable (src/tls/tlsrpt_wrapper.c): "TLSRPT: status=success, domain=%s, receiving_mx=%s[%s]" and
  // "TLSRPT: status=failure, domain=%s, receiving_mx=%s[%s], failure_type=%s" [", failure_reason=%s"]
  | (Base & { readonly type: 'tlsrpt'; readonly status: 'success' | 'failure'; readonly domain: string; readonly receivingMx: Peer; readonly failureType: string | null; readonly failureReason: string | null })
  | (Base & { readonly type: 'warning' | 'fatal' | 'panic'; readonly text: string })
  // smtpd_tls_loglevel >= 2: handshake states ("SSL_accept:SSLv3/TLS write server hello"),
  // alerts ("SSL3 alert write:warning:no renegotiation"), session cache and ticket lines, and
  // the connection setup lines; >= 3 adds hex dumps of the handshake ("read from …", "0000 16 03 …").
  | (Base & { readonly type: 'tls-state'; readonly role: 'accept' | 'connect'; readonly state: string })
  | (Base & { readonly type: 'tls-alert'; readonly direction: 'read' | 'write'; readonly level: string; readonly description: string })
  | (Base & { readonly type: 'tls-session'; readonly text: string; readonly reused: boolean })
  | (Base & { readonly type: 'tls-setup'; readonly text: string })
  | (Base & { readonly type: 'tls-dump'; readonly text: string })
  // smtpd_tls_loglevel >= 2, peer certificate: "name[addr]:port: subject_CN=…, issuer=…, fingerprint=…, pkey_fingerprint=…"
  | (Base & { readonly type: 'tls-peer-certificate'; readonly subjectCN: string; readonly issuer: string; readonly fingerprint: string; readonly pkeyFingerprint: string | null })
  // smtpd_tls_loglevel 4: the SMTP session inside TLS, in clear ("Read 22 chars: EHLO …").
  | (Base & { readonly type: 'tls-data'; readonly direction: 'read' | 'write'; readonly bytes: number; readonly text: string })
  | (Base & { readonly type: 'entrypoint'; readonly text: string; readonly failed: boolean })
  | (Base & { readonly type: 'postconf'; readonly level: 'warning' | 'fatal' | 'info'; readonly text: string })
  | (Base & { readonly type: 'other'; readonly text: string });

export type PostfixLogEventType = PostfixLogEvent['type'];

// "Nov 22 05:20:53 mx postfix/smtpd[175]: text" (maillog_file format; syslog's is the same).
const PREFIX = /^([A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d(?:\.\d+)?) (\S+) ([^\s[]+)\[(\d+)\]: (.*)$/s;
const PEER = String.raw`([^\s[]*)\[([^\]]*)\](?::(\d+))?`;
const PEER_RE = new RegExp(`^${PEER}$`);

const TLS_SUMMARY = new RegExp(
  String.raw`^(Anonymous|Untrusted|Trusted|Verified) TLS connection (established|reused) (from|to) ${PEER}(?: to (\S+))?: (\S+) with cipher (\S+) \((\d+)/(\d+) bits\)` +
    String.raw`(?: key-exchange (\S+)(?: \(([^)]*)\))?)?` +
    String.raw`(?: server-signature (\S+)(?: \(([^)]*)\))?(?: server-digest (\S+))?)?` +
    String.raw`(?: client-signature (\S+)(?: \(([^)]*)\))?(?: client-digest (\S+))?)?$`,
);

function peer(name: string, addr: string, port: string | undefined): Peer {
  return { name, addr, port: port === undefined ? null : Number(port) };
}

export function parsePeer(text: string): Peer | null {
  const m = PEER_RE.exec(text);
  return m ? peer(m[1]!, m[2]!, m[3]) : null;
}

/** "(2048 bits)" → bits, "(prime256v1)" → curve. */
function keyInfo(name: string | undefined, paren: string | undefined): KeyInfo | null {
  if (!name) return null;
  const bits = paren ? /^(\d+) bits$/.exec(paren) : null;
  return { name, curve: paren && !bits ? paren : null, bits: bits ? Number(bits[1]) : null };
}

function parseCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.trim().split(/\s+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

function parseMessage(base: Base, msg: string): PostfixLogEvent {
  let m: RegExpExecArray | null;
  if ((m = /^daemon started -- version (\S+?),/.exec(msg))) return { ...base, type: 'daemon-started', version: m[1]! };
  if ((m = TLS_SUMMARY.exec(msg))) {
    const sig = (n?: string, p?: string, d?: string) => {
      const k = keyInfo(n, p);
      return k ? { ...k, digest: d ?? null } : null;
    };
    return {
      ...base,
      type: 'tls-established',
      trust: m[1] as 'Anonymous',
      reused: m[2] === 'reused',
      direction: m[3] as 'from' | 'to',
      peer: peer(m[4]!, m[5]!, m[6]),
      sni: m[7] ?? null,
      protocol: m[8]!,
      cipher: m[9]!,
      cipherBits: { used: Number(m[10]), algorithm: Number(m[11]) },
      keyExchange: keyInfo(m[12], m[13]),
      serverSignature: sig(m[14], m[15], m[16]),
      clientSignature: sig(m[17], m[18], m[19]),
    };
  }
  if ((m = new RegExp(`^connect from ?${PEER}$`).exec(msg))) return { ...base, type: 'connect', peer: peer(m[1]!, m[2]!, m[3]) };
  if ((m = new RegExp(`^disconnect from ?${PEER}(.*)$`).exec(msg)))
    return { ...base, type: 'disconnect', peer: peer(m[1]!, m[2]!, m[3]), commands: parseCommands(m[4]!) };
  if ((m = new RegExp(`^lost connection after (\\S+) from ?${PEER}$`).exec(msg)))
    return { ...base, type: 'lost-connection', after: m[1]!, peer: peer(m[2]!, m[3]!, m[4]) };
  if ((m = new RegExp(`^SSL_(accept|connect) error (?:from|to) ?${PEER}: (-?\\d+)$`).exec(msg)))
    return { ...base, type: 'tls-handshake-error', role: m[1] as 'accept', peer: peer(m[2]!, m[3]!, m[4]), code: Number(m[5]) };
  if ((m = new RegExp(`^([0-9A-Za-z]+): client=${PEER}`).exec(msg)))
    return {
      ...base,
      type: 'queue-client',
      queueId: m[1]!,
      peer: peer(m[2]!, m[3]!, m[4]),
      saslMethod: /, sasl_method=([^,\s]+)/.exec(msg)?.[1] ?? null,
      saslUsername: /, sasl_username=([^,\s]+)/.exec(msg)?.[1] ?? null,
    };
  if ((m = /^([0-9A-Za-z]+): to=<([^>]*)>,(?: orig_to=<[^>]*>,)? relay=([^,]+), .*?delay=([\d.]+), .*?dsn=([\d.]+), status=(\w+) \((.*)\)$/s.exec(msg)))
    return {
      ...base,
      type: 'delivery',
      queueId: m[1]!,
      to: m[2]!,
      relay: m[3]!,
      delay: Number(m[4]),
      dsn: m[5]!,
      status: m[6] as 'sent',
      reason: m[7]!,
    };
  if ((m = /^([0-9A-Za-z]+): message-id=<?([^<>\s]*)>?$/.exec(msg))) return { ...base, type: 'queue-message-id', queueId: m[1]!, messageId: m[2]! };
  if ((m = /^([0-9A-Za-z]+): from=<([^>]*)>, size=(\d+), nrcpt=(\d+)/.exec(msg)))
    return { ...base, type: 'queue-from', queueId: m[1]!, from: m[2]!, size: Number(m[3]), nrcpt: Number(m[4]) };
  if ((m = /^([0-9A-Za-z]+): removed$/.exec(msg))) return { ...base, type: 'queue-removed', queueId: m[1]! };
  if ((m = /^Host offered STARTTLS: \[(.*)\]$/.exec(msg))) return { ...base, type: 'starttls-offered', host: m[1]! };
  if ((m = new RegExp(`^TLSRPT: status=(success|failure), domain=([^,]*), receiving_mx=${PEER}(?:, failure_type=([^,]*))?(?:, failure_reason=(.*))?$`, 's').exec(msg)))
    return { ...base, type: 'tlsrpt', status: m[1] as 'success', domain: m[2]!, receivingMx: peer(m[3]!, m[4]!, m[5]), failureType: m[6] ?? null, failureReason: m[7] ?? null };
  if ((m = new RegExp(`^(?:\\S+ )?certificate verification failed for ${PEER}: (.*)$`, 's').exec(msg)))
    return { ...base, type: 'tls-verify-failed', peer: peer(m[1]!, m[2]!, m[3]), reason: m[4]! };
  if ((m = new RegExp(`^(?:([0-9A-Za-z]+|NOQUEUE): )?reject: (\\S+) from ${PEER}: (.*)$`, 's').exec(msg)))
    return {
      ...base,
      type: 'reject',
      queueId: m[1] && m[1] !== 'NOQUEUE' ? m[1] : null,
      stage: m[2]!,
      peer: peer(m[3]!, m[4]!, m[5]),
      reply: m[6]!,
    };
  if ((m = /^warning: TLS library problem: (.*)$/s.exec(msg))) {
    // OpenSSL 3: "error:0A000102:SSL routines::unsupported protocol:file:line:"; 1.1: "...:func:reason:file:line:"
    const parts = m[1]!.split(':');
    const reason = parts[0] === 'error' ? (parts[4] ?? null) : null;
    return { ...base, type: 'tls-library-problem', reason: reason || null, text: m[1]! };
  }
  if ((m = /^(warning|fatal|panic): (.*)$/s.exec(msg))) return { ...base, type: m[1] as 'warning', text: m[2]! };
  if ((m = /^SSL_(accept|connect):(.*)$/.exec(msg))) return { ...base, type: 'tls-state', role: m[1] as 'accept', state: m[2]! };
  if ((m = /^SSL3 alert (read|write):(\w+):(.*)$/.exec(msg))) return { ...base, type: 'tls-alert', direction: m[1] as 'read', level: m[2]!, description: m[3]! };
  if (/^(?:\S+: )?(Reusing old session|Issuing session ticket|Decrypting session ticket|save session|looking for session|remove session|reloaded session|new session|Cached session|Re-using session)/i.test(msg))
    return { ...base, type: 'tls-session', text: msg, reused: /Reusing old session|Re-using session|reloaded session/i.test(msg) };
  if (/^(setting up TLS connection (from|to) |\S+: TLS cipher list )/.test(msg)) return { ...base, type: 'tls-setup', text: msg };
  // Postfix 3.10+ writes "cert fingerprint=" and "pkey fingerprint=" where 3.7 wrote "fingerprint=" and "pkey_fingerprint=".
  if ((m = /^(?:\S+: )?subject_CN=(.*?), issuer=(.*?), (?:cert )?fingerprint=([0-9A-F:]+)(?:, pkey[_ ]fingerprint=([0-9A-F:]+))?$/.exec(msg)))
    return { ...base, type: 'tls-peer-certificate', subjectCN: m[1]!, issuer: m[2]!, fingerprint: m[3]!, pkeyFingerprint: m[4] ?? null };
  if ((m = /^(Read|Write) (\d+) chars: (.*)$/s.exec(msg))) return { ...base, type: 'tls-data', direction: m[1] === 'Read' ? 'read' : 'write', bytes: Number(m[2]), text: m[3]! };
  if (/^(read from|write to) [0-9A-F]+ \[[0-9A-F]+\]|^[0-9a-f]{4} [0-9a-f]{2}[ |]|^[0-9a-f]{4} - <SPACES\/NULLS>/.test(msg)) return { ...base, type: 'tls-dump', text: msg };
  return { ...base, type: 'other', text: msg };
}

export function parseLogLine(line: string): PostfixLogEvent {
  const raw = line.replace(/\r?\n$/, '');
  const m = PREFIX.exec(raw);
  if (m) {
    const base: Base = { raw, time: m[1]!, program: m[3]!, pid: Number(m[4]) };
    return parseMessage(base, m[5]!);
  }
  const bare: Base = { raw, time: null, program: null, pid: null };
  let e: RegExpExecArray | null;
  if ((e = /^lab-(?:entrypoint|isolate): (.*)$/s.exec(raw))) return { ...bare, type: 'entrypoint', text: e[1]!, failed: e[1]!.startsWith('FAILED') };
  if ((e = /^(?:\S*\/)?(?:postconf|postmap|postfix|postalias)(?:\/[\w-]+)?: (warning|fatal): (.*)$/s.exec(raw)))
    return { ...bare, program: raw.slice(0, raw.indexOf(':')), type: 'postconf', level: e[1] as 'warning', text: e[2]! };
  return { ...bare, type: 'other', text: raw };
}

export function parseLog(text: string): PostfixLogEvent[] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map(parseLogLine);
}

/** The event of one type, from the union above. */
export type PostfixLogEventOf<T extends PostfixLogEventType> = PostfixLogEvent extends infer E ? (E extends { readonly type: infer U } ? (T extends U ? E : never) : never) : never;

const BASE_SHAPE = { raw: 'leaf', time: 'leaf', program: 'leaf', pid: 'leaf', type: 'leaf' } as const;
const PEER_SHAPE = { name: 'leaf', addr: 'leaf', port: 'leaf' } as const;
const KEY_SHAPE = { name: 'leaf', curve: 'leaf', bits: 'leaf' } as const;
const TEXT_SHAPE = { ...BASE_SHAPE, text: 'leaf' } as const;

/**
 * The fields of each event type, held by the compiler to the union above: an event type added
 * to the parser and not here does not compile. Scenario files name event types and fields;
 * the loader takes both from this table, so there is no second list to keep in step.
 */
export const LOG_EVENT_SHAPES: { readonly [T in PostfixLogEventType]: Shape<PostfixLogEventOf<T>> } = {
  'daemon-started': { ...BASE_SHAPE, version: 'leaf' },
  connect: { ...BASE_SHAPE, peer: PEER_SHAPE },
  disconnect: { ...BASE_SHAPE, peer: PEER_SHAPE, commands: 'record' },
  'lost-connection': { ...BASE_SHAPE, after: 'leaf', peer: PEER_SHAPE },
  'tls-established': {
    ...BASE_SHAPE,
    trust: 'leaf',
    reused: 'leaf',
    direction: 'leaf',
    peer: PEER_SHAPE,
    sni: 'leaf',
    protocol: 'leaf',
    cipher: 'leaf',
    cipherBits: { used: 'leaf', algorithm: 'leaf' },
    keyExchange: KEY_SHAPE,
    serverSignature: { ...KEY_SHAPE, digest: 'leaf' },
    clientSignature: { ...KEY_SHAPE, digest: 'leaf' },
  },
  'tls-handshake-error': { ...BASE_SHAPE, role: 'leaf', peer: PEER_SHAPE, code: 'leaf' },
  'tls-library-problem': { ...BASE_SHAPE, reason: 'leaf', text: 'leaf' },
  'queue-client': { ...BASE_SHAPE, queueId: 'leaf', peer: PEER_SHAPE, saslMethod: 'leaf', saslUsername: 'leaf' },
  delivery: { ...BASE_SHAPE, queueId: 'leaf', to: 'leaf', relay: 'leaf', delay: 'leaf', dsn: 'leaf', status: 'leaf', reason: 'leaf' },
  reject: { ...BASE_SHAPE, queueId: 'leaf', stage: 'leaf', peer: PEER_SHAPE, reply: 'leaf' },
  'queue-message-id': { ...BASE_SHAPE, queueId: 'leaf', messageId: 'leaf' },
  'queue-from': { ...BASE_SHAPE, queueId: 'leaf', from: 'leaf', size: 'leaf', nrcpt: 'leaf' },
  'queue-removed': { ...BASE_SHAPE, queueId: 'leaf' },
  'starttls-offered': { ...BASE_SHAPE, host: 'leaf' },
  'tls-verify-failed': { ...BASE_SHAPE, peer: PEER_SHAPE, reason: 'leaf' },
  tlsrpt: { ...BASE_SHAPE, status: 'leaf', domain: 'leaf', receivingMx: PEER_SHAPE, failureType: 'leaf', failureReason: 'leaf' },
  warning: TEXT_SHAPE,
  fatal: TEXT_SHAPE,
  panic: TEXT_SHAPE,
  'tls-state': { ...BASE_SHAPE, role: 'leaf', state: 'leaf' },
  'tls-alert': { ...BASE_SHAPE, direction: 'leaf', level: 'leaf', description: 'leaf' },
  'tls-session': { ...TEXT_SHAPE, reused: 'leaf' },
  'tls-setup': TEXT_SHAPE,
  'tls-dump': TEXT_SHAPE,
  'tls-peer-certificate': { ...BASE_SHAPE, subjectCN: 'leaf', issuer: 'leaf', fingerprint: 'leaf', pkeyFingerprint: 'leaf' },
  'tls-data': { ...BASE_SHAPE, direction: 'leaf', bytes: 'leaf', text: 'leaf' },
  entrypoint: { ...TEXT_SHAPE, failed: 'leaf' },
  postconf: { ...TEXT_SHAPE, level: 'leaf' },
  other: TEXT_SHAPE,
};

/** Every event type the parser produces. */
export const LOG_EVENT_TYPES = Object.keys(LOG_EVENT_SHAPES) as PostfixLogEventType[];
