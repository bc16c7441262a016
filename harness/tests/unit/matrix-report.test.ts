import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { buildReport } from '../../report/build-report.js';
import { renderHtml } from '../../report/render-html.js';
import { renderJunit } from '../../report/render-junit.js';
import { renderMarkdown } from '../../report/render-markdown.js';
import { stackMatrix } from '../../report/stack-matrix.js';
import { validateReportJson } from '../../report/schema.js';
import type { Report, ScenarioRecord } from '../../report/types.js';

/**
 * A run over several stacks: the golden real run's two scenarios as entries on bookworm and
 * trixie, one trixie check judged by its byStack expectation (recorded in tlsSurface.expectation
 * as the runner records it) and failing there, one check judged as written beside its byStack.
 */
const GOLDEN_REPORT = path.join(PROJECT_ROOT, 'harness/tests/fixtures/report/real-run/report.json');
const WHY = 'OpenSSL 3.5 <refuses> TLS 1.1 by version first';

function records(stacks: readonly string[]): any[] {
  const real = JSON.parse(fs.readFileSync(GOLDEN_REPORT, 'utf8'));
  return stacks.flatMap((stack) => real.scenarios.map(({ status: _s, ...r }: any) => ({ ...structuredClone(r), stack: { name: stack, postfix: stack === 'trixie' ? '3.10.13' : '3.7.11', openssl: stack === 'trixie' ? 'OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)' : 'OpenSSL 3.0.20' } })));
}

function multiStack(): Report {
  const recs = records(['bookworm', 'trixie']);
  const trixieSub = recs.find((r) => r.id === 'submission-587' && r.stack.name === 'trixie');
  trixieSub.checks[0].tlsSurface = { expectation: { stack: 'trixie', from: 'byStack', why: WHY, keys: ['expect', 'serverLog'], byStack: ['trixie'] } };
  trixieSub.checks[0].status = 'fail';
  trixieSub.checks[0].message = 'failed on trixie';
  const bookwormSub = recs.find((r) => r.id === 'submission-587' && r.stack.name === 'bookworm');
  bookwormSub.checks[0].tlsSurface = { expectation: { stack: 'bookworm', from: 'default', why: '', keys: [], byStack: ['trixie'] } };
  return buildReport({ runId: 'multi', startedAt: new Date(0), finishedAt: new Date(1000), postfixImage: 'bookworm=a, trixie=b', node: 'v20', scenarios: recs as ScenarioRecord[], infrastructureErrors: [] });
}

