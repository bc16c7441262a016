import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { LabNetwork } from '../../engine/lab-network.js';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { effectiveConfig } from '../../postfix/effective-config.js';
import { PostfixContainer } from '../../postfix/postfix-container.js';
import type { Report } from '../../report/types.js';
import { loadScenario } from '../../scenario/load.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * Outcomes and cleanup of whole runs, each broken on purpose. A child `run` gets a run id of
 * its own, so the objects counted afterwards are exactly that run's: a normal pass, a failing
 * check, a scenario that throws while starting, a scenario that outlives its time budget, and
 * an image that cannot be built. Infrastructure failures must end as `error`, never as a pass
 * or a fail, and no container or network of the run may remain.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/lab-outcomes');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-outcomes-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function run(runId: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; report: Report; ms: number }> {
  return childRunsInTurn(() => runNow(runId, args, env));
}

function runNow(runId: string, args: string[], env: Record<string, string>): { code: number | null; out: string; report: Report; ms: number } {
  const reportDir = path.join(tmp, runId);
  const started = Date.now();
  const r = spawnSync(process.execPath, [CLI, 'run', ...args, '--report-dir', reportDir], { encoding: 'utf8', env: childRunEnv({ ...env, SMTP_TLS_LAB_RUN_ID: runId }), timeout: 300_000 });
  const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as Report;
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, report, ms: Date.now() - started };
}

/** What once narrowed the catalogue behind the user's back. */
const STRAY_SELECTION = { SMTP_TLS_LAB_SCENARIOS: 'passes', SMTP_TLS_LAB_SCENARIOS_DIR: path.join(tmp, 'nowhere'), SMTP_TLS_LAB_CONCURRENCY: '1' };

