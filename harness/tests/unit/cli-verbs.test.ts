import { childRunEnv } from '../../engine/labels.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * The verbs as a user types them: the built CLI in a process of its own (the bootstrap builds
 * it first when a source changed), its exit code, stdout and stderr. No Docker: list, explain,
 * diff and merge read files only.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/diff');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-verbs-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, timeout: 170_000, env: childRunEnv() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.replace(/^smtp-tls-lab: building the CLI.*\n/m, '') };
}

describe('help', () => {
  it('help lists every command of the table, with its operands and flags; each command answers --help', () => {
    const all = cli('help');
    expect(all.code).toBe(0);
    for (const c of COMMANDS) {
      expect(all.stdout).toMatch(new RegExp(`^ {2}${c.name}${c.operands ? ` ${c.operands.usage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` : ''} `.replace(/ $/, '(\\s|$)'), 'm'));
      for (const f of c.flags) expect(all.stdout).toContain(`--${f.name}`);
    }
    for (const name of ['list', 'explain', 'diff', 'merge', 'run']) {
      const one = cli(name, '--help');
      expect(one.code, `${name} --help: ${one.stderr}`).toBe(0);
      for (const f of COMMANDS.find((c) => c.name === name)!.flags) expect(one.stdout).toContain(`--${f.name}`);
      expect(one.stdout).not.toMatch(/^ {2}test /m);
    }
    expect(cli('run', '--help').stdout).toMatch(/--shard i\/n +run only shard i of n/);
  }, 180_000);

  it('usage errors exit 2, name the flag or operand and the remedy', () => {
    const cases: [string[], RegExp][] = [
      [['diff'], /EUSAGE: diff: takes 2 operand\(s\) \(BASE\.json HEAD\.json\), got 0 \(usage: smtp-tls-lab diff BASE\.json HEAD\.json \[flags\]/],
      [['diff', 'a.json', 'b.json', 'c.json'], /EUSAGE: diff: takes 2 operand\(s\) .*got 3: a\.json b\.json c\.json/],
      [['diff', 'a', 'b', '--format', 'html'], /EUSAGE: diff: --format must be one of text, md \(e\.g\. --format text\), not 'html'/],
      [['explain'], /EUSAGE: explain: takes 1 operand\(s\) \(ID\), got 0/],
      [['merge'], /EUSAGE: merge: takes at least 1 operand\(s\) \(REPORT\.json…\), got 0/],
      [['list', 'extra'], /EUSAGE: list: unknown argument 'extra' \(see: smtp-tls-lab help list\)/],
      [['list', '--scenarios-dir'], /EUSAGE: list: --scenarios-dir needs a value \(DIR\)/],
      [['run', '--shard', '2'], /EUSAGE: run: --shard must be i\/n with 1 ≤ i ≤ n .*e\.g\. --shard 1\/2/],
      [['run', '--shard', '3/3', '--scenario', 'sni,smtps-465'], /EUSAGE: run: --shard 3\/3 selects no scenario: only 2 scenario\(s\) are selected \(smtps-465, sni\)\n {2}remedy: use at most 2 shard\(s\)/],
    ];
    for (const [args, want] of cases) {
      const r = cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(want);
    }
  }, 180_000);
});

describe('diff, list, explain, merge as processes', () => {
  const base = path.join(FIXTURES, 'base.json');
  const head = path.join(FIXTURES, 'head.json');

  it('diff: 1 with regressions, 0 without, 2 for a file that is not a report (naming it)', () => {
    const worse = cli('diff', base, head);
    expect(worse.code).toBe(1);
    expect(worse.stdout).toMatch(/^ {4}REGRESSION {3}auth-hidden-before-starttls \[raw\] {2}auth-before-tls: not offered → offered/m);
    const better = cli('diff', head, base, '--format', 'md');
    expect(better.code).toBe(0);
    expect(better.stdout).toMatch(/^### smtp-tls-lab diff/);
    expect(better.stdout).toContain('| 🟢 improvement | opportunistic-25 | 25 | tls11-only-client-refused |');
    expect(cli('diff', base, base).code).toBe(0);
    const bad = path.join(tmp, 'bad.json');
    fs.writeFileSync(bad, 'not json');
    const refused = cli('diff', base, bad);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/EUSAGE: .*bad\.json is not a smtp-tls-lab report: it is not JSON/);
  }, 180_000);

  it('list --json is a JSON array; explain tells a story from a given report', () => {
    const list = cli('list', '--json');
    expect(list.code, list.stderr).toBe(0);
    const rows = JSON.parse(list.stdout);
    expect(rows.find((r: { id: string }) => r.id === 'smtps-465')).toMatchObject({ ports: [{ service: 'smtps', port: 465 }], checks: 3, error: null });
    const ex = cli('explain', 'submission-587', '--report', head);
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout).toMatch(/^ {2}FAIL auth-hidden-before-starttls: /m);
    expect(ex.stdout).toMatch(/AUTH before TLS: AUTH PLAIN LOGIN/);
  }, 180_000);

  it('merge writes one report with the exit code of the whole run; refuses overlapping scenarios', () => {
    const parts = (['opportunistic-25', 'submission-587'] as const).map((id, i) => {
      const r = JSON.parse(fs.readFileSync(head, 'utf8'));
      r.scenarios = r.scenarios.filter((s: { id: string }) => s.id === id);
      r.run.id = `part-${i}`;
      const file = path.join(tmp, `part-${i}.json`);
      fs.writeFileSync(file, JSON.stringify(r));
      return file;
    });
    const out = path.join(tmp, 'merged');
    const m = cli('merge', ...parts, '--out', out);
    expect(m.code, m.stderr).toBe(1);
    expect(m.stdout).toMatch(/^2 scenario\(s\), 17 check\(s\): 14 pass, 3 fail, 0 inconclusive, 0 error$/m);
    const merged = JSON.parse(fs.readFileSync(path.join(out, 'latest', 'report.json'), 'utf8'));
    expect(merged.scenarios.map((s: { id: string }) => s.id)).toEqual(['opportunistic-25', 'submission-587']);
    expect(merged.run.id).toBe('merged-part-0_part-1');
    const twice = cli('merge', parts[0]!, parts[0]!, '--out', path.join(tmp, 'twice'));
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/EUSAGE: merge: .*part-0\.json and .*part-0\.json both hold scenario 'opportunistic-25'/);
    expect(fs.existsSync(path.join(tmp, 'twice'))).toBe(false);
  }, 180_000);
});
