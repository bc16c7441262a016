import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_STACK, STACK_NAMES, parseStackList } from '../../core/stacks.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { loadRecipe, recipeForStack, imageTags } from '../../engine/images.js';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT, SCENARIOS_DIR } from '../../engine/paths.js';
import { validateReportJson } from '../../report/schema.js';
import type { Report } from '../../report/types.js';
import { catalogueRuns } from '../../runner/selection.js';
import { loadCatalogue, loadScenario } from '../../scenario/load.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * Stacks: the postfix image per Debian suite, `run --stack`, and the versions the report
 * records. One real scenario (opportunistic-25) runs on each of the four stacks; its versions
 * must be the ones the containers report, and each stack's own. A fresh machine builds three
 * more images for this file (about a minute each), so it runs one scenario, once per stack.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-stacks-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(args: string[], runId: string, env: Record<string, string> = {}): { code: number | null; out: string; stdout: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd: PROJECT_ROOT, env: childRunEnv({ SMTP_TLS_LAB_RUN_ID: runId, ...env }), timeout: 900_000 });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout };
}
const readReport = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'latest', 'report.json'), 'utf8')) as Report;

describe('stack names and selection', () => {
  it('--stack takes names, lists and all; an unknown name is refused naming the known ones', () => {
    expect(parseStackList([])).toEqual([]);
    expect(parseStackList(['sid,bullseye', 'sid'])).toEqual(['bullseye', 'sid']);
    expect(parseStackList(['all'])).toEqual([...STACK_NAMES]);
    expect(() => parseStackList(['bookworm,jessie'])).toThrow(/unknown stack 'jessie'; the known stacks are bullseye, bookworm, trixie, sid/);
  });

  it('run --stack with an unknown name is a usage error before anything starts, naming the known stacks', () => {
    const dir = path.join(tmp, 'unknown');
    const r = cli(['run', '--scenario', 'opportunistic-25', '--stack', 'potato', '--report-dir', dir], `stacks-unknown-${process.pid}`);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/EUSAGE.*unknown stack 'potato'; the known stacks are bullseye, bookworm, trixie, sid/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a scenario file naming an unknown stack is refused with the known ones; a known list is kept in order', () => {
    const copy = (stacks: unknown) => {
      const dir = path.join(tmp, 'scenarios', 'opportunistic-25');
      fs.rmSync(dir, { recursive: true, force: true });
      fs.cpSync(path.join(SCENARIOS_DIR, 'opportunistic-25'), dir, { recursive: true });
      const json = JSON.parse(fs.readFileSync(path.join(dir, 'scenario.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'scenario.json'), JSON.stringify({ ...json, stacks }));
      return dir;
    };
    expect(() => loadScenario(copy(['trixie', 'potato']))).toThrow(/stacks\[1\].*a known stack \(bullseye, bookworm, trixie, sid\); it names 'potato'/);
    expect(() => loadScenario(copy([]))).toThrow(/stacks.*a non-empty list/);
    expect(() => loadScenario(copy(['sid', 'sid']))).toThrow(/stacks\[1\].*a stack named once/);
    expect(loadScenario(copy(['sid', 'trixie'])).stacks).toEqual(['sid', 'trixie']);
    // The default run runs it on its first stack; --stack on those of the run's stacks it names.
    const entries = loadCatalogue(path.join(tmp, 'scenarios'));
    expect(catalogueRuns(entries).map((r) => r.stack)).toEqual(['sid']);
    expect(catalogueRuns(entries, ['bullseye', 'trixie', 'sid']).map((r) => r.stack)).toEqual(['trixie', 'sid']);
    expect(catalogueRuns(entries, ['bookworm'])).toEqual([]);
  });

  it('every stack has its own image tag; the default stack keeps the recipe base as written', () => {
    const recipe = loadRecipe('postfix');
    const tags = STACK_NAMES.map((s) => imageTags('postfix', recipeForStack(recipe, s)).tag);
    expect(new Set(tags).size).toBe(STACK_NAMES.length);
    expect(recipeForStack(recipe, DEFAULT_STACK).base).toEqual(recipe.base);
    expect(STACK_NAMES.map((s) => recipeForStack(recipe, s).base.suite)).toEqual([...STACK_NAMES]);
  });
});

describe('one scenario on every stack', () => {
  it('opportunistic-25 --stack all: four entries, each with the versions its own container reports', async () => {
    const runId = `stacks-all-${process.pid}`;
    const dir = path.join(tmp, 'all');
    const r = await childRunsInTurn(() => cli(['run', '--scenario', 'opportunistic-25', '--stack', 'all', '--report-dir', dir], runId));
    const report = readReport(dir);
    expect(validateReportJson(report)).toEqual({ valid: true });
    expect(r.code, r.out).toBe(report.summary.exitCode);
    expect(report.scenarios.map((s) => [s.id, s.stack?.name])).toEqual(STACK_NAMES.map((s) => ['opportunistic-25', s]));
    for (const s of report.scenarios) {
      // Every entry really ran: its Postfix started and every check gave a verdict.
      expect(s.error, `${s.stack?.name}: ${JSON.stringify(s.error)}`).toBeNull();
      expect(s.startupMs).not.toBeNull();
      expect(s.checks.every((c) => c.status === 'pass' || c.status === 'fail')).toBe(true);
    }
    const versions = Object.fromEntries(report.scenarios.map((s) => [s.stack!.name, [s.stack!.postfix, s.stack!.openssl]]));
    expect(versions.bullseye![0]).toMatch(/^3\.5\.\d+$/);
    expect(versions.bullseye![1]).toMatch(/^OpenSSL 1\.1\.1[a-z]* /);
    expect(versions.bookworm![0]).toMatch(/^3\.7\.\d+$/);
    expect(versions.bookworm![1]).toMatch(/^OpenSSL 3\.0\.\d+ /);
    expect(versions.trixie![0]).toMatch(/^3\.10\.\d+$/);
    expect(versions.trixie![1]).toMatch(/^OpenSSL 3\.5\.\d+ /);
    expect(versions.sid![0]).toMatch(/^3\.11\.\d+$/);
    expect(versions.sid![1]).toMatch(/^OpenSSL 3\.6\.\d+ /);
    // The terminal names each entry's stack, since the run has several.
    for (const s of STACK_NAMES) expect(r.stdout).toMatch(new RegExp(`^(PASS|FAIL) opportunistic-25 \\[${s}\\]: \\d+ pass`, 'm'));
    expect(report.run.postfixImage).toMatch(/^bullseye=smtp-tls-lab\/postfix:\w+, bookworm=.*, trixie=.*, sid=smtp-tls-lab\/postfix:\w+$/);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }, 900_000);

  it('a stack whose image cannot be built is EIMAGE with debootstrap\'s last lines; the other stack still runs', async () => {
    // A copy of the recipes where sid's base is one no cache has, built from a mirror that refuses (loopback, port 9).
    const containers = path.join(tmp, 'containers');
    fs.cpSync(path.join(PROJECT_ROOT, 'containers'), containers, { recursive: true });
    const file = path.join(containers, 'postfix', 'recipe.json');
    const recipe = JSON.parse(fs.readFileSync(file, 'utf8'));
    recipe.stacks.sid.pull = 'debian:sid-slim-never-built';
    fs.writeFileSync(file, JSON.stringify(recipe, null, 2));
    const runId = `stacks-broken-${process.pid}`;
    const dir = path.join(tmp, 'broken');
    const r = await childRunsInTurn(() =>
      cli(['run', '--scenario', 'opportunistic-25', '--stack', 'bookworm,sid', '--report-dir', dir], runId, {
        SMTP_TLS_LAB_CONTAINERS_DIR: containers,
        LAB_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian',
        LAB_NO_PULL: '1',
      }),
    );
    const report = readReport(dir);
    expect(r.code, r.out).toBe(2);
    const [bookworm, sid] = report.scenarios;
    expect(bookworm!.stack?.name).toBe('bookworm');
    expect(bookworm!.error).toBeNull();
    expect(bookworm!.stack?.postfix).toMatch(/^3\.7\./);
    expect(sid!.stack).toEqual({ name: 'sid', postfix: null, openssl: null });
    expect(sid!.status).toBe('error');
    expect(sid!.error?.code).toBe('EIMAGE');
    expect(sid!.error?.message).toMatch(/debootstrap failed/);
    // debootstrap's own words about the mirror it could not reach.
    expect(sid!.error?.detail).toMatch(/127\.0\.0\.1:9/);
    expect(sid!.checks.every((c) => c.status === 'error' && c.error?.code === 'EIMAGE')).toBe(true);
    expect(report.infrastructureErrors.join('\n')).toMatch(/stack sid: image not built/);
    expect(r.out).toMatch(/ERROR opportunistic-25 \[sid\]:|opportunistic-25 \[sid\]: 0 pass/);
  }, 900_000);
});
