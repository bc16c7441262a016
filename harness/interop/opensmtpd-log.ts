/**
 * OpenSMTPD's log as `smtpd -d` prints it (6.8 and 7.x), one line → one event. Data only.
 *   0bd7dc997392bc1e smtp connected address=10.0.0.10 host=<unknown>
 *   0bd7dc997392bc1e smtp tls ciphers=TLSv1.3:TLS_AES_256_GCM_SHA384:256
 *   0bd7dc997392bc1e smtp message msgid=c13dd937 size=470 nrcpt=1 proto=ESMTP
 *   0bd7dc997392bc1e smtp envelope evpid=c13dd937c68bd6cd from=<a@lab.test> to=<u@x>
 *   0bd7dc997392bc1e smtp disconnected reason=quit
 *   24f9ca4327c7f027 smtp disconnected reason="io-error: error:0A080006:SSL routines::EVP lib"
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
  if ((m = /^[0-9a-f]{16} mda delivery (.*)$/.exec(raw))) {
    const p = pairs(m[1]!);
    return { type: 'delivery', raw, evpid: p.evpid ?? '', to: addr(p.to), result: p.result ?? '' };
  }
  return { type: 'other', raw };
}
