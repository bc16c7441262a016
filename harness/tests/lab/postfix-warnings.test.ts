import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { childRunEnv } from '../../engine/labels.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * Postfix's own warnings reach the user. Before, a misspelt parameter gave a plain PASS (the
 * `unused parameter` warning sat only in report.json), and a protocol list Postfix cannot use
 * became a FAIL of the server (`454 4.7.0 TLS not available`) while Postfix's own explanation,
 * `Invalid TLS protocol list … disabling TLS support`, was shown nowhere.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/lab-warnings');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-warnings-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface CheckRec { id: string; status: string; message: string; error: { code: string } | null }
interface ScenarioRec { id: string; status: string; checks: CheckRec[]; findings: { expected: boolean; text: string }[] }

describe('Postfix warnings are findings, and a config that disables TLS is an error', () => {
  it('one run: the misspelt parameter is printed and reported; the disabled TLS is EPOSTFIX_CHECK, not a fail', async () => {
    const runId = `warnings-${process.pid}`;
    const reportDir = path.join(tmp, runId);
    const r = await childRunsInTurn(() => spawnSync(process.execPath, [CLI, 'run', '--scenarios-dir', FIXTURES, '--report-dir', reportDir], { encoding: 'utf8', env: childRunEnv({ SMTP_TLS_LAB_RUN_ID: runId }), timeout: 300_000 }));
    const out = `${r.stdout}\n${r.stderr}`;
    const report = JSON.parse(fs.readFileSync(path.join(reportDir, 'latest', 'report.json'), 'utf8')) as { scenarios: ScenarioRec[] };
    const byId = Object.fromEntries(report.scenarios.map((s) => [s.id, s]));

    const misspelt = byId['misspelt-parameter']!;
    expect(misspelt.checks.map((c) => c.status)).toEqual(['pass']);
    expect(misspelt.findings.filter((f) => !f.expected).map((f) => f.text)).toEqual(expect.arrayContaining([expect.stringMatching(/unused parameter: smtpd_tls_mandatory_protocol=/)]));
    expect(out).toMatch(/misspelt-parameter[\s\S]*unused parameter: smtpd_tls_mandatory_protocol=/);

    const disabled = byId['tls-disabled']!;
    expect(disabled.checks.map((c) => [c.status, c.error?.code])).toEqual([['error', 'EPOSTFIX_CHECK']]);
    expect(disabled.checks[0]!.message).toMatch(/disabling TLS support/);
    expect(out).toMatch(/tls-disabled[\s\S]*disabling TLS support/);
    // A lab that could not give every verdict exits 2, even though the other scenario passed.
    expect(r.status).toBe(2);
  }, 320_000);
});
