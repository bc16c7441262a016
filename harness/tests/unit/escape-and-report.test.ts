import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { forHtml, forTerminal } from '../../core/escape.js';
import { errorResult } from '../../checks/error-result.js';
import { LabError } from '../../core/errors.js';
import { buildReport, exitCodeFor, scenarioStatus } from '../../report/build-report.js';
import { REPORT_FORMATS } from '../../report/formats.js';
import { renderJson } from '../../report/render-json.js';
import { scenarioLines, summaryLines } from '../../report/render-terminal.js';
import type { CheckResult, Finding, ScenarioRecord } from '../../report/types.js';
import { writeReport } from '../../report/write-report.js';

describe('terminal escaping of server-supplied text', () => {
  it('neutralises control characters and ANSI escapes, keeps ordinary text', () => {
    expect(forTerminal('220 mx \x1b[31mred\x1b[0m\r\n\x07')).toBe('220 mx \\x1b[31mred\\x1b[0m\\r\\n\\x07');
    expect(forTerminal('caf\u00e9 <script>')).toBe('caf\u00e9 <script>');
    expect(forTerminal('a\u202eb')).toBe('a\\u202eb');
  });
});

describe('HTML escaping of server-supplied text', () => {
  it('markup characters become entities, in content and in attribute values', () => {
    expect(forHtml('<script>alert("x")</script>')).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(forHtml("a & b's <c>")).toBe('a &amp; b&#39;s &lt;c&gt;');
    // Already escaped text is escaped again: the page shows exactly what the server sent.
    expect(forHtml('&lt;')).toBe('&amp;lt;');
  });
  it('control characters are shown, not passed on; tab, newline and CR stay white space', () => {
    expect(forHtml('220 \x1b[31mred\x00\x07\x7f\x85')).toBe('220 \\x1b[31mred\\x00\\x07\\x7f\\x85');
    expect(forHtml('a\tb\r\nc')).toBe('a\tb\r\nc');
  });
  it('bidirectional controls and lone surrogates cannot reorder or corrupt the page', () => {
    expect(forHtml('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(forHtml('x\u2066y\u2069')).toBe('x\\u2066y\\u2069');
    expect(forHtml('half \ud800 pair')).toBe('half \\ud800 pair');
    expect(forHtml('caf\u00e9 \u{1f512} mx.lab.test')).toBe('caf\u00e9 \u{1f512} mx.lab.test');
  });
});

const check = (status: CheckResult['status'], id = `c-${status}`): CheckResult => ({ ...errorResult({ kind: 'client-handshake', id, title: id, why: '' }, new Error('x')), status, message: `${status} \x1b[2J` });
const warning = (text: string, expected: boolean): Finding => ({ kind: 'postfix-warning', expected, text: `warning: ${text}`, raw: `postfix/postfix-script: warning: ${text}` });
const scenario = (id: string, checks: CheckResult[], findings: Finding[] = []): ScenarioRecord => ({
  id, title: id, summary: '', seeds: [], startupMs: 1200, error: null, findings, checks, logEvents: [], mainCf: null, cleanupProblems: [],
});
const report = (scenarios: ScenarioRecord[], infrastructureErrors: string[] = []) =>
  buildReport({ runId: 'r1', startedAt: new Date(0), finishedAt: new Date(1500), postfixImage: 'img', node: 'v20', scenarios, infrastructureErrors });

describe('run outcome', () => {
  it('exit code: lab trouble beats fail (not every verdict was given), fail beats pass', () => {
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 0, error: 0 }, 0)).toBe(0);
    expect(exitCodeFor({ pass: 3, fail: 1, inconclusive: 0, error: 0 }, 0)).toBe(1);
    expect(exitCodeFor({ pass: 3, fail: 1, inconclusive: 0, error: 1 }, 0)).toBe(2);
    expect(exitCodeFor({ pass: 3, fail: 1, inconclusive: 1, error: 0 }, 0)).toBe(2);
    expect(exitCodeFor({ pass: 3, fail: 1, inconclusive: 0, error: 0 }, 1)).toBe(2);
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 1, error: 0 }, 0)).toBe(2);
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 0, error: 0 }, 1)).toBe(2);
  });
  it('a report with one failing check and one scenario error exits 2', () => {
    expect(report([scenario('a', [check('pass'), check('fail')]), scenario('b', [check('error')])]).summary.exitCode).toBe(2);
    expect(report([scenario('a', [check('pass'), check('fail')])]).summary.exitCode).toBe(1);
  });
  it('a scenario whose checks were all inconclusive is not a pass', () => {
    expect(scenarioStatus([check('inconclusive'), check('inconclusive')], false)).toBe('inconclusive');
    expect(scenarioStatus([check('pass'), check('inconclusive')], false)).toBe('pass');
    expect(scenarioStatus([], true)).toBe('error');
  });
  it('an empty run is an infrastructure error, never a pass', () => {
    const r = report([]);
    expect(r.summary.exitCode).toBe(2);
    expect(r.infrastructureErrors).toEqual(['no scenario ran']);
    expect(Object.isFrozen(r)).toBe(true);
  });
  it('a check that could not run is an error, or inconclusive for a missing tool; never pass or fail', () => {
    const who = { kind: 'client-handshake', id: 'x', title: 'X', why: 'w' };
    expect(errorResult(who, new LabError('ENOT_READY', 'not ready'))).toMatchObject({ status: 'error', error: { code: 'ENOT_READY' }, message: 'ENOT_READY: not ready' });
    expect(errorResult(who, new LabError('ETOOL', 'openssl is not installed')).status).toBe('inconclusive');
    expect(errorResult(who, new Error('boom')).status).toBe('error');
    expect(Object.isFrozen(errorResult(who, new Error('boom')))).toBe(true);
  });
});

