/**
 * OpenSMTPD's log as `smtpd -d` prints it (6.8 and 7.x), one line → one event. Data only.
 *   0bd7dc997392bc1e smtp connected address=10.0.0.10 host=<unknown>
 *   0bd7dc997392bc1e smtp tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256
 *   0bd7dc997392bc1e smtp message msgid=c13dd937 size=470 nrcpt=1 proto=ESMTP
 *   0bd7dc997392bc1e smtp envelope evpid=c13dd937c68bd6cd from=<a@lab.test> to=<u@x>
 *   0bd7dc997392bc1e smtp disconnected reason=quit
 *   24f9ca4327c7f027 smtp disconnected reason="io-error: error:0A080006:SSL routines::EVP lib"
 *   c27e2b683387ea4c mta connecting address=smtp+tls://10.0.0.10:5870 host=mx.lab.test
 *   c27e2b683387ea4c mta tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256
 *   c27e2b683387ea4c mta cert-check result="unverified" fingerprint="SHA256:07f4…"   (6.8: mta server-cert-check result="failure")
 *   c27e2b683387ea4c mta error reason=IO Error: certificate verification failed: self-signed certificate in certificate chain
 *   c27e2b683387ea4c mta delivery evpid=a77d76d8262ac5f0 from=<s@lab.test> to=<u@x> rcpt=<-> source="10.0.0.2" relay="10.0.0.10 (mx.lab.test)" delay=1s result="Ok" stat="250 2.0.0 Ok: queued as EAD973C6133"
 *   0bd7dc9b1db221dd mda delivery evpid=c13dd937c68bd6cd from=<a@lab.test> to=<u@x> rcpt=<u@x> user=labmail delay=0s result=Ok stat=Delivered
 */
export type OpensmtpdLogEvent =
  | { readonly type: 'connect'; readonly raw: string; readonly session: string; readonly address: string }
  | { readonly type: 'tls'; readonly raw: string; readonly session: string; readonly protocol: string; readonly cipher: string; readonly bits: number | null }
  | { readonly type: 'message'; readonly raw: string; readonly session: string; readonly msgid: string; readonly size: number | null }
  | { readonly type: 'envelope'; readonly raw: string; readonly session: string; readonly evpid: string; readonly from: string; readonly to: string }
  | { readonly type: 'disconnect'; readonly raw: string; readonly session: string; readonly reason: string }
  | { readonly type: 'delivery'; readonly raw: string; readonly evpid: string; readonly to: string; readonly result: string }
  | { readonly type: 'starting'; readonly raw: string; readonly version: string }
  // The sending side (mta): a session connecting to a relay, its TLS, its check of the server's
  // certificate (7.x "cert-check", 6.8 "server-cert-check"), its error, and each envelope's outcome.
  | { readonly type: 'mta-connecting'; readonly raw: string; readonly session: string; readonly scheme: string; readonly address: string; readonly port: number | null; readonly host: string | null }
  | { readonly type: 'mta-tls'; readonly raw: string; readonly session: string; readonly protocol: string; readonly cipher: string; readonly bits: number | null }
  | { readonly type: 'mta-cert-check'; readonly raw: string; readonly session: string; readonly result: string }
  | { readonly type: 'mta-error'; readonly raw: string; readonly session: string; readonly reason: string }
  | { readonly type: 'mta-delivery'; readonly raw: string; readonly session: string; readonly evpid: string; readonly from: string; readonly to: string; readonly relay: string | null; readonly result: string; readonly stat: string }
  | { readonly type: 'other'; readonly raw: string };

/** key=value and key="value with spaces" pairs. */
function pairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([a-z-]+)=(?:"((?:[^"\\]|\\.)*)"|(\S+))/g)) out[m[1]!] = m[2] ?? m[3]!;
  return out;
}
const addr = (s: string | undefined) => (s ?? '').replace(/^<|>$/g, '');

export function parseOpensmtpdLine(line: string): OpensmtpdLogEvent {
  const raw = line.replace(/\r$/, '');
  let m: RegExpExecArray | null;
  if ((m = /^info: OpenSMTPD (\S+) starting/.exec(raw))) return { type: 'starting', raw, version: m[1]! };
  if ((m = /^([0-9a-f]{16}) smtp (connected|tls|message|envelope|disconnected) (.*)$/.exec(raw))) {
    const session = m[1]!;
    const p = pairs(m[3]!);
    switch (m[2]) {
      case 'connected':
        return { type: 'connect', raw, session, address: p.address ?? '' };
      case 'tls': {
        // ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256
        const [protocol, cipher, bits] = (p.ciphers ?? '').split(':');
        return { type: 'tls', raw, session, protocol: protocol === 'TLSv1.0' ? 'TLSv1' : (protocol ?? ''), cipher: cipher ?? '', bits: bits ? Number(bits) : null };
      }
      case 'message':
        return { type: 'message', raw, session, msgid: p.msgid ?? '', size: p.size ? Number(p.size) : null };
      case 'envelope':
        return { type: 'envelope', raw, session, evpid: p.evpid ?? '', from: addr(p.from), to: addr(p.to) };
      default:
        return { type: 'disconnect', raw, session, reason: p.reason ?? '' };
    }
  }
  if ((m = /^([0-9a-f]{16}) mta (connecting|connected|tls|cert-check|server-cert-check|error|delivery)(?: (.*))?$/.exec(raw))) {
    const session = m[1]!;
    const rest = m[3] ?? '';
    const p = pairs(rest);
    switch (m[2]) {
      case 'connecting': {
        // address=smtp+tls://10.0.0.10:5870 host=mx.lab.test
        const a = /^([a-z+]+):\/\/\[?([0-9a-fA-F.:]+?)\]?(?::(\d+))?$/.exec(p.address ?? '');
        return { type: 'mta-connecting', raw, session, scheme: a?.[1] ?? '', address: a?.[2] ?? (p.address ?? ''), port: a?.[3] ? Number(a[3]) : null, host: p.host ?? null };
      }
      case 'tls': {
        const [protocol, cipher, bits] = (p.ciphers ?? '').split(':');
        return { type: 'mta-tls', raw, session, protocol: protocol === 'TLSv1.0' ? 'TLSv1' : (protocol ?? ''), cipher: cipher ?? '', bits: bits ? Number(bits) : null };
      }
      case 'cert-check':
      case 'server-cert-check':
        return { type: 'mta-cert-check', raw, session, result: p.result ?? '' };
      case 'error':
        return { type: 'mta-error', raw, session, reason: /^reason=(.*)$/.exec(rest)?.[1] ?? rest };
      case 'delivery':
        return { type: 'mta-delivery', raw, session, evpid: p.evpid ?? '', from: addr(p.from), to: addr(p.to), relay: p.relay ?? null, result: p.result ?? '', stat: p.stat ?? '' };
      default:
        return { type: 'other', raw };
    }
  }
  if ((m = /^[0-9a-f]{16} mda delivery (.*)$/.exec(raw))) {
    const p = pairs(m[1]!);
    return { type: 'delivery', raw, evpid: p.evpid ?? '', to: addr(p.to), result: p.result ?? '' };
  }
  return { type: 'other', raw };
}
