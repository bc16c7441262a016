import { forHtml } from '../core/escape.js';
import type { ChangeKind, ReportDiff } from './report-diff.js';

const MARK: Readonly<Record<ChangeKind, string>> = { regression: '🔴 **regression**', improvement: '🟢 improvement', change: '⚪ change', info: 'info' };

/**
 * Text for a markdown table cell: markup characters as entities (GitHub renders HTML in
 * comments), pipes escaped, line breaks and control characters made visible (forHtml), never
 * truncated silently: long values are cut with an ellipsis at `max`.
 */
export function mdCell(text: string, max = 400): string {
  const cut = [...text].length > max ? `${[...text].slice(0, max).join('')}…` : text;
  return forHtml(cut).replace(/\r?\n/g, ' ').replace(/\|/g, '\\|').replace(/`/g, '&#96;').replace(/\*/g, '\\*').replace(/_/g, '\\_');
}

/** The diff as markdown for a pull-request comment or a job summary: a headline and one table of every change but fingerprints. */
export function renderDiffMarkdown(d: ReportDiff): string {
  const n = d.counts;
  const side = (s: ReportDiff['base']) => `\`${mdCell(s.runId)}\` (exit ${s.exitCode}: ${s.checks.pass} pass, ${s.checks.fail} fail, ${s.checks.inconclusive} inconclusive, ${s.checks.error} error)`;
  const lines = [
    '### smtp-tls-lab diff',
    '',
    `BASE ${side(d.base)} → HEAD ${side(d.head)}`,
    '',
    `**${n.regression} regression(s)**, ${n.improvement} improvement(s), ${n.change} other change(s)`,
    '',
  ];
  const rows = d.scenarios.flatMap((s) => s.changes.filter((c) => c.kind !== 'info'));
  if (rows.length === 0) lines.push('No change.');
  else {
    lines.push('| | scenario | port | check | clients | what | before | after | why |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const c of rows) {
      lines.push(`| ${MARK[c.kind]} | ${mdCell(c.scenario)} | ${c.port ?? '—'} | ${mdCell(c.check ?? '—')} | ${mdCell(c.clients.join(', ') || '—')} | ${c.aspect} | ${mdCell(c.before)} | ${mdCell(c.after)} | ${mdCell(c.why)} |`);
    }
  }
  if (n.info) lines.push('', `${n.info} certificate fingerprint change(s) not listed: the lab issues fresh certificates every run.`);
  return `${lines.join('\n')}\n`;
}
