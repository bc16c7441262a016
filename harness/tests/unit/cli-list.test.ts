import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listCommand, listRows } from '../../cli/list-command.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';

/** `list` on the real catalogue and on a folder with broken scenarios. */
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-list-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function capture(o: { scenariosDir: string; json: boolean }): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = listCommand({ ...o, out: (l) => lines.push(l) });
  return { code, lines };
}

describe('list on the catalogue', () => {
  const rows = listRows(SCENARIOS_DIR);
  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));

  it('every scenario folder, sorted, none broken, each with title, seeds, ports and its check count', () => {
    const folders = fs.readdirSync(SCENARIOS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(rows.map((r) => r.id)).toEqual(folders);
    expect(rows.filter((r) => r.error)).toEqual([]);
    for (const r of rows) {
      const file = JSON.parse(fs.readFileSync(path.join(SCENARIOS_DIR, r.id, 'scenario.json'), 'utf8'));
      expect(r.title).toBe(file.title);
      expect(r.seeds).toEqual(file.seeds ?? []);
      expect(r.checks).toBe(file.checks.length);
      // Every check talks to a port, except delivery checks injected with sendmail (they test what Postfix sends).
      const portless = file.checks.filter((c: { send?: { via?: string } }) => c.send && (c.send.via ?? 'sendmail') === 'sendmail').length;
      if (portless < file.checks.length) expect(r.ports.length, r.id).toBeGreaterThan(0);
      else expect(r.ports, r.id).toEqual([]);
    }
  });

  it("ports are the master.cf services the checks use, with their port numbers and checks", () => {
    expect(byId['submission-587']!.ports.map((p) => [p.service, p.port])).toEqual([['smtp', 25], ['submission', 587], ['5870', 5870], ['5871', 5871]]);
    expect(byId['submission-587']!.ports.find((p) => p.port === 5870)!.checks).toEqual(['auth-hidden-before-starttls']);
    expect(byId['smtps-465']!.ports).toEqual([{ service: 'smtps', port: 465, checks: ['banner-inside-tls', 'nodemailer-secure-submits', 'plaintext-client-gets-no-banner'] }]);
  });

  it('lines and --json, exit 0', () => {
    const text = capture({ scenariosDir: SCENARIOS_DIR, json: false });
    expect(text.code).toBe(0);
    expect(text.lines.join('\n')).toMatch(/^smtps-465 +SMTPS on 465: implicit TLS \(smtpd_tls_wrappermode\)\n +seeds 001, 003; ports smtps\/465; 3 check\(s\)$/m);
    expect(text.lines.at(-1)).toBe(`${rows.length} scenario(s)`);
    const json = capture({ scenariosDir: SCENARIOS_DIR, json: true });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.lines.join('\n'))).toEqual(JSON.parse(JSON.stringify(rows)));
  });
});

describe('list with broken scenarios', () => {
  it('a broken scenario is listed with its error, never hiding the others, and makes the exit 2', () => {
    const dir = path.join(tmp, 'scenarios');
    fs.cpSync(path.join(PROJECT_ROOT, 'scenarios/smtps-465'), path.join(dir, 'smtps-465'), { recursive: true });
    fs.cpSync(path.join(PROJECT_ROOT, 'scenarios/sni'), path.join(dir, 'sni'), { recursive: true });
    fs.cpSync(path.join(PROJECT_ROOT, 'scenarios/sni'), path.join(dir, 'bad-json'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'bad-json/scenario.json'), '{ "id": "bad-json", ');
    fs.cpSync(path.join(PROJECT_ROOT, 'scenarios/smtps-465'), path.join(dir, 'bad-service'), { recursive: true });
    const s = JSON.parse(fs.readFileSync(path.join(dir, 'bad-service/scenario.json'), 'utf8'));
    s.id = 'bad-service';
    s.checks[0].service = 'submission';
    fs.writeFileSync(path.join(dir, 'bad-service/scenario.json'), JSON.stringify(s));

    const rows = listRows(dir);
    expect(rows.map((r) => [r.id, r.error?.code ?? null])).toEqual([['bad-json', 'ESCENARIO'], ['bad-service', 'ESCENARIO'], ['smtps-465', null], ['sni', null]]);
    expect(rows[0]!.error!.message).toMatch(/bad-json\/scenario\.json: not valid JSON/);
    expect(rows[1]!.error!.message).toMatch(/submission/);
    const text = capture({ scenariosDir: dir, json: false });
    expect(text.code).toBe(2);
    expect(text.lines.join('\n')).toMatch(/^bad-json +BROKEN ESCENARIO: .*not valid JSON/m);
    expect(text.lines.at(-1)).toBe('4 scenario(s), 2 broken');
    expect(capture({ scenariosDir: dir, json: true }).code).toBe(2);
  });
});
