/**
 * Server-supplied text (banners, certificate names, log lines) may hold control characters,
 * ANSI escape sequences, bidirectional overrides and markup. It is stored exactly in
 * report.json (JSON escapes it) but never reaches a terminal or an HTML page raw: everything
 * printed goes through `forTerminal`, everything put into HTML through `forHtml`.
 */

/** Characters that reorder or hide text when displayed (Trojan Source): shown as \uXXXX everywhere. */
const isBidiControl = (c: number) => c === 0x2028 || c === 0x2029 || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
const isControl = (c: number) => c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0);
const isLoneSurrogate = (c: number) => c >= 0xd800 && c <= 0xdfff;
const hex2 = (c: number) => `\\x${c.toString(16).padStart(2, '0')}`;

/** Text for a terminal line: control characters and bidi controls as visible escapes, at most `max` characters. */
export function forTerminal(text: string, max = 500): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (isControl(c)) out += hex2(c);
    else if (isBidiControl(c)) out += `\\u${c.toString(16)}`;
    else out += ch;
    if (out.length >= max) return `${out.slice(0, max)}…`;
  }
  return out;
}

const HTML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Text for HTML, in element content and in quoted attribute values alike: markup characters
 * become entities; control characters (but tab, newline and carriage return, which HTML reads
 * as white space), bidirectional controls and lone surrogates become visible \x.. / \u....
 * escapes, so what the server sent can be read and cannot rearrange the page. Never truncates.
 */
export function forHtml(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const entity = HTML_ENTITIES[ch];
    if (entity) out += entity;
    else if (c === 0x09 || c === 0x0a || c === 0x0d) out += ch;
    else if (isControl(c)) out += hex2(c);
    else if (isBidiControl(c) || isLoneSurrogate(c)) out += `\\u${c.toString(16)}`;
    else out += ch;
  }
  return out;
}
