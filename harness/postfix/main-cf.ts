/**
 * main.cf as Postfix reads it: "name = value" logical lines, where a line starting with
 * white space continues the previous one and a line whose first non-blank is '#' is a
 * comment. Lines that are not "name = value" are kept verbatim, so that Postfix itself,
 * not this parser, judges them and its own words reach the report.
 */

export interface MainCfEntry {
  readonly kind: 'param';
  readonly name: string;
  readonly value: string;
  /** 1-based line of the entry's first physical line in its source file. */
  readonly line: number;
  readonly source: string;
}

export interface MainCfVerbatim {
  readonly kind: 'verbatim';
  readonly text: string;
  readonly line: number;
  readonly source: string;
}

export type MainCfItem = MainCfEntry | MainCfVerbatim;

const PARAM = /^([A-Za-z0-9_./-]+)\s*=\s*(.*)$/s;

export function parseMainCf(text: string, source: string): MainCfItem[] {
  const items: MainCfItem[] = [];
  const lines = text.split(/\r?\n/);
  let current: { text: string; line: number } | null = null;
  const flush = () => {
    if (!current) return;
    const logical = current.text.trim();
    const m = PARAM.exec(logical);
    if (m) items.push({ kind: 'param', name: m[1]!, value: m[2]!.replace(/\s+/g, ' ').trim(), line: current.line, source });
    else items.push({ kind: 'verbatim', text: logical, line: current.line, source });
    current = null;
  };
  lines.forEach((raw, i) => {
    if (/^\s*#/.test(raw) || raw.trim() === '') return;
    if (/^\s/.test(raw) && current) {
      current.text += ` ${raw.trim()}`;
      return;
    }
    flush();
    current = { text: raw, line: i + 1 };
  });
  flush();
  return items;
}

/** Lay `over` on `base`: a parameter in `over` replaces the base one in place; new ones are appended. */
export function overlayMainCf(base: readonly MainCfItem[], over: readonly MainCfItem[]): MainCfItem[] {
  const out = [...base];
  for (const item of over) {
    if (item.kind === 'param') {
      const at = out.findIndex((o) => o.kind === 'param' && o.name === item.name);
      if (at >= 0) {
        out[at] = item;
        continue;
      }
    }
    out.push(item);
  }
  return out;
}

export function renderMainCf(items: readonly MainCfItem[], header: string): string {
  const body = items.map((i) => (i.kind === 'param' ? `${i.name} = ${i.value}` : i.text)).join('\n');
  return `${header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n${body}\n`;
}

export function paramValue(items: readonly MainCfItem[], name: string): string | undefined {
  let v: string | undefined;
  for (const i of items) if (i.kind === 'param' && i.name === name) v = i.value;
  return v;
}
