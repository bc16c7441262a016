import { forHtml } from '../core/escape.js';
import { showValue } from './observation-view.js';
import type { CheckResult, Report, ScenarioReport } from './types.js';
import { expectationOf, reportStacks } from './stack-matrix.js';

/**
 * junit.xml: one <testsuite> per scenario and one <testcase> per check (classname = the
 * scenario id), so CI systems (GitHub, GitLab, Jenkins) list the lab's verdicts natively. A
 * fail is a <failure> with the message and, per failing assertion, expected vs observed; a lab
 * error is an <error> with its code; inconclusive is <skipped> (no verdict, and said why).
 * Errors outside any scenario become one testsuite "infrastructure" of errors, so a run that
 * could not start is never an empty green file.
 */
export function renderJunit(report: Report): string {
  const checks = report.scenarios.flatMap((s) => s.checks);
  const infra = report.infrastructureErrors;
  const bare = report.scenarios.filter((s) => s.checks.length === 0 && s.error).length;
  const totals = {
    tests: checks.length + infra.length + bare,
    failures: report.summary.checks.fail,
    errors: report.summary.checks.error + infra.length + bare,
    skipped: report.summary.checks.inconclusive,
  };
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="smtp-tls-lab run ${attr(report.run.id)}" tests="${totals.tests}" failures="${totals.failures}" errors="${totals.errors}" skipped="${totals.skipped}" time="${seconds(report.run.durationMs)}" timestamp="${attr(report.run.startedAt)}">`,
    ...report.scenarios.flatMap((s, i) => suite(s, i, report.run.startedAt, reportStacks(report).length > 1)),
  ];
  if (infra.length > 0) {
    out.push(`  <testsuite name="infrastructure" id="${report.scenarios.length}" tests="${infra.length}" failures="0" errors="${infra.length}" skipped="0" time="0">`);
    infra.forEach((e, i) => {
      out.push(`    <testcase name="infrastructure error ${i + 1}" classname="infrastructure" time="0">`, `      <error message="${attr(e)}" type="infrastructure">${text(e)}</error>`, '    </testcase>');
    });
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/**
 * With several stacks, one id names several entries: each suite and testcase is named with its
 * stack ("sni [trixie]", "sni-mail-a [trixie]"), so a CI view keeps them apart; one stack reads as before.
 */
function suite(s: ScenarioReport, index: number, timestamp: string, severalStacks = false): string[] {
  const tag = severalStacks && s.stack ? ` [${s.stack.name}]` : '';
  const n = (st: CheckResult['status']) => s.checks.filter((c) => c.status === st).length;
  const time = s.checks.reduce((ms, c) => ms + c.durationMs, s.startupMs ?? 0);
  const lines = [
    `  <testsuite name="${attr(s.id + tag)}" id="${index}" tests="${s.checks.length}" failures="${n('fail')}" errors="${n('error')}" skipped="${n('inconclusive')}" time="${seconds(time)}" timestamp="${attr(timestamp)}">`,
    '    <properties>',
    `      <property name="title" value="${attr(s.title)}"/>`,
    `      <property name="status" value="${attr(s.status)}"/>`,
    `      <property name="seeds" value="${attr(s.seeds.join(', '))}"/>`,
    ...(s.startupMs === null ? [] : [`      <property name="postfix.startupMs" value="${s.startupMs}"/>`]),
    ...(tag ? [`      <property name="stack" value="${attr(s.stack!.name)}"/>`, `      <property name="stack.postfix" value="${attr(s.stack!.postfix ?? '')}"/>`, `      <property name="stack.openssl" value="${attr(s.stack!.openssl ?? '')}"/>`] : []),
    ...(s.error ? [`      <property name="error" value="${attr(`${s.error.code}: ${s.error.message}`)}"/>`] : []),
    ...s.findings.filter((f) => !f.expected).map((f) => `      <property name="postfix.unexpectedWarning" value="${attr(f.text)}"/>`),
    '    </properties>',
  ];
  for (const c of s.checks) lines.push(...testcase(s, c, tag));
  // A scenario that failed before it had any check (a broken file) still shows as an error.
  if (s.checks.length === 0 && s.error) {
    lines[0] = lines[0]!.replace('tests="0"', 'tests="1"').replace('errors="0"', 'errors="1"');
    lines.push(`    <testcase name="(scenario)" classname="${attr(s.id)}" time="0">`, `      <error message="${attr(`${s.error.code}: ${s.error.message}`)}" type="${attr(s.error.code)}">${text(s.error.detail ?? '')}</error>`, '    </testcase>');
  }
  lines.push('  </testsuite>');
  return lines;
}

function testcase(s: ScenarioReport, c: CheckResult, tag = ''): string[] {
  const open = `    <testcase name="${attr(c.id + tag)}" classname="${attr(s.id + tag)}" time="${seconds(c.durationMs)}">`;
  const e = expectationOf(c);
  const expectation = e?.from === 'byStack' ? `expectation of ${e.stack} (byStack: ${e.keys.join(', ')}): ${e.why}` : '';
  const about = [c.title, c.configSays ? `config says: ${c.configSays}` : '', expectation].filter(Boolean).join('\n');
  switch (c.status) {
    case 'pass':
      return [`    <testcase name="${attr(c.id + tag)}" classname="${attr(s.id + tag)}" time="${seconds(c.durationMs)}"/>`];
    case 'fail': {
      const failing = c.assertions.filter((a) => !a.ok).map((a) => `${a.subject} ${a.path}\n  expected: ${showValue(a.expected)}\n  observed: ${showValue(a.observed)}`);
      return [open, `      <failure message="${attr(c.message)}" type="fail">${text([about, ...failing].join('\n\n'))}</failure>`, '    </testcase>'];
    }
    case 'error': {
      const code = c.error?.code ?? 'EINTERNAL';
      const detail = [about, c.error?.detail ?? '', ...c.unjudged.map((u) => `${u.subject}: ${u.error.code}: ${u.error.message}`)].filter(Boolean).join('\n');
      return [open, `      <error message="${attr(c.message)}" type="${attr(code)}">${text(detail)}</error>`, '    </testcase>'];
    }
    case 'inconclusive': {
      const why = c.unjudged.map((u) => `${u.subject}: ${u.error.code}: ${u.error.message}`);
      return [open, `      <skipped message="${attr(`inconclusive: ${c.message}`)}">${text([about, ...why].join('\n'))}</skipped>`, '    </testcase>'];
    }
  }
  // Only a model that breaks its own type gets here (writeReport still writes it as evidence, then refuses it).
  return [open, `      <error message="${attr(`status ${JSON.stringify(c.status)} is not a status: ${c.message}`)}" type="EINTERNAL"/>`, '    </testcase>'];
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

/**
 * Text for XML 1.0 content: forHtml's entities and visible escapes (markup, control
 * characters, bidi controls, lone surrogates), and the two code points XML forbids besides.
 */
function text(s: string): string {
  return forHtml(s).replace(/[\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Text for a quoted XML attribute: as content, with line breaks and tabs kept as references (a parser would turn them into spaces). */
function attr(s: string): string {
  return text(s).replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
