/**
 * Exim's main log (log_selector as harness/interop/exim-config.ts sets it), one line → one
 * event. Data only. The lines the lab reads:
 *   SMTP connection from [10.0.0.10]:41058 (TCP/IP connection count = 1)
 *   SMTP connection from (mx.lab.test) [10.0.0.10]:41058 closed by QUIT
 *   TLS error on connection from (mx.lab.test) [10.0.0.10]:58248 (gnutls_handshake): No supported cipher suites have been found.
 *   1xZ4Vx-00000e-2J <= a@lab.test H=(mx.lab.test) [10.0.0.10]:41058 P=esmtps X=TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256 CV=no S=523 id=m@x for u@y
 *   1xZ4Vx-00000e-2J => u <u@y> R=lab_mailbox T=lab_maildir
 *   1xZ9VV-000028-36 => a@lab.test R=send_tls T=lab_send_tls H=mx.lab.test [10.0.0.10]:5870 I=[10.0.0.30]:41022 X=TLS1.3:ECDHE_SECP256R1__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=no DN="CN=mx.lab.test" A=lab_plain K C="250 2.0.0 Ok: 389 bytes queued as 35FF8352382" DT=0s
 *   1xZ9Vg-00002H-1L == a@lab.test R=send_clear T=lab_send_clear defer (-42) DT=0s: authentication required but server did not advertise AUTH support
 *   1xZ9hC-00002m-2U == a@lab.test R=send_v T=lab_send_v defer (-37) H=mx.lab.test [10.0.0.10]:587: TLS session: (certificate verification failed): certificate invalid
 *   1xZ9Vg-00002H-1L ** a@lab.test R=send_x T=lab_send_x H=mx.lab.test [10.0.0.10]:587: SMTP error from remote mail server after MAIL FROM:<s@lab.test>: 530 5.7.0 Must issue a STARTTLS command first
 *   1xZ4Vx-00000e-2J Completed
 *   exim 4.96 daemon started: pid=36, -q30m, listening for SMTP on port 25 (IPv4)
 */

export interface EximPeer {
  readonly addr: string;
  readonly port: number | null;
  /** The HELO/EHLO name Exim shows in parentheses, or null before the client sent one. */
  readonly helo: string | null;
}

/** What Exim's X= says: protocol, GnuTLS's suite words, and bits. */
export interface EximTls {
  /** TLSv1.2, TLSv1.3 … (Exim writes TLS1.3). */
  readonly protocol: string;
  /** Exim's own spelling of the suite (GnuTLS words joined by _ and __), e.g. ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM. */
  readonly suite: string;
  readonly bits: number | null;
  /** The group Exim 4.100+ adds as a fourth field (GnuTLS's name, "SECP256R1", "X25519"); absent before. */
  readonly group?: string;
}

/** The host a remote delivery attempt went to, as Exim logs it: H=name [addr]:port, with * when the message went down a connection made for an earlier one. */
export interface EximRemoteHost {
  readonly name: string;
  readonly addr: string;
  readonly port: number | null;
  readonly continued: boolean;
}

/** The fields of a delivery line (=>, ==, **): router, transport, and for a remote attempt the host, TLS and authenticator. */
export interface EximDeliveryFields {
  readonly router: string | null;
  readonly transport: string | null;
  readonly host: EximRemoteHost | null;
  /** I=[addr]:port, Exim's own end of the connection (+outgoing_interface), or null. */
  readonly local: { readonly addr: string; readonly port: number | null } | null;
  readonly tls: EximTls | null;
  /** CV=yes|no|dane: whether Exim verified the server's certificate. */
  readonly certificateVerified: string | null;
  readonly peerDn: string | null;
  /** A=: the client authenticator Exim logged in with (a remote delivery), or null. */
  readonly authenticator: string | null;
}

/** A defer (==) or a failure (**) of one address. */
export type EximNotDelivered<T extends 'deferred' | 'failed'> = { readonly type: T; readonly raw: string; readonly time: string | null; readonly eximId: string; readonly to: string } & EximDeliveryFields & {
  /** Exim's errno for a defer ("defer (-42)"), null when it quotes the server instead. */
  readonly errno: number | null;
  /** What Exim says went wrong: its own words, or "SMTP error from remote mail server after …: <reply>". */
  readonly reason: string;
};