describe('every kind of run ends with the right outcome and leaves nothing behind', () => {
  it('pass, fail, a scenario that throws, one past its budget, start-up warnings: one run, every outcome, no leftovers', async () => {
    const runId = `outcomes-${process.pid}`;
    // Selection variables left in the environment (as a user's shell or CI could hold them) change nothing:
    // the catalogue takes its selection from the runner only.
    const r = await run(runId, ['--scenarios-dir', FIXTURES, '--concurrency', '4'], STRAY_SELECTION);
    expect(r.report.scenarios.map((s) => s.id).sort()).toEqual(['fails', 'passes', 'stalls', 'throws', 'tls-disabled', 'warns']);
    const byId = Object.fromEntries(r.report.scenarios.map((s) => [s.id, s]));
    expect(byId.passes?.checks.map((c) => c.status)).toEqual(['pass']);
    expect(byId.fails?.checks.map((c) => c.status)).toEqual(['fail']);
    expect(byId.throws?.status).toBe('error');
    expect(byId.throws?.error?.code).toBe('EPOSTFIX_CHECK');
    // The stalled server is silent for 120 s; the scenario's 20 s budget ends the waiting check
    // with a named error, and the check after it is not started.
    expect(byId.stalls?.checks.map((c) => [c.status, c.error?.code])).toEqual([['error', 'EDEADLINE'], ['error', 'EDEADLINE']]);
    expect(byId.stalls?.checks[0]?.message).toMatch(/budget \(timeoutSeconds 20\) during check waits-for-banner/);
    expect(byId.stalls?.checks[1]?.message).toMatch(/not run/);
    // Postfix's start-up warnings: one the scenario did not declare is a finding, in the report
    // and on the terminal under its scenario; one that says TLS is disabled makes every check an error.
    expect(byId.warns?.checks.map((c) => c.status)).toEqual(['pass']);
    expect(byId.warns?.findings.filter((f) => !f.expected).map((f) => f.text)).toEqual([expect.stringMatching(/unused parameter: smtpd_tls_mandatory_protocol=/)]);
    expect(r.out).toMatch(/^PASS warns: .*\n {4}postfix, not expected by the scenario: warning: .*unused parameter: smtpd_tls_mandatory_protocol=/m);
    expect(byId['tls-disabled']?.status).toBe('error');
    expect(byId['tls-disabled']?.error?.code).toBe('EPOSTFIX_CHECK');
    expect(byId['tls-disabled']?.checks.map((c) => [c.status, c.error?.code])).toEqual([['error', 'EPOSTFIX_CHECK'], ['error', 'EPOSTFIX_CHECK']]);
    expect(byId['tls-disabled']?.checks[1]?.message).toMatch(/disabling TLS support/);
    expect(r.out).toMatch(/^ERROR tls-disabled: .*\n(?: {4}.*\n)* {4}postfix, not expected by the scenario: warning: Invalid TLS protocol list/m);
    expect(r.ms).toBeLessThan(120_000);
    // A failed check beside checks the lab could not judge: not every verdict was given, so 2.
    expect(r.code, r.out).toBe(2);
    expect(r.report.summary.exitCode).toBe(2);
    const left = await countLabObjects({ run: runId });
    expect(left).toEqual({ containers: 0, networks: 0 });
    console.log(`outcomes run: ${r.report.summary.checks.pass} pass, ${r.report.summary.checks.fail} fail, ${r.report.summary.checks.error} error (EPOSTFIX_CHECK x3, EDEADLINE x2); stalled scenario cut at its 20 s budget; whole run ${(r.ms / 1000).toFixed(1)} s; leftovers: ${left.containers} containers, ${left.networks} networks`);
  }, 900_000);

  it('a failing check and nothing else: exit 1 (a verdict on the server), the report written once', async () => {
    const runId = `fail-only-${process.pid}`;
    const reportDir = path.join(tmp, runId);
    // A report already there must move to previous/ exactly once, whatever the run writes.
    fs.mkdirSync(path.join(reportDir, 'latest'), { recursive: true });
    fs.writeFileSync(path.join(reportDir, 'latest', 'report.json'), '{"earlier":true}\n');
    const r = await run(runId, ['--scenarios-dir', FIXTURES, '--scenario', 'fails'], STRAY_SELECTION);
    expect(r.report.scenarios.map((s) => [s.id, s.checks.map((c) => c.status)])).toEqual([['fails', ['fail']]]);
    expect(r.code, r.out).toBe(1);
    expect(r.report.summary.exitCode).toBe(1);
    expect(JSON.parse(fs.readFileSync(path.join(reportDir, 'previous', 'report.json'), 'utf8'))).toEqual({ earlier: true });
    expect(r.out).toMatch(/^FAIL fails: 0 pass, 1 fail, 0 inconclusive, 0 error/m);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }, 900_000);

  it('an image that cannot be built: exit 2, every scenario listed as an error with the build failure, nothing started', async () => {
    // A copy of the recipe with one more package gets a new tag, so it must be built; the mirror
    // is a loopback port where nothing listens, so debootstrap fails at once.
    const containers = path.join(tmp, 'containers');
    fs.cpSync(path.join(PROJECT_ROOT, 'containers'), containers, { recursive: true });
    const recipeFile = path.join(containers, 'postfix', 'recipe.json');
    const recipe = JSON.parse(fs.readFileSync(recipeFile, 'utf8')) as { base: { packages: string[] } };
    recipe.base.packages.push('hello');
    fs.writeFileSync(recipeFile, JSON.stringify(recipe));
    const runId = `image-fails-${process.pid}`;
    const r = await run(runId, ['--scenario', 'opportunistic-25,sni'], { SMTP_TLS_LAB_CONTAINERS_DIR: containers, LAB_DEBIAN_MIRROR: 'http://127.0.0.1:9/debian', LAB_NO_PULL: '1' });
    expect(r.code, r.out).toBe(2);
    expect(r.out).toMatch(/EIMAGE: debootstrap failed/);
    expect(r.out).toMatch(/Failed getting release file/);
    expect(r.report.scenarios.map((s) => [s.id, s.status])).toEqual([['opportunistic-25', 'error'], ['sni', 'error']]);
    const statuses = new Set(r.report.scenarios.flatMap((s) => s.checks.map((c) => `${c.status}:${c.error?.code}`)));
    expect([...statuses]).toEqual(['error:EIMAGE']);
    expect(r.report.infrastructureErrors[0]).toMatch(/^EIMAGE: .*remedy:/s);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }, 900_000);

  it('Postfix not ready within its timeout: ENOT_READY naming the wait, an error (never pass/fail), container and network removed', async () => {
    const config = effectiveConfig(loadScenario(path.join(FIXTURES, 'passes')), 'not-ready');
    const scenarioId = `not-ready-${process.pid}`;
    const network = await LabNetwork.create(scenarioId);
    let err: unknown;
    try {
      // 5 ms: the entrypoint's postconf passes alone take longer inside the container, so the
      // wait cannot be met; what is tested is how the lab reports and cleans up a missed wait.
      const c = await new PostfixContainer(inject('postfixImage'))
        .withScenarioId(scenarioId)
        .withLabNetwork(network)
        .withMainCf(config.mainCf)
        .withMasterCf(config.masterCf)
        .withReadyTimeout(5)
        .start();
      await c.stop();
    } catch (e) {
      err = e;
    } finally {
      await network.remove();
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('ENOT_READY');
    expect((err as LabError).infrastructure).toBe(true);
    expect((err as LabError).message).toMatch(/postfix-ready \(log line 'daemon started'\).*5 ms/);
    expect(await countLabObjects({ scenario: scenarioId })).toEqual({ containers: 0, networks: 0 });
  }, 60_000);
});

describe('a normal run leaves nothing behind', () => {
  it('all checks pass, exit 0, no containers or networks of the run remain', async () => {
    const runId = `normal-${process.pid}`;
    const r = await run(runId, ['--scenario', 'opportunistic-25']);
    expect(r.code, r.out).toBe(0);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }, 900_000);
});

describe('docker itself agrees', () => {
  it('no container of the lab image runs outside a lab network (spot check of the engine as it is now)', () => {
    const r = spawnSync('docker', ['ps', '--filter', 'label=org.smtp-tls-lab', '--format', '{{.Networks}}'], { encoding: 'utf8' });
    for (const nets of r.stdout.split('\n').filter(Boolean)) expect(nets).toMatch(/^smtp-tls-lab-/);
  });
});
