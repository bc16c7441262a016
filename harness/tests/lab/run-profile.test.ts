/**
 * `run --profile NAME`: each scenario's smtpd services are also judged by the profile's rules
 * (one full probe per service), as `check` judges a user's config. On the scenario that holds
 * seed 000's settings every seed-000 rule holds; the same scenario with its protocol floor
 * removed fails exactly the floor rule. An unknown profile is a usage error naming the known ones.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import type { Report } from '../../report/types.js';

const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-run-profile-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(args: string[], name: string): { code: number | null; out: string; report: Report | null } {
  const dir = path.join(tmp, name);
  const r = spawnSync(process.execPath, [CLI, 'run', ...args, '--report-dir', dir], { env: childRunEnv(), encoding: 'utf8', timeout: 300_000 });
  const file = path.join(dir, 'latest', 'report.json');
  return { code: r.status, out: `${r.stdout}${r.stderr}`, report: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Report) : null };
}

describe('run --profile', () => {
  it('seed-000 on opportunistic-25 (seed 000\'s settings): every rule of the profile holds on port 25', () => {
    const r = run(['--scenario', 'opportunistic-25', '--profile', 'seed-000'], 'holds');
    expect(r.code, r.out).toBe(0);
    const rules = r.report!.scenarios[0]!.checks.filter((c) => c.id.startsWith('25-seed-000-'));
    expect(rules.length).toBeGreaterThanOrEqual(5);
    expect(rules.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`)).toEqual([]);
  }, 320_000);

  it('the same scenario without its protocol floor fails exactly the floor rule', () => {
    const copy = path.join(tmp, 'scenarios');
    fs.cpSync(path.join(SCENARIOS_DIR, 'opportunistic-25'), path.join(copy, 'opportunistic-25'), { recursive: true });
    const mainCf = path.join(copy, 'opportunistic-25', 'main.cf');
    fs.writeFileSync(mainCf, fs.readFileSync(mainCf, 'utf8').replace(/^smtpd_tls_(mandatory_)?protocols\s*=.*$/gm, ''));
    // Its break-it exercises quote the lines just removed: drop them, the copy is not a catalogue scenario.
    const file = path.join(copy, 'opportunistic-25', 'scenario.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete json.breakIt;
    fs.writeFileSync(file, JSON.stringify(json, null, 2));
    const r = run(['--scenarios-dir', copy, '--profile', 'seed-000'], 'floor-removed');
    expect(r.report, r.out).not.toBeNull();
    const failed = r.report!.scenarios[0]!.checks.filter((c) => c.id.startsWith('25-seed-000-') && c.status === 'fail').map((c) => c.id);
    expect(failed).toEqual(['25-seed-000-protocol-floor']);
  }, 320_000);

  it('an unknown profile is a usage error (exit 2) naming the known ones, before anything starts', () => {
    const r = run(['--profile', 'nosuch'], 'unknown');
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/unknown profile 'nosuch' \(known: .*seed-000/);
    expect(r.report).toBeNull();
  });
});