describe('renderers read the report model only, and are pure', () => {
  const r = report([scenario('a', [check('pass'), check('fail')], [warning('unused parameter: smtpd_tls_mandatory_protocol=\x1b[31m', false), warning('expected one', true)])]);

  it('JSON: the whole model, the same text every time, the model untouched', () => {
    const text = renderJson(r);
    expect(renderJson(r)).toBe(text);
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(r)));
    expect(JSON.parse(text).scenarios[0].findings).toHaveLength(2);
  });

  it('every format in the table has a file name and renders the model to text', () => {
    for (const [name, f] of Object.entries(REPORT_FORMATS)) {
      expect(f.file, name).toMatch(/^[a-z]+\.[a-z]+$/);
      expect(typeof f.render(r), name).toBe('string');
    }
  });

  it('terminal: unexpected Postfix warnings under the scenario line, escaped; expected ones not shown', () => {
    const lines = scenarioLines(r.scenarios[0]!);
    expect(lines[0]).toBe('FAIL a: 1 pass, 1 fail, 0 inconclusive, 0 error, Postfix ready in 1.2 s');
    expect(lines).toContain('    postfix, not expected by the scenario: warning: unused parameter: smtpd_tls_mandatory_protocol=\\x1b[31m');
    expect(lines.join('\n')).not.toContain('expected one');
    expect(lines).toContain('    FAIL c-fail: fail \\x1b[2J');
    expect(lines.join('')).not.toContain('\x1b');
    expect(summaryLines(r, ['/tmp/x/report.json'])).toEqual(['', '1 scenario(s), 2 check(s): 1 pass, 1 fail, 0 inconclusive, 0 error; 1 unexpected Postfix warning(s)', 'report: /tmp/x/report.json']);
  });
});

describe('writing a report', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-write-report-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('each run goes to latest/, the one before to previous/, once per run whatever the number of formats', () => {
    const first = report([scenario('first', [check('pass')])]);
    const second = report([scenario('second', [check('pass')])]);
    const files = writeReport(dir, first);
    expect(Object.keys(files)).toEqual(Object.keys(REPORT_FORMATS));
    expect(files.json).toBe(path.join(dir, 'latest', 'report.json'));
    writeReport(dir, second);
    const read = (sub: string) => JSON.parse(fs.readFileSync(path.join(dir, sub, 'report.json'), 'utf8')).scenarios[0].id;
    expect([read('latest'), read('previous')]).toEqual(['second', 'first']);
    expect(fs.readdirSync(path.join(dir, 'latest')).sort()).toEqual(Object.values(REPORT_FORMATS).map((f) => f.file).sort());
  });

  it('a renderer that throws leaves latest/ as it was', () => {
    const before = fs.readFileSync(path.join(dir, 'latest', 'report.json'), 'utf8');
    const broken = { ...report([]), scenarios: [{ toJSON: () => { throw new Error('renderer broke'); } }] } as never;
    expect(() => writeReport(dir, broken)).toThrow('renderer broke');
    expect(fs.readFileSync(path.join(dir, 'latest', 'report.json'), 'utf8')).toBe(before);
  });
});
