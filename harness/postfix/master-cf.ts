/**
 * master.cf entries: a line starting in column 1 begins an entry, indented lines (the
 * "-o name=value" overrides) continue it. An entry is keyed by service name and type, which is
 * how Postfix identifies it. Entries that do not have eight fields are kept as they are, so that
 * `postfix check` reports them in its own words.
 */

export interface MasterCfEntry {
  readonly service: string;
  readonly type: string;
  readonly fields: readonly string[];
  /** The entry exactly as written (first line plus continuation lines). */
  readonly text: string;
  readonly line: number;
  readonly source: string;
}

export function parseMasterCf(text: string, source: string): MasterCfEntry[] {
  const entries: MasterCfEntry[] = [];
  let cur: { lines: string[]; line: number } | null = null;
  const flush = () => {
    if (!cur) return;
    const first = cur.lines[0]!;
    const fields = first.trim().split(/\s+/);
    entries.push({ service: fields[0] ?? '', type: fields[1] ?? '', fields, text: cur.lines.join('\n'), line: cur.line, source });
    cur = null;
  };
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*#/.test(raw) || raw.trim() === '') return;
    if (/^\s/.test(raw) && cur) {
      cur.lines.push(raw);
      return;
    }
    flush();
    cur = { lines: [raw], line: i + 1 };
  });
  flush();
  return entries;
}

export function overlayMasterCf(base: readonly MasterCfEntry[], over: readonly MasterCfEntry[]): MasterCfEntry[] {
  const out = [...base];
  for (const e of over) {
    const at = out.findIndex((o) => o.service === e.service && o.type === e.type);
    if (at >= 0) out[at] = e;
    else out.push(e);
  }
  return out;
}

export function renderMasterCf(entries: readonly MasterCfEntry[], header: string): string {
  return `${header
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n${entries.map((e) => e.text).join('\n')}\n`;
}

/** Well-known ports of the inet services a scenario may define. */
export const SERVICE_PORTS: Readonly<Record<string, number>> = { smtp: 25, submission: 587, smtps: 465, submissions: 465 };

/** The TCP ports Postfix listens on, from the inet entries (service name or [host:]port). */
export function listeningPorts(entries: readonly MasterCfEntry[]): { service: string; port: number }[] {
  const out: { service: string; port: number }[] = [];
  for (const e of entries) {
    if (e.type !== 'inet') continue;
    const portPart = e.service.includes(':') ? e.service.slice(e.service.lastIndexOf(':') + 1) : e.service;
    const port = /^\d+$/.test(portPart) ? Number(portPart) : SERVICE_PORTS[portPart];
    if (port !== undefined) out.push({ service: e.service, port });
  }
  return out;
}

const WRAPPER_OVERRIDE = /(?:^|\s)-o\s+\{?\s*smtpd_tls_wrappermode\s*=\s*(\S+?)\s*\}?(?=\s|$)/m;

/**
 * Whether an inet entry runs in wrapper mode (TLS from the first byte, as on 465): its own
 * `-o smtpd_tls_wrappermode=…`, else main.cf's `smtpd_tls_wrappermode`, else no. Only the
 * setting decides: a service on port 465 without it speaks STARTTLS.
 */
export function isWrapperMode(entry: MasterCfEntry, mainCf: readonly { readonly kind: string; readonly name?: string; readonly value?: string }[] = []): boolean {
  const global = mainCf.filter((i) => i.kind === 'param' && i.name === 'smtpd_tls_wrappermode').map((i) => i.value ?? '').pop();
  const value = WRAPPER_OVERRIDE.exec(entry.text)?.[1] ?? global ?? 'no';
  return /^(yes|true|1)$/i.test(value.trim());
}

/**
 * How a client reaches TLS on an inet service (a master.cf service name or a port):
 * 'implicit' for a wrapper-mode service, else 'starttls'.
 */
export function serviceTlsMode(entries: readonly MasterCfEntry[], service: string, mainCf: Parameters<typeof isWrapperMode>[1] = []): 'implicit' | 'starttls' {
  const hit = listeningPorts(entries).find((p) => p.service === service || String(p.port) === service);
  const entry = hit ? entries.find((e) => e.type === 'inet' && e.service === hit.service) : undefined;
  return entry && isWrapperMode(entry, mainCf) ? 'implicit' : 'starttls';
}
