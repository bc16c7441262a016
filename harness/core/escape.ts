/**
 * Server-supplied text (banners, certificate names, log lines) may hold control characters
 * and ANSI escape sequences. It is stored exactly in report.json (JSON escapes it) but never
 * reaches a terminal raw: everything printed goes through `forTerminal`.
 */
export function forTerminal(text: string, max = 500): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0)) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) out += `\\u${c.toString(16)}`;
    else out += ch;
    if (out.length >= max) return `${out.slice(0, max)}…`;
  }
  return out;
}
