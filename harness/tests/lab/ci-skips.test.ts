import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { CI_ACCEPTED_SKIPS, inCi, judgeSkip } from '../../vitest/ci-accepted-skips.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * A green CI run is earned: in CI a skipped test fails the run unless its reason is one CI
 * accepts. Each case is a real child test run through the runner's `test` path, on fixture
 * files that are not part of the suite. The child's global setup removes dead runs' leftovers
 * like any run, so it takes its turn with the other child runs.
 */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/ci-skips');
const LOADER = pathToFileURL(path.join(PROJECT_ROOT, 'node_modules/tsx/dist/esm/index.mjs')).href;

function runFixture(files: string[], ci: boolean): Promise<{ code: number | null; out: string }> {
  return childRunsInTurn(() => {
    const { CI: _ci, ...env } = childRunEnv();
    const r = spawnSync(process.execPath, ['--import', LOADER, path.join(FIXTURES, 'run-fixture.ts'), ...files.map((f) => path.join(FIXTURES, f))], {
      encoding: 'utf8',
      env: ci ? { ...env, CI: 'true' } : env,
      timeout: 180_000,
    });
    return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
  });
}

describe('skips in CI', () => {
  it('CI=true: a skip whose reason CI does not accept, and a skip without a reason, fail the run; both are listed', async () => {
    const r = await runFixture(['skips.fixture.ts'], true);
    expect(r.code, r.out).toBe(1);
    expect(r.out).toContain('skipped: harness/tests/fixtures/ci-skips/skips.fixture.ts > skips with a reason: oracle-unavailable: sslscan is not installed (fixture) [NOT accepted in CI]');
    expect(r.out).toContain('skipped: harness/tests/fixtures/ci-skips/skips.fixture.ts > skips without a reason: no reason given [NOT accepted in CI]');
    expect(r.out).toContain('1 passed, 0 failed, 2 skipped (2 not accepted in CI)');
    expect(r.out).toMatch(/CI: 2 skipped test\(s\) with a reason CI does not accept/);
  }, 300_000);

  it('outside CI: the same run exits 0, and still lists every skip with its reason', async () => {
    const r = await runFixture(['skips.fixture.ts'], false);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('skips with a reason: oracle-unavailable: sslscan is not installed (fixture) [would fail in CI]');
    expect(r.out).toContain('skips without a reason: no reason given [would fail in CI]');
    expect(r.out).toContain('1 passed, 0 failed, 2 skipped');
  }, 300_000);

  it('CI=true without skips: exit 0', async () => {
    const r = await runFixture(['passes.fixture.ts'], true);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('1 passed, 0 failed, 0 skipped (0 not accepted in CI)');
  }, 300_000);
});

describe('the table of skips CI accepts', () => {
  it('accepts a skip only by the prefix of its reason; never a skip without a reason', () => {
    const table = { 'needs-ipv6:': 'the CI machines have no IPv6' };
    expect(judgeSkip({ file: 'f', name: 'n', reason: 'needs-ipv6: no address' }, table).acceptedBecause).toBe('the CI machines have no IPv6');
    expect(judgeSkip({ file: 'f', name: 'n', reason: 'inconclusive: needs-ipv6:' }, table).acceptedBecause).toBeNull();
    expect(judgeSkip({ file: 'f', name: 'n', reason: null }, table).acceptedBecause).toBeNull();
  });

  it('accepts neither missing oracles nor inconclusive checks (CI installs every tool)', () => {
    for (const reason of ['oracle-unavailable: sslscan', 'inconclusive: ETOOL: openssl is not installed', 'sslscan unavailable: x']) {
      expect(judgeSkip({ file: 'f', name: 'n', reason }).acceptedBecause, reason).toBeNull();
    }
    expect(Object.keys(CI_ACCEPTED_SKIPS).length).toBeLessThanOrEqual(3);
  });

  it('CI mode is CI=true (or 1)', () => {
    expect([inCi({ CI: 'true' }), inCi({ CI: '1' }), inCi({ CI: 'false' }), inCi({})]).toEqual([true, true, false, false]);
  });
});