describe('reports of a run over several stacks: scenario × stack', () => {
  it('the matrix: one row per id, one column per stack, the byStack checks of each cell', () => {
    const m = stackMatrix(multiStack())!;
    expect(m.stacks).toEqual(['bookworm', 'trixie']);
    expect(m.rows.map((r) => r.id)).toEqual(['opportunistic-25-tls11-allowed', 'submission-587']);
    const sub = m.rows[1]!;
    expect(sub.cells.map((c) => c?.scenario.status)).toEqual(['pass', 'fail']);
    expect(sub.cells[0]!.byStack).toEqual([]);
    expect(sub.cells[1]!.byStack).toEqual([{ check: 'auth-hidden-before-starttls', why: WHY }]);
    expect(stackMatrix(buildReport({ runId: 'one', startedAt: new Date(0), finishedAt: new Date(1), postfixImage: 'x', node: 'v20', scenarios: records(['trixie']) as ScenarioRecord[], infrastructureErrors: [] }))).toBeNull();
  });

  it('index.html: a scenarios × stacks table linking to each entry, byStack said in the cell and in the check, entries named with their stack', () => {
    const r = multiStack();
    expect(validateReportJson(JSON.parse(JSON.stringify(r))).valid).toBe(true);
    const html = renderHtml(r);
    const table = html.slice(html.indexOf('<section id="stacks">'), html.indexOf('</section>', html.indexOf('<section id="stacks">')));
    expect(table).toContain('<th>trixie<br><span class="muted" title="OpenSSL 3.5.9 29 Sep 2026 (Library: OpenSSL 3.5.9 29 Sep 2026)">Postfix 3.10.13, OpenSSL 3.5.9</span></th>');
    expect(table.match(/class="stack-cell /g)).toHaveLength(4);
    expect(table).toMatch(/<th scope="row">submission-587<\/th><td><a class="stack-cell st-pass" href="#s-1"[^>]*>pass 11\/0<\/a><\/td><td><a class="stack-cell st-fail" href="#s-3"[^>]*>fail 10\/1<\/a><span class="bystack" title="[^"]*OpenSSL 3.5 &lt;refuses&gt; TLS 1.1[^"]*">byStack 1<\/span><\/td>/);
    // The scenarios × checks matrix and the sections name each entry with its stack.
    expect(html).toContain('<a href="#s-3">submission-587 [trixie]</a>');
    expect(html).toContain('<h2>submission-587 [trixie] <span class="badge st-fail">fail</span></h2>');
    // The check says which expectation judged it; the default one says where the other is.
    expect(html).toContain('<dt>expectation</dt><dd><span class="bystack">byStack trixie</span> expect, serverLog as on trixie: OpenSSL 3.5 &lt;refuses&gt; TLS 1.1 by version first</dd>');
    expect(html).toContain('<dt>expectation</dt><dd>as written (the check has its own expectation on trixie, not on bookworm)</dd>');
    // The expectation is not repeated as a raw TLS surface.
    expect(html).not.toContain('&quot;expectation&quot;');
  });

  it('a single-stack report has no stacks table and names entries by id alone', () => {
    const html = renderHtml(buildReport({ runId: 'one', startedAt: new Date(0), finishedAt: new Date(1), postfixImage: 'x', node: 'v20', scenarios: records(['trixie']) as ScenarioRecord[], infrastructureErrors: [] }));
    expect(html).not.toContain('id="stacks"');
    expect(html).toContain('<a href="#s-1">submission-587</a>');
    const junit = renderJunit(buildReport({ runId: 'one', startedAt: new Date(0), finishedAt: new Date(1), postfixImage: 'x', node: 'v20', scenarios: records(['trixie']) as ScenarioRecord[], infrastructureErrors: [] }));
    expect(junit).toContain('<testsuite name="submission-587" ');
    expect(junit).not.toContain('[trixie]');
  });

  it('summary.md: a scenario × stack table with † for byStack and the why of each', () => {
    const md = renderMarkdown(multiStack());
    expect(md).toContain('### Scenario × stack');
    expect(md).toContain('| scenario | bookworm | trixie |');
    expect(md).toMatch(/\| submission-587 \| ✅ pass 11\/0 \| ❌ fail 10\/1 † 1 \|/);
    expect(md).toMatch(/\| submission-587 \| trixie \| auth-hidden-before-starttls \| OpenSSL 3\.5 &lt;refuses&gt; TLS 1\.1 by version first \|/);
    expect(md).toContain('| submission-587 \\[trixie\\] | ❌ fail |');
  });

  it('junit.xml: suites and testcases named with their stack, the stack and versions as properties, the byStack why in the failure', () => {
    const x = renderJunit(multiStack());
    expect(x).toContain('<testsuite name="submission-587 [trixie]" id="3"');
    expect(x).toContain('<property name="stack.postfix" value="3.10.13"/>');
    expect(x).toMatch(/<testcase name="auth-hidden-before-starttls \[trixie\]" classname="submission-587 \[trixie\]"[^>]*>\s*<failure message="failed on trixie" type="fail">[^<]*expectation of trixie \(byStack: expect, serverLog\): OpenSSL 3\.5 &lt;refuses&gt;/);
    expect(x).toMatch(/<testcase name="auth-hidden-before-starttls \[bookworm\]" classname="submission-587 \[bookworm\]"/);
    expect(new Set([...x.matchAll(/<testcase name="([^"]+)" classname="([^"]+)"/g)].map((m) => `${m[2]}/${m[1]}`)).size).toBe(34);
  });
});
