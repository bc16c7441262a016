import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { mergeReports } from '../../diff/merge-reports.js';
import { readReport, reportErrors, type LoadedReport } from '../../diff/read-report.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { writeReport } from '../../report/write-report.js';
import { refusal } from '../refusal.js';

/**
 * `merge`: shard reports joined into one, counts and exit code recomputed, refusals named.
 * The inputs are the real runs of harness/tests/fixtures/diff/, split into one report per
 * scenario (as three shards would have written them).
 */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/diff');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-merge-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** One report per scenario of `file`, each with its own summary as a shard's run would have it. */
function shards(file: string, edit: (r: any, i: number) => void = () => {}): LoadedReport[] {
  const whole = JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));
  return whole.scenarios.map((s: any, i: number) => {
    const r = { ...structuredClone(whole), scenarios: [s], run: { ...whole.run, id: `shard-${i + 1}` } };
    // A shard's own summary: deliberately wrong here, so that a merge copying it would show.
    r.summary = { ...r.summary, exitCode: 0, checks: { pass: 0, fail: 0, inconclusive: 0, error: 0 } };
    edit(r, i);
    const out = path.join(tmp, `${file}-${i + 1}-${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(out, JSON.stringify(r));
    return readReport(out);
  });
}

describe('merge', () => {
  it('joins shards into one report: scenarios sorted, counts and exit code recomputed, a valid report', () => {
    const parts = shards('head.json').reverse();
    const merged = mergeReports(parts, 'merged-test');
    expect(merged.scenarios.map((s) => s.id)).toEqual(['cipher-policy-seed000', 'opportunistic-25', 'submission-587']);
    expect(merged.summary.checks).toEqual({ pass: 19, fail: 6, inconclusive: 0, error: 0 });
    expect(merged.summary.scenarios).toEqual({ pass: 0, fail: 3, inconclusive: 0, error: 0 });
    expect(merged.summary.exitCode).toBe(1);
    expect(merged.run.id).toBe('merged-test');
    expect(merged.run.startedAt <= merged.run.finishedAt).toBe(true);
    expect(reportErrors(JSON.parse(JSON.stringify(merged)))).toEqual([]);
    const files = writeReport(path.join(tmp, 'out'), merged);
    expect(readReport(files.json).report.summary.exitCode).toBe(1);
  });

  it('all passing shards merge to exit 0; a shard with an infrastructure error makes it 2, saying which shard', () => {
    expect(mergeReports(shards('base.json'), 'm').summary.exitCode).toBe(0);
    const broken = shards('base.json', (r, i) => {
      if (i === 1) r.infrastructureErrors = ['EENGINE: no Docker engine'];
    });
    const merged = mergeReports(broken, 'm');
    expect(merged.summary.exitCode).toBe(2);
    expect(merged.infrastructureErrors).toEqual(['shard-2: EENGINE: no Docker engine']);
  });

  it('refuses a scenario held by two reports, naming both files', () => {
    const [a] = shards('base.json');
    const [b] = shards('head.json');
    const e = refusal(() => mergeReports([a!, b!], 'm'));
    expect(e.code).toBe('EUSAGE');
    expect(e.message).toContain(`merge: ${b!.file} and ${a!.file} both hold scenario 'cipher-policy-seed000'`);
    expect(e.detail).toMatch(/remedy: merge the reports of one sharded run/);
  });

  it('refuses shards of different lab images, naming each', () => {
    const parts = shards('base.json', (r, i) => {
      if (i === 2) r.run.postfixImage = 'smtp-tls-lab/postfix:000000000000';
    });
    const e = refusal(() => mergeReports(parts, 'm'));
    expect(e.code).toBe('EUSAGE');
    expect(e.message).toMatch(/merge: the reports ran different lab images: .*smtp-tls-lab\/postfix:000000000000 \(.*-3-/);
  });

  it('a file that is not a report, or of another schema, is refused before anything is merged', () => {
    const other = path.join(tmp, 'other-schema.json');
    fs.writeFileSync(other, JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(FIXTURES, 'base.json'), 'utf8')), schema: 'smtp-tls-lab/report@2' }));
    expect(refusal(() => readReport(other)).message).toMatch(/other-schema\.json is not a smtp-tls-lab report: its schema is "smtp-tls-lab\/report@2"/);
    const noVersion = path.join(tmp, 'no-version.json');
    const r = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'base.json'), 'utf8'));
    delete r.schemaVersion;
    fs.writeFileSync(noVersion, JSON.stringify(r));
    expect(refusal(() => readReport(noVersion)).message).toMatch(/no-version\.json is not a smtp-tls-lab report: it does not match the report schema: report: expected property 'schemaVersion'/);
    expect(refusal(() => mergeReports([], 'm')).message).toMatch(/merge: no report given/);
  });
});
