import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorResult } from '../../checks/error-result.js';
import { LabError } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { buildReport } from '../../report/build-report.js';
import { REPORT_FORMATS } from '../../report/formats.js';
import { ladderSteps, logEventsOf, negotiatedRows } from '../../report/observation-view.js';
import { renderHtml } from '../../report/render-html.js';
import { renderJunit } from '../../report/render-junit.js';
import { cell, renderMarkdown } from '../../report/render-markdown.js';
import { validateReportJson } from '../../report/schema.js';
import type { CheckResult, Report, ScenarioRecord } from '../../report/types.js';
import { runDirName, writeReport } from '../../report/write-report.js';

const GOLDEN_REPORT = path.join(PROJECT_ROOT, 'harness/tests/fixtures/report/real-run/report.json');
const HOSTILE = '<script>window.__pwned=1</script> | *bold* [x](javascript:alert(1)) `code` \x1b[31m\u202e &amp;';

/** The golden real run's records, rebuilt into a report with whatever changes a test makes to them first. */
function reportFrom(edit: (records: any[]) => void = () => {}, infrastructureErrors: string[] = []): Report {
  const real = JSON.parse(fs.readFileSync(GOLDEN_REPORT, 'utf8'));
  const records = real.scenarios.map(({ status: _s, ...r }: any) => r);
  edit(records);
  return buildReport({ runId: real.run.id, startedAt: new Date(real.run.startedAt), finishedAt: new Date(real.run.finishedAt), postfixImage: real.run.postfixImage, node: real.run.node, scenarios: records as ScenarioRecord[], infrastructureErrors });
}

const who = { kind: 'client-handshake', id: 'lab-broke', title: 'lab broke', why: '' };
/** The golden run plus an error, an inconclusive check and server text with markup in banner, message and log. */
function hostileReport(): Report {
  return reportFrom((records) => {
    const failing = records[0].checks.find((c: CheckResult) => c.status === 'fail');
    failing.message = `${HOSTILE} ${failing.message}`;
    failing.observations[0].banner.lines[0] = `mx ${HOSTILE}`;
    failing.observations[0].transcript[1].text = `220 mx ${HOSTILE}`;
    failing.logEvents[0].raw = `${failing.logEvents[0].raw} ${HOSTILE}`;
    records[1].checks.push(errorResult({ ...who, id: 'lab-broke' }, new LabError('ENOT_READY', `not ready ${HOSTILE}`)));
    records[1].checks.push(errorResult({ ...who, id: 'no-tool' }, new LabError('ETOOL', 'openssl is not installed')));
  }, [`EIMAGE: ${HOSTILE}`]);
}

const checksOf = (r: Report) => r.scenarios.flatMap((s) => s.checks.map((c) => ({ s, c })));

describe('the format table', () => {
  it('has json, junit, markdown and html, each a file name and a renderer; the hostile report is still a valid report', () => {
    expect(Object.fromEntries(Object.entries(REPORT_FORMATS).map(([k, f]) => [k, f.file]))).toEqual({ json: 'report.json', junit: 'junit.xml', markdown: 'summary.md', html: 'index.html' });
    expect(validateReportJson(JSON.parse(JSON.stringify(hostileReport())))).toEqual({ valid: true });
  });

  it('every renderer is pure: the same text twice, from a frozen model', () => {
    const r = hostileReport();
    expect(Object.isFrozen(r.scenarios[0]!.checks[0])).toBe(true);
    for (const [name, f] of Object.entries(REPORT_FORMATS)) expect(f.render(r), name).toBe(f.render(r));
  });
});

