import { forTerminal } from '../core/escape.js';
import { loadCatalogue } from '../scenario/load.js';
import { scenarioPorts, type ServicePort } from './scenario-ports.js';

/** One row of `list`: a scenario, or a broken one with its error (never hiding the others). */
export interface ListRow {
  readonly id: string;
  readonly title: string | null;
  readonly seeds: readonly string[];
  readonly ports: readonly ServicePort[];
  readonly checks: number;
  readonly error: { readonly code: string; readonly message: string; readonly detail: string | null } | null;
}

export function listRows(scenariosDir: string): ListRow[] {
  return loadCatalogue(scenariosDir).map((e) =>
    e.scenario
      ? { id: e.id, title: e.scenario.title, seeds: e.scenario.seeds, ports: scenarioPorts(e.scenario), checks: e.scenario.checks.length, error: null }
      : { id: e.id, title: null, seeds: [], ports: [], checks: 0, error: { code: e.error.code, message: e.error.message, detail: e.error.detail ?? null } },
  );
}

/** `smtp-tls-lab list`: exit 0, or 2 when a scenario is broken (it is listed with its error). */
export function listCommand(o: { readonly scenariosDir: string; readonly json: boolean; readonly out: (line: string) => void }): number {
  const rows = listRows(o.scenariosDir);
  if (o.json) o.out(JSON.stringify(rows, null, 2));
  else {
    const width = Math.max(...rows.map((r) => r.id.length), 2);
    for (const r of rows) {
      if (r.error) {
        o.out(`${forTerminal(r.id).padEnd(width)}  BROKEN ${r.error.code}: ${forTerminal(r.error.message, 2000)}`);
        if (r.error.detail) o.out(`${' '.repeat(width)}    ${forTerminal(r.error.detail, 2000)}`);
        continue;
      }
      const seeds = r.seeds.length ? `seeds ${r.seeds.join(', ')}` : 'no seed';
      const ports = r.ports.map((p) => (p.service === String(p.port) ? `${p.port}` : `${p.service}/${p.port}`)).join(', ');
      o.out(`${forTerminal(r.id).padEnd(width)}  ${forTerminal(r.title ?? '')}`);
      o.out(`${' '.repeat(width)}  ${seeds}; ports ${ports || 'none'}; ${r.checks} check(s)`);
    }
    const broken = rows.filter((r) => r.error).length;
    o.out(`${rows.length} scenario(s)${broken ? `, ${broken} broken` : ''}`);
  }
  return rows.some((r) => r.error) ? 2 : 0;
}
