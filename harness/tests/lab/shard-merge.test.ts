import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countLabObjects } from '../../engine/cleanup.js';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { validateReportJson } from '../../report/schema.js';
import type { Report } from '../../report/types.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * `run --shard i/n` as two CI jobs would run it, then `merge`: two small scenarios (smtps-465
 * and sni, sorted: shard 1 gets smtps-465, shard 2 sni), each shard a real run against real
 * Postfix with a report of its own, then one merged report whose counts are the shards' sums.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-shard-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], runId?: string): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, env: childRunEnv(runId ? { SMTP_TLS_LAB_RUN_ID: runId } : {}), timeout: 600_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Report;

describe('two shards and a merge', () => {
  it('each shard runs its own scenario; merge joins them into one valid report with summed counts', async () => {
    const selection = ['--scenario', 'sni,smtps-465'];
    const shards = await childRunsInTurn(() =>
      [1, 2].map((i) => {
        const runId = `shard-${i}-of-2-${process.pid}`;
        const dir = path.join(tmp, `shard-${i}`);
        const r = cli(['run', ...selection, '--shard', `${i}/2`, '--report-dir', dir], runId);
        return { ...r, runId, report: readJson(path.join(dir, 'latest', 'report.json')) };
      }),
    );
    expect(shards[0]!.out).toMatch(/run: shard 1\/2: smtps-465 \(of 2 selected, sorted by id and dealt round-robin\)/);
    expect(shards[1]!.out).toMatch(/run: shard 2\/2: sni \(of 2 selected/);
    expect(shards.map((s) => s.report.scenarios.map((x) => x.id))).toEqual([['smtps-465'], ['sni']]);
    for (const s of shards) {
      expect(s.code, s.out).toBe(s.report.summary.exitCode);
      expect(await countLabObjects({ run: s.runId })).toEqual({ containers: 0, networks: 0 });
    }

    const out = path.join(tmp, 'merged');
    const m = cli(['merge', ...shards.map((s) => path.join(tmp, `shard-${shards.indexOf(s) + 1}`, 'latest', 'report.json')), '--out', out]);
    const merged = readJson(path.join(out, 'latest', 'report.json'));
    expect(validateReportJson(merged)).toEqual({ valid: true });
    expect(merged.scenarios.map((s) => s.id)).toEqual(['sni', 'smtps-465'].sort());
    const sum = (k: 'pass' | 'fail' | 'inconclusive' | 'error') => shards.reduce((n, s) => n + s.report.summary.checks[k], 0);
    expect(merged.summary.checks).toEqual({ pass: sum('pass'), fail: sum('fail'), inconclusive: sum('inconclusive'), error: sum('error') });
    expect(merged.summary.exitCode).toBe(Math.max(...shards.map((s) => s.report.summary.exitCode)));
    expect(m.code, m.out).toBe(merged.summary.exitCode);
    // The checks are the shards' own records, unchanged.
    expect(merged.scenarios.find((s) => s.id === 'sni')!.checks).toEqual(shards[1]!.report.scenarios[0]!.checks);
    expect(merged.run.startedAt).toBe(shards[0]!.report.run.startedAt);
    expect(merged.run.finishedAt).toBe(shards[1]!.report.run.finishedAt);

    // The same shard twice is refused, and nothing is written.
    const twice = cli(['merge', path.join(tmp, 'shard-1/latest/report.json'), path.join(tmp, 'shard-1/latest/report.json'), '--out', path.join(tmp, 'twice')]);
    expect(twice.code).toBe(2);
    expect(twice.out).toMatch(/EUSAGE: merge: .* both hold scenario 'smtps-465'/);
    expect(fs.existsSync(path.join(tmp, 'twice'))).toBe(false);
    console.log(`shards: ${shards.map((s) => `${s.report.scenarios[0]!.id} ${s.report.summary.checks.pass} pass, exit ${s.code}`).join('; ')}; merged: ${merged.summary.checks.pass} pass, ${merged.summary.checks.fail} fail, exit ${m.code}`);
  }, 900_000);
});