describe('junit.xml', () => {
  const r = hostileReport();
  const xml = renderJunit(r);
  const cases = [...xml.matchAll(/<testcase name="([^"]*)" classname="([^"]*)"/g)].map((m) => [m[2], m[1]]);

  it('one testcase per check, classname = scenario id, plus one per infrastructure error; totals add up', () => {
    expect(cases.filter(([cls]) => cls !== 'infrastructure')).toEqual(checksOf(r).map(({ s, c }) => [s.id, c.id]));
    expect(cases.filter(([cls]) => cls === 'infrastructure')).toHaveLength(1);
    const c = r.summary.checks;
    expect(xml).toMatch(new RegExp(`^<testsuites [^>]*tests="${c.pass + c.fail + c.inconclusive + c.error + 1}" failures="${c.fail}" errors="${c.error + 1}" skipped="${c.inconclusive}"`, 'm'));
  });

  it('a fail is a <failure> with the message and each failing assertion as expected vs observed', () => {
    const failure = /<failure message="([^"]*)" type="fail">([^<]*)<\/failure>/.exec(xml);
    expect(failure).not.toBeNull();
    expect(failure![1]).toContain('client:raw tls: expected null');
    expect(failure![2]).toContain('client:raw tls\n  expected: null\n  observed: {');
    expect(failure![2]).toContain('server-log event\n  expected: &quot;tls-library-problem&quot;');
  });

  it('a lab error is an <error> with its code, inconclusive is <skipped> with why', () => {
    expect(xml).toMatch(/<testcase name="lab-broke" classname="submission-587" time="[\d.]+">\n\s*<error message="ENOT_READY: not ready [^"]*" type="ENOT_READY">/);
    expect(xml).toMatch(/<testcase name="no-tool" classname="submission-587" time="[\d.]+">\n\s*<skipped message="inconclusive: ETOOL: openssl is not installed">/);
  });

  it('server text is escaped: no markup, no control or bidi character survives, in attributes or content', () => {
    expect(xml).not.toContain('<script');
    expect(xml).not.toContain('\x1b');
    expect(xml).not.toContain('\u202e');
    expect(xml).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    // Only tags, references and escaped text: every '<' opens one of junit's own elements.
    expect([...new Set([...xml.matchAll(/<\/?([A-Za-z?][\w-]*)/g)].map((m) => m[1]))].sort()).toEqual(['?xml', 'error', 'failure', 'properties', 'property', 'skipped', 'testcase', 'testsuite', 'testsuites']);
    expect(xml.replace(/&(amp|lt|gt|quot|#39|#10|#13|#9);/g, '')).not.toContain('&');
  });
});

describe('a run with holes: a scenario that broke before any check, and no scenario at all', () => {
  const broken = reportFrom((records) => {
    records[1].checks = [];
    records[1].error = { code: 'ESCENARIO', stage: null, message: 'scenarios/x/scenario.json: checks: expected an array', detail: 'found "none"' };
  });

  it('junit.xml gives the broken scenario one <error> testcase, so it cannot read as green', () => {
    const xml = renderJunit(broken);
    expect(xml).toMatch(/<testsuite name="submission-587" id="1" tests="1" failures="0" errors="1" skipped="0"/);
    expect(xml).toContain('<testcase name="(scenario)" classname="submission-587" time="0">\n      <error message="ESCENARIO: scenarios/x/scenario.json: checks: expected an array" type="ESCENARIO">found &quot;none&quot;</error>');
    expect(xml).toMatch(/^<testsuites [^>]*tests="7" failures="1" errors="1"/m);
  });

  it('an empty run is one infrastructure error in junit.xml, the verdict NO VERDICT in summary.md and index.html', () => {
    const empty = buildReport({ runId: 'r0', startedAt: new Date(0), finishedAt: new Date(1), postfixImage: null, node: 'v20', scenarios: [], infrastructureErrors: [] });
    expect(renderJunit(empty)).toContain('<error message="no scenario ran" type="infrastructure">no scenario ran</error>');
    expect(renderMarkdown(empty)).toContain('NO VERDICT');
    expect(renderMarkdown(empty)).toContain('- no scenario ran');
    expect(renderHtml(empty)).toContain('<p class="verdict v-2">NO VERDICT');
    expect(renderHtml(empty)).toContain('<li><pre>no scenario ran</pre></li>');
  });
});

describe('summary.md', () => {
  const r = hostileReport();
  const md = renderMarkdown(r);

  it('says the verdict and the counts, lists what did not pass, and the negotiated TLS per port', () => {
    const c = r.summary.checks;
    expect(md.split('\n')[0]).toBe('## smtp-tls-lab: NO VERDICT: the lab could not judge every check');
    expect(md).toContain(`**${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error**`);
    expect(md).toMatch(/\| opportunistic-25-tls11-allowed \| tls11-only-client-refused \| ❌ fail \|/);
    expect(md).toMatch(/\| submission-587 \| lab-broke \| ⚠️ error \|/);
    expect(md).toContain('| 25 (starttls) | raw | TLSv1.1 | TLS\\_ECDHE\\_RSA\\_WITH\\_AES\\_256\\_CBC\\_SHA | ECDH X25519 253 bits | tls11-only-client-refused |');
    expect(md.length).toBeLessThan(20_000);
  });

  it('every cell is escaped: a server cannot add a column, a link, emphasis or markup', () => {
    expect(md).not.toContain('<script');
    expect(md).not.toContain('\x1b');
    const failingRow = md.split('\n').find((l) => l.includes('tls11-only-client-refused | ❌'))!;
    expect(failingRow.split(/(?<!\\)\|/).length - 2).toBe(4);
    expect(cell(HOSTILE)).toBe('&lt;script&gt;window.\\_\\_pwned=1&lt;/script&gt; \\| \\*bold\\* \\[x\\]\\(javascript:alert\\(1\\)\\) \\`code\\` \\\\x1b\\[31m\\\\u202e &amp;amp;');
    expect(cell('two\nlines\r\n')).toBe('two lines ');
  });
});

describe('index.html (static reading; the browser test runs it)', () => {
  const r = hostileReport();
  const html = renderHtml(r);

  it('one matrix cell per check, one details per check, in the order of the report', () => {
    const cells = [...html.matchAll(/<a class="cell st-(\w+)" href="#c-(\d+)-(\d+)"/g)];
    expect(cells.map((m) => m[1])).toEqual(checksOf(r).map(({ c }) => c.status));
    expect([...html.matchAll(/<details class="check st-(\w+)" id="c-(\d+)-(\d+)"/g)].map((m) => `${m[2]}-${m[3]}`)).toEqual(cells.map((m) => `${m[2]}-${m[3]}`));
  });

  it('is self-contained: its one style and one script are allowed by hash, nothing else is loaded from anywhere', () => {
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)![1]!;
    const hash = (t: string) => createHash('sha256').update(t).digest('base64');
    expect(html).toContain(`style-src 'sha256-${hash(style)}'; script-src 'sha256-${hash(script)}'`);
    expect(html).toContain("default-src 'none'");
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html.match(/<style/g)).toHaveLength(1);
    expect(style).not.toMatch(/url\(|@import/);
    // Every tag the page has: no element that loads anything, and every link stays in the page.
    const tags = [...html.matchAll(/<([a-z][a-z0-9]*)\b[^>]*>/g)];
    expect(tags.filter((t) => /\s(src|srcset|action|data|poster|background)=/.test(t[0]))).toEqual([]);
    expect([...new Set(tags.map((t) => t[1]))].filter((name) => ['link', 'img', 'iframe', 'object', 'embed', 'base', 'form', 'audio', 'video', 'source'].includes(name!))).toEqual([]);
    expect([...html.matchAll(/\shref="([^"]*)"/g)].map((m) => m[1]).filter((href) => !/^#[a-z0-9-]+$/.test(href!))).toEqual([]);
  });

  it('an enumeration check lists the accepted suites in order; an offer-only answer is shown as found', () => {
    const enumerated = reportFrom((records) => {
      const base = errorResult({ kind: 'enumeration', id: 'tls13-set', title: 't', why: '' }, new Error('x'));
      records[0].checks.push({ ...base, status: 'pass', error: null, tlsSurface: { enumeration: { protocol: 'TLSv1.3', accepted: ['TLS_AES_256_GCM_SHA384', `<b>${HOSTILE}</b>`], order: 'server', connections: 7 } } });
      records[0].checks.push({ ...base, id: 'rc4', kind: 'offer-only', status: 'pass', error: null, tlsSurface: { hello: { kind: 'alert', alert: 'handshake_failure' } } });
    });
    const page = renderHtml(enumerated);
    expect(page).toContain("<h4>Accepted TLSv1.3 suites found by probe: 2, in the server's order, 7 connections</h4>\n<ol class=\"mono\"><li>TLS_AES_256_GCM_SHA384</li><li>&lt;b&gt;&lt;script&gt;");
    expect(page).toContain('&quot;hello&quot;: {\n  &quot;kind&quot;: &quot;alert&quot;');
  });

  it('server text is escaped where it is written', () => {
    expect(html).not.toContain('window.__pwned=1</script>');
    expect(html).toContain('&lt;script&gt;window.__pwned=1&lt;/script&gt;');
    expect(html).not.toContain('\x1b');
    expect(html).not.toContain('\u202e');
  });
});

describe('what the readable formats show of an observation', () => {
  const r = reportFrom();
  const failing = r.scenarios[0]!.checks.find((c) => c.status === 'fail')!;

  it('ladder: a multi-line reply is one step, the handshake summary follows the TLS note, credentials never show', () => {
    const steps = ladderSteps(failing.observations[0]!);
    expect(steps.map((s) => s.kind)).toEqual(['*', 'S', 'C', 'S', 'C', 'S', '*', 'tls', 'C', 'S', 'C', 'S']);
    expect(steps[3]!.lines).toHaveLength(11);
    expect(steps.find((s) => s.kind === 'tls')!.lines[0]).toBe('handshake: TLSv1.1 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA');
    const leaky = { ...failing.observations[0]!, transcript: [
      { t: 0, dir: 'C' as const, text: 'AUTH PLAIN AGFsaWNlAHNlY3JldA==' },
      { t: 1, dir: 'S' as const, text: '235 2.7.0 ok' },
      { t: 2, dir: 'C' as const, text: 'AUTH LOGIN' },
      { t: 3, dir: 'S' as const, text: '334 VXNlcm5hbWU6' },
      { t: 4, dir: 'C' as const, text: 'YWxpY2U=' },
      { t: 5, dir: 'S' as const, text: '334 UGFzc3dvcmQ6' },
      { t: 6, dir: 'C' as const, text: 'c2VjcmV0' },
      { t: 7, dir: 'S' as const, text: '235 2.7.0 ok' },
      { t: 8, dir: 'C' as const, text: 'MAIL FROM:<a@lab.test>' },
    ] };
    expect(ladderSteps({ ...leaky, tls: null, error: null }).filter((s) => s.kind === 'C').map((s) => s.lines[0])).toEqual(['AUTH PLAIN <redacted>', 'AUTH LOGIN', '<redacted>', '<redacted>', 'MAIL FROM:<a@lab.test>']);
  });

  it('log lines of one observation: its own connection by port, not the other clients\' connections', () => {
    for (const o of failing.observations) {
      const own = logEventsOf(o, failing.logEvents);
      expect(own.matched).toBe(true);
      expect(own.events.length).toBeGreaterThanOrEqual(3);
      expect(own.events.every((e) => !('peer' in e) || e.peer.port === o.localPort)).toBe(true);
    }
    const openssl = failing.observations.find((o) => o.client === 'openssl')!;
    expect(logEventsOf(openssl, failing.logEvents).events.map((e) => e.type)).toEqual(['connect', 'tls-established', 'other', 'disconnect']);
    expect(logEventsOf({ ...openssl, localPort: 1 }, failing.logEvents)).toEqual({ matched: false, events: failing.logEvents });
  });

  it('negotiated rows: each distinct outcome per port and client once, with the checks that saw it', () => {
    const rows = negotiatedRows(r.scenarios[0]!);
    expect(rows.filter((x) => x.protocol === 'TLSv1.1').map((x) => x.client)).toEqual(['nodemailer', 'openssl', 'raw']);
    expect(rows.find((x) => x.client === 'raw' && x.protocol === 'TLSv1.3')!.checks).toEqual(['default-handshake-tls13', 'received-header-shows-tls']);
  });
});

describe('the reports folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-report-formats-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const withId = (r: Report, id: string): Report => ({ ...r, run: { ...r.run, id } });

  it('each run writes <dir>/<run-id>/ and a copy in latest/; the run before moves to previous/; run folders stay', () => {
    const r = reportFrom();
    const files = writeReport(dir, withId(r, 'run-a'));
    expect(files).toEqual(Object.fromEntries(Object.entries(REPORT_FORMATS).map(([k, f]) => [k, path.join(dir, 'latest', f.file)])));
    writeReport(dir, withId(r, 'run-b'));
    expect(fs.readdirSync(dir).sort()).toEqual(['latest', 'previous', 'run-a', 'run-b']);
    const files_ = Object.values(REPORT_FORMATS).map((f) => f.file).sort();
    for (const sub of ['latest', 'previous', 'run-a', 'run-b']) expect(fs.readdirSync(path.join(dir, sub)).sort(), sub).toEqual(files_);
    expect(fs.lstatSync(path.join(dir, 'latest')).isSymbolicLink()).toBe(false);
    const id = (sub: string) => JSON.parse(fs.readFileSync(path.join(dir, sub, 'report.json'), 'utf8')).run.id;
    expect([id('latest'), id('previous'), id('run-a'), id('run-b')]).toEqual(['run-b', 'run-a', 'run-a', 'run-b']);
    expect(fs.readFileSync(path.join(dir, 'latest', 'index.html'), 'utf8')).toBe(fs.readFileSync(path.join(dir, 'run-b', 'index.html'), 'utf8'));
  });

  it('the same run id again replaces its folder; a run id cannot name a folder outside DIR', () => {
    const r = reportFrom();
    fs.writeFileSync(path.join(dir, 'run-b', 'stale.txt'), 'x');
    writeReport(dir, withId(r, 'run-b'));
    expect(fs.existsSync(path.join(dir, 'run-b', 'stale.txt'))).toBe(false);
    expect(runDirName('../../etc')).toBe('.._.._etc');
    expect(runDirName('..')).toBe('run_..');
    expect(runDirName('')).toBe('run_');
    expect(runDirName('mx75vaud-be4ccc')).toBe('mx75vaud-be4ccc');
  });
});
