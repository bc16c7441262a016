import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { mergeReports } from '../../diff/merge-reports.js';
import { diffReports } from '../../diff/report-diff.js';
import { renderDiffText } from '../../diff/render-text.js';
import { renderDiffMarkdown } from '../../diff/render-md.js';
import { validateReportJson } from '../../report/schema.js';
import type { Report } from '../../report/types.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * diff and merge of reports over several stacks: entries are keyed by id and stack. The real
 * runs of harness/tests/fixtures/diff/ (bookworm, written before stacks: no `stack`) made into
 * runs over bookworm and trixie, each entry a copy with its stack.
 */
const FIXTURES = path.join(PROJECT_ROOT, 'harness/tests/fixtures/diff');
const load = (f: string): Report => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8'));

function onStacks(r: Report, stacks: readonly string[], runId = r.run.id): Report {
  const scenarios = r.scenarios.flatMap((s) => stacks.map((name) => ({ ...structuredClone(s), stack: { name, postfix: null, openssl: null } })));
  return { ...structuredClone(r), run: { ...r.run, id: runId }, scenarios } as Report;
}

/** HEAD's trixie entries are the weakened twin's; its bookworm entries are BASE's. */
function trixieWeakened(): { base: Report; head: Report } {
  const base = onStacks(load('base.json'), ['bookworm', 'trixie']);
  const weak = load('head.json');
  const head = structuredClone(base) as any;
  head.scenarios = head.scenarios.map((s: any) => (s.stack.name === 'trixie' ? { ...structuredClone(weak.scenarios.find((w: any) => w.id === s.id)), stack: s.stack } : s));
  return { base, head };
}

describe('diff keyed by id and stack', () => {
  it('the fixtures made multi-stack are still reports of the schema', () => {
    const { base, head } = trixieWeakened();
    expect(validateReportJson(base).valid).toBe(true);
    expect(validateReportJson(head).valid).toBe(true);
  });

  it('a regression on trixie only: every change names trixie, bookworm has none', () => {
    const { base, head } = trixieWeakened();
    const d = diffReports({ file: 'base', report: base }, { file: 'head', report: head });
    expect(d.scenarios.map((s) => s.label)).toEqual(['cipher-policy-seed000 [bookworm]', 'cipher-policy-seed000 [trixie]', 'opportunistic-25 [bookworm]', 'opportunistic-25 [trixie]', 'submission-587 [bookworm]', 'submission-587 [trixie]']);
    for (const s of d.scenarios.filter((x) => x.stack === 'bookworm')) expect(s.changes.filter((c) => c.kind !== 'info'), s.label).toEqual([]);
    const regressions = d.scenarios.flatMap((s) => s.changes).filter((c) => c.kind === 'regression');
    expect(regressions.length).toBe(11);
    expect(new Set(regressions.map((c) => c.scenario.replace(/^.* /, '')))).toEqual(new Set(['[trixie]']));
    expect(d.exitCode).toBe(1);
    expect(renderDiffText(d)).toContain('scenario opportunistic-25 [trixie] (pass → fail)');
    expect(renderDiffText(d)).not.toContain('scenario opportunistic-25 [bookworm] (pass → fail)');
    expect(renderDiffMarkdown(d)).toMatch(/\| 🔴 \*\*regression\*\* \| submission-587 \[trixie\] \| 5870 \|/);
  });

  it('a multi-stack report against itself: no change, although each id is there twice', () => {
    const { base } = trixieWeakened();
    const d = diffReports({ file: 'a', report: base }, { file: 'b', report: base });
    expect(d.counts).toEqual({ regression: 0, improvement: 0, change: 0, info: 0 });
    expect(d.scenarios).toHaveLength(6);
  });

  it('an entry on a stack only one run has is a change, not paired with another stack', () => {
    const base = onStacks(load('base.json'), ['bookworm']);
    const head = onStacks(load('base.json'), ['bookworm', 'sid']);
    const d = diffReports({ file: 'a', report: base }, { file: 'b', report: head });
    const only = d.scenarios.filter((s) => s.changes.some((c) => c.aspect === 'scenario'));
    expect(only.map((s) => s.label)).toEqual(['cipher-policy-seed000 [sid]', 'opportunistic-25 [sid]', 'submission-587 [sid]']);
    expect(only[0]!.changes[0]).toMatchObject({ before: 'absent', after: 'pass', kind: 'change', why: 'a scenario only HEAD ran' });
  });

  it('single-stack reports pair and print as before: a report without stack is bookworm, labels are ids', () => {
    const d = diffReports({ file: 'base', report: load('base.json') }, { file: 'head', report: onStacks(load('head.json'), ['bookworm']) });
    expect(d.scenarios.map((s) => s.label)).toEqual(['cipher-policy-seed000', 'opportunistic-25', 'submission-587']);
    expect(d.counts.regression).toBe(11);
    expect(renderDiffText(d)).toContain('scenario opportunistic-25 (pass → fail)');
  });
});

describe('merge keyed by id and stack', () => {
  it('the same ids on different stacks merge, sorted by id then stack in the stacks\' order', () => {
    const bookworm = onStacks(load('base.json'), ['bookworm'], 'shard-b');
    const sidAndBullseye = onStacks(load('base.json'), ['sid', 'bullseye'], 'shard-s');
    const m = mergeReports([{ file: 'b.json', report: bookworm }, { file: 's.json', report: sidAndBullseye }], 'merged');
    expect(m.scenarios.map((s) => `${s.id}/${s.stack!.name}`)).toEqual(['cipher-policy-seed000', 'opportunistic-25', 'submission-587'].flatMap((id) => ['bullseye', 'bookworm', 'sid'].map((st) => `${id}/${st}`)));
    expect(m.summary.scenarios.pass).toBe(9);
    expect(validateReportJson(JSON.parse(JSON.stringify(m))).valid).toBe(true);
  });

  it('refuses one (scenario, stack) held by two reports, naming the stack and both files', () => {
    const a = onStacks(load('base.json'), ['bookworm', 'trixie'], 'a');
    const b = onStacks(load('base.json'), ['trixie'], 'b');
    let err: unknown;
    try {
      mergeReports([{ file: 'a.json', report: a }, { file: 'b.json', report: b }], 'merged');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LabError);
    expect((err as LabError).code).toBe('EUSAGE');
    expect((err as LabError).message).toBe("merge: b.json and a.json both hold scenario 'cipher-policy-seed000' on stack trixie");
  });
});