export type EximLogEvent =
  | { readonly type: 'connect'; readonly raw: string; readonly time: string | null; readonly peer: EximPeer }
  | { readonly type: 'closed'; readonly raw: string; readonly time: string | null; readonly peer: EximPeer; readonly how: string }
  | { readonly type: 'tls-error'; readonly raw: string; readonly time: string | null; readonly peer: EximPeer; readonly where: string; readonly reason: string }
  | {
      readonly type: 'received';
      readonly raw: string;
      readonly time: string | null;
      readonly eximId: string;
      readonly from: string;
      readonly peer: EximPeer | null;
      readonly protocol: string | null;
      readonly tls: EximTls | null;
      /** CV=yes|no|dane: whether Exim verified the client's certificate (no: none was asked for). */
      readonly certificateVerified: string | null;
      readonly sni: string | null;
      readonly peerDn: string | null;
      readonly size: number | null;
      readonly messageId: string | null;
      readonly recipients: readonly string[];
    }
  | ({ readonly type: 'delivered'; readonly raw: string; readonly time: string | null; readonly eximId: string; readonly to: string } & EximDeliveryFields & {
      /** C="…": the server's reply to the end of data (a remote delivery only). */
      readonly confirmation: string | null;
    })
  | EximNotDelivered<'deferred'>
  | EximNotDelivered<'failed'>
  | { readonly type: 'completed'; readonly raw: string; readonly time: string | null; readonly eximId: string }
  | { readonly type: 'daemon-started'; readonly raw: string; readonly time: string | null; readonly version: string }
  | { readonly type: 'other'; readonly raw: string; readonly time: string | null };

const TIME = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? (?:\[\d+\] )?/;
const EXIM_ID = /^([0-9A-Za-z]{6}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}) /;
const PEER = /(?:\(([^)]*)\) )?\[([0-9a-fA-F.:]+)\](?::(\d+))?/;

function peerOf(text: string): EximPeer | null {
  const m = PEER.exec(text);
  return m ? { addr: m[2]!, port: m[3] ? Number(m[3]) : null, helo: m[1] ?? null } : null;
}

/** Exim's X= field: "TLS1.3:ECDHE_X25519__RSA_PSS_RSAE_SHA256__AES_256_GCM:256". */
export function parseEximTls(x: string): EximTls | null {
  // Exim 4.100 (sid) appends the key-exchange group: "TLS1.3:ECDHE_SECP256R1__…__AES_256_GCM:256:SECP256R1".
  const m = /^(TLS1(?:\.[0-3])?|SSL3):([^:\s]+)(?::(\d+))?(?::([A-Za-z0-9_-]+))?$/.exec(x);
  if (!m) return null;
  const v = m[1]!.replace(/^TLS1$/, 'TLS1.0');
  return { protocol: v === 'SSL3' ? 'SSLv3' : v === 'TLS1.0' ? 'TLSv1' : v.replace('TLS', 'TLSv'), suite: m[2]!, bits: m[3] ? Number(m[3]) : null, ...(m[4] ? { group: m[4] } : {}) };
}

/** One field of a <= line: " X=value" (values have no spaces, except id= which ends at " for " or the end). */
function field(rest: string, name: string): string | null {
  return new RegExp(`(?:^| )${name}=(\\S+)`).exec(rest)?.[1] ?? null;
}

/**
 * The leading fields of a delivery line, in Exim's order (R= T= H=… I=… X= CV= DN= A= K C= DT=),
 * and what follows them: the reason of a defer or failure. H='s value is "name [addr]:port",
 * with an asterisk after the port for a continued connection.
 */
function deliveryFields(text: string): { fields: EximDeliveryFields; after: string } {
  let rest = text;
  const take = (re: RegExp): RegExpExecArray | null => {
    const m = re.exec(rest);
    if (m) rest = rest.slice(m[0].length);
    return m;
  };
  const router = take(/^R=(\S+) ?/)?.[1] ?? null;
  const transport = take(/^T=(\S+) ?/)?.[1] ?? null;
  const h = take(/^H=(\S+) \[([0-9a-fA-F.:]+)\](?::(\d+))?(\*)?:? ?/);
  const i = take(/^I=\[([0-9a-fA-F.:]+)\](?::(\d+))? ?/);
  const x = take(/^X=(\S+) ?/)?.[1] ?? null;
  const cv = take(/^CV=(\S+) ?/)?.[1] ?? null;
  const dn = take(/^DN="((?:[^"\\]|\\.)*)" ?/)?.[1] ?? null;
  const a = take(/^A=(\S+) ?/)?.[1] ?? null;
  return {
    fields: {
      router,
      transport,
      host: h ? { name: h[1]!, addr: h[2]!, port: h[3] ? Number(h[3]) : null, continued: h[4] === '*' } : null,
      local: i ? { addr: i[1]!, port: i[2] ? Number(i[2]) : null } : null,
      tls: x ? parseEximTls(x) : null,
      certificateVerified: cv,
      peerDn: dn,
      authenticator: a,
    },
    after: rest,
  };
}

