import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { childRunEnv } from '../../engine/labels.js';
import { childRunsInTurn } from './child-runs.js';
import { loadScenario } from '../../scenario/load.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { LabError } from '../../core/errors.js';
import { countLabObjects } from '../../engine/cleanup.js';
import type { Report } from '../../report/types.js';

const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/lab-bad');
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  // The child is a run of its own: it must not inherit this run's id or owner.
  return childRunsInTurn(() => {
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: childRunEnv(env), timeout: 300_000 });
    return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
  });
}

describe('bad input reaches the report as a clear error, and nothing else is lost', () => {
  it('a main.cf Postfix refuses fails fast with Postfix\'s own words and leaves nothing behind', async () => {
    const mine = { scenario: 'broken-main-cf' };
    const before = await countLabObjects(mine);
    const started = Date.now();
    let err: unknown;
    try {
      const s = await ScenarioSession.start(loadScenario(path.join(FIXTURES, 'broken-main-cf')), inject('postfixImage'));
      await s.stop();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('EPOSTFIX_CHECK');
    expect((err as LabError).message).toContain(`missing '=' after attribute name: "this line is not a parameter"`);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(await countLabObjects(mine)).toEqual(before);
    expect(before).toEqual({ containers: 0, networks: 0 });
  });

  it('`run` over a catalogue with one broken scenario: the broken one is an error, the other still passes, exit 2', async () => {
    const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-report-'));
    try {
      const r = await cli(['run', '--scenarios-dir', FIXTURES, '--report-dir', reportDir]);
      expect(r.code, r.out).toBe(2);
      const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as Report;
      const byId = Object.fromEntries(report.scenarios.map((s) => [s.id, s]));
      expect(byId['broken-main-cf']?.status).toBe('error');
      expect(byId['broken-main-cf']?.error?.message).toContain("missing '=' after attribute name");
      expect(byId['broken-main-cf']?.checks[0]?.status).toBe('error');
      expect(byId['minimal-good']?.status).toBe('pass');
      expect(byId['minimal-good']?.checks.map((c) => c.status)).toEqual(['pass', 'pass']);
      expect(r.out).toMatch(/ERROR broken-main-cf/);
    } finally {
      fs.rmSync(reportDir, { recursive: true, force: true });
    }
  }, 900_000);

  it('unknown flags and unknown scenarios are usage errors (exit 2) that say what is wrong', async () => {
    const a = await cli(['run', '--concurency', '2']);
    expect(a.code).toBe(2);
    expect(a.out).toContain("unknown argument '--concurency'");
    const b = await cli(['run', '--scenario', 'no-such-scenario']);
    expect(b.code).toBe(2);
    expect(b.out).toContain('no such scenario: no-such-scenario');
  }, 900_000);

  it('no Docker engine and no way to install one: exit 2 with the remedy', async () => {
    const r = await cli(['run'], { DOCKER_HOST: 'unix:///nonexistent/docker.sock', LAB_ENGINE_NO_INSTALL: '1' });
    expect(r.code).toBe(2);
    expect(r.out).toContain('EENGINE');
    expect(r.out).toMatch(/remedy: install/);
  }, 900_000);
});
