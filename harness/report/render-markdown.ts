import { conversationOutcome, conversationParties, conversationsOf } from './conversation-view.js';
import { forHtml } from '../core/escape.js';
import { negotiatedRows } from './observation-view.js';
import type { CheckStatus, Report, ScenarioReport, ScenarioStatus } from './types.js';
import { passCounts, stackMatrix, type StackMatrix } from './stack-matrix.js';

const MARK: Record<ScenarioStatus | CheckStatus, string> = { pass: '✅ pass', fail: '❌ fail', inconclusive: '⚪ inconclusive', error: '⚠️ error' };
const VERDICT = ['PASS: every check passed', 'FAIL: a check failed', 'NO VERDICT: the lab could not judge every check'] as const;

/** At most this many failing checks are listed (a PR comment must stay readable); the rest are counted. */
const MAX_LISTED = 40;

/**
 * summary.md: short, for a GitHub job summary ($GITHUB_STEP_SUMMARY) or a PR comment: the
 * verdict and counts, each check that did not pass with its message, and per scenario the TLS
 * its clients negotiated on each port. Every cell goes through `cell` (markdown and HTML both
 * escaped: GitHub renders HTML inside markdown).
 */
export function renderMarkdown(report: Report): string {
  const c = report.summary.checks;
  const out = [
    `## smtp-tls-lab: ${VERDICT[report.summary.exitCode]}`,
    '',
    `Run ${cell(report.run.id)}, ${report.scenarios.length} scenario(s), ${c.pass + c.fail + c.inconclusive + c.error} check(s): **${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error**, ${(report.run.durationMs / 1000).toFixed(1)} s, exit ${report.summary.exitCode}.`,
    '',
  ];
  if (report.infrastructureErrors.length > 0) out.push('**Infrastructure errors** (outside any scenario):', '', ...report.infrastructureErrors.map((e) => `- ${cell(e)}`), '');
  const matrix = stackMatrix(report);
  // With several stacks an id names several entries: each is named with its stack.
  const name = (s: ScenarioReport) => (matrix && s.stack ? `${s.id} [${s.stack.name}]` : s.id);
  out.push(...stackTable(matrix));

  out.push('| scenario | status | pass | fail | inconclusive | error | unexpected Postfix warnings |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of report.scenarios) {
    const n = (st: CheckStatus) => s.checks.filter((x) => x.status === st).length;
    out.push(`| ${cell(name(s))} | ${MARK[s.status]} | ${n('pass')} | ${n('fail')} | ${n('inconclusive')} | ${n('error')} | ${s.findings.filter((f) => !f.expected).length} |`);
  }
  out.push('');

  const notPassing = report.scenarios.flatMap((s) => s.checks.filter((x) => x.status !== 'pass').map((x) => ({ s, x })));
  if (notPassing.length > 0) {
    out.push('### Checks that did not pass', '', '| scenario | check | status | message |', '| --- | --- | --- | --- |');
    for (const { s, x } of notPassing.slice(0, MAX_LISTED)) out.push(`| ${cell(name(s))} | ${cell(x.id)} | ${MARK[x.status]} | ${cell(x.message, 300)} |`);
    if (notPassing.length > MAX_LISTED) out.push('', `… and ${notPassing.length - MAX_LISTED} more (see junit.xml or index.html).`);
    out.push('');
  }

  // Every attempt that did not go through, passing checks included: an expected refusal is a finding too.
  const refused = report.scenarios.flatMap((s) => s.checks.flatMap((x) => conversationsOf(x).filter((v) => v.outcome !== 'sent').map((v) => ({ s, x, v }))));
  if (refused.length > 0) {
    out.push('### Who failed to talk to whom', '', '| scenario | check | who → whom | outcome | the sender says | the receiver says |', '| --- | --- | --- | --- | --- | --- |');
    for (const { s, x, v } of refused.slice(0, MAX_LISTED)) out.push(`| ${cell(name(s))} | ${cell(x.id)} | ${cell(conversationParties(v))} | ${cell(conversationOutcome(v))} | ${cell(v.senderSays ?? '', 300)} | ${cell(v.receiverSays ?? '', 300)} |`);
    if (refused.length > MAX_LISTED) out.push('', `… and ${refused.length - MAX_LISTED} more (see index.html).`);
    out.push('');
  }

  const withTls = report.scenarios.map((s) => ({ s, rows: negotiatedRows(s) })).filter((x) => x.rows.length > 0);
  if (withTls.length > 0) {
    out.push('### Negotiated TLS per port', '');
    for (const { s, rows } of withTls) {
      out.push(`<details><summary>${cell(name(s))}</summary>`, '', '| port | client | protocol | cipher | key exchange | checks |', '| ---: | --- | --- | --- | --- | --- |');
      for (const r of rows) out.push(`| ${r.port} (${cell(r.mode)}) | ${cell(r.client)} | ${cell(r.protocol)} | ${cell(r.cipher)} | ${cell(r.keyExchange)} | ${cell(r.checks.join(', '), 300)} |`);
      out.push('', '</details>', '');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/**
 * Scenario × stack (several stacks only): per cell the entry's status and checks passed/not
 * passed, † when some of its checks were judged by their stack's byStack expectation; below
 * the table, each of those checks with why.
 */
function stackTable(m: StackMatrix | null): string[] {
  if (!m) return [];
  const out = ['### Scenario × stack', '', `| scenario | ${m.stacks.map((s) => cell(s)).join(' | ')} |`, `| --- | ${m.stacks.map(() => '---').join(' | ')} |`];
  for (const r of m.rows) {
    out.push(`| ${cell(r.id)} | ${r.cells.map((c) => (c ? `${MARK[c.scenario.status]} ${passCounts(c.scenario).pass}/${passCounts(c.scenario).notPass}${c.byStack.length ? ` † ${c.byStack.length}` : ''}` : 'not run')).join(' | ')} |`);
  }
  const notes = m.rows.flatMap((r) => r.cells.flatMap((c) => (c ? c.byStack.map((b) => ({ id: r.id, stack: c.scenario.stack?.name ?? '', ...b })) : [])));
  out.push('', 'Cells: status, checks passed/not passed; † N: N checks judged by their stack\'s own expectation (byStack).', '');
  if (notes.length) {
    out.push('<details><summary>Expectations that differ by stack (byStack)</summary>', '', '| scenario | stack | check | why |', '| --- | --- | --- | --- |');
    for (const n of notes) out.push(`| ${cell(n.id)} | ${cell(n.stack)} | ${cell(n.check)} | ${cell(n.why, 400)} |`);
    out.push('', '</details>', '');
  }
  return out;
}

/**
 * Text for one markdown table cell or list item: at most `max` characters of the original
 * (cut before escaping, so no escape is cut in half), HTML-escaped by forHtml (markup, control
 * and bidi characters), line breaks as spaces, and every markdown punctuation mark
 * that could open emphasis, a link, a code span or a table border backslash-escaped (cells
 * never start a line, so list and heading marks do nothing there).
 */
export function cell(text: string, max = 200): string {
  const chars = [...text];
  const cut = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return forHtml(cut)
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[\\`*_{}[\]()!|~]/g, (ch) => `\\${ch}`);
}