export function parseEximLine(line: string): EximLogEvent {
  const raw = line.replace(/\r$/, '');
  const t = TIME.exec(raw);
  const time = t ? t[1]! : null;
  const body = t ? raw.slice(t[0].length) : raw;
  let m: RegExpExecArray | null;
  if ((m = /^exim (\S+) daemon started: /.exec(body))) return { type: 'daemon-started', raw, time, version: m[1]! };
  if ((m = /^SMTP connection from (.*?) (closed by \S+|lost.*|closed .*)$/.exec(body)) && !/connection count/.test(body)) {
    const peer = peerOf(m[1]!);
    if (peer) return { type: 'closed', raw, time, peer, how: m[2]! };
  }
  if ((m = /^SMTP connection from (.*?) \(TCP\/IP connection count = \d+\)$/.exec(body))) {
    const peer = peerOf(m[1]!);
    if (peer) return { type: 'connect', raw, time, peer };
  }
  if ((m = /^TLS error on connection from (.*?) \(([^)]*)\): (.*)$/.exec(body))) {
    const peer = peerOf(m[1]!);
    if (peer) return { type: 'tls-error', raw, time, peer, where: m[2]!, reason: m[3]! };
  }
  const id = EXIM_ID.exec(body);
  if (id) {
    const eximId = id[1]!;
    const rest = body.slice(id[0].length);
    if ((m = /^<= (\S+) (.*)$/.exec(rest))) {
      const tail = m[2]!;
      const forAt = tail.lastIndexOf(' for ');
      const fields = forAt >= 0 ? tail.slice(0, forAt) : tail;
      const recipients = forAt >= 0 ? tail.slice(forAt + 5).split(' ').filter(Boolean) : [];
      const h = / H=(.*?) (?=[A-Z]+=)/.exec(` ${fields} `);
      const x = field(fields, 'X');
      const size = field(fields, 'S');
      return {
        type: 'received',
        raw,
        time,
        eximId,
        from: m[1]!,
        peer: h ? peerOf(h[1]!) : null,
        protocol: field(fields, 'P'),
        tls: x ? parseEximTls(x) : null,
        certificateVerified: field(fields, 'CV'),
        sni: field(fields, 'SNI'),
        peerDn: /(?:^| )DN="([^"]*)"/.exec(fields)?.[1] ?? null,
        size: size ? Number(size) : null,
        messageId: field(fields, 'id'),
        recipients,
      };
    }
    if ((m = /^(=>|->|==|\*\*) (\S+)(?: <([^>]*)>)? (.*)$/.exec(rest))) {
      const to = m[3] ?? m[2]!;
      const { fields, after } = deliveryFields(m[4]!);
      if (m[1] === '=>' || m[1] === '->') return { type: 'delivered', raw, time, eximId, to, ...fields, confirmation: /(?:^| )C="((?:[^"\\]|\\.)*)"/.exec(m[4]!)?.[1] ?? null };
      // Exim puts the host after the errno when the attempt failed on a connection: "defer (-37) H=mx [10.0.0.10]:587: TLS session: …".
      // Exim puts the host after the errno when the attempt failed on a connection: "defer (-37) H=mx [10.0.0.10]:587: TLS session: …";
      // Exim 4.100 writes no errno ("defer: …", "defer H=… : …").
      const defer = /^defer(?: \((-?\d+)\))?(?: H=(\S+) \[([0-9a-fA-F.:]+)\](?::(\d+))?(\*)?)?(?: DT=\S+)? ?: (.*)$/.exec(after);
      const reason = defer ? defer[6]! : after.replace(/^(?:DT=\S+)?:? ?/, '');
      const host = fields.host ?? (defer?.[2] ? { name: defer[2], addr: defer[3]!, port: defer[4] ? Number(defer[4]) : null, continued: defer[5] === '*' } : null);
      return { type: m[1] === '==' ? 'deferred' : 'failed', raw, time, eximId, to, ...fields, host, errno: defer?.[1] ? Number(defer[1]) : null, reason };
    }
    if (rest === 'Completed') return { type: 'completed', raw, time, eximId };
  }
  return { type: 'other', raw, time };
}
