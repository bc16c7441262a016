import { forTerminal } from '../core/escape.js';
import type { Change, ChangeKind, ReportDiff, ScenarioDiff } from './report-diff.js';

const MARK: Readonly<Record<ChangeKind, string>> = { regression: 'REGRESSION ', improvement: 'improvement', change: 'change     ', info: 'info       ' };

const where = (c: Change) => `${c.check ?? '(scenario)'}${c.clients.length ? ` [${c.clients.join(', ')}]` : ''}`;

/** One line per change, grouped under its port. Everything from a report (server text included) goes through forTerminal. */
function scenarioLines(s: ScenarioDiff): string[] {
  const listed = s.changes.filter((c) => c.kind !== 'info');
  const info = s.changes.length - listed.length;
  const status = `${s.before ?? 'absent'} → ${s.after ?? 'absent'}`;
  const lines = [`scenario ${forTerminal(s.label)} (${status})${listed.length ? '' : ': no change'}`];
  const ports = [...new Set(listed.map((c) => c.port))];
  for (const port of ports) {
    lines.push(`  ${port === null ? 'port not in the report (enumeration, start-up)' : `port ${port}`}`);
    for (const c of listed.filter((x) => x.port === port)) {
      lines.push(`    ${MARK[c.kind]}  ${forTerminal(where(c))}  ${c.aspect}: ${forTerminal(c.before, 300)} → ${forTerminal(c.after, 300)}  (${forTerminal(c.why)})`);
    }
  }
  if (info) lines.push(`  certificate fingerprints differ in ${info} place(s): the lab issues fresh certificates every run (subject, issuer, key and verification are compared)`);
  return lines;
}

/** The diff for a terminal: a header, each scenario that has changes, and the totals; scenarios without change are counted. */
export function renderDiffText(d: ReportDiff): string {
  const side = (s: ReportDiff['base']) => `${forTerminal(s.file, 1000)} (run ${forTerminal(s.runId)}, exit ${s.exitCode}, ${s.checks.pass} pass, ${s.checks.fail} fail, ${s.checks.inconclusive} inconclusive, ${s.checks.error} error)`;
  const lines = [`BASE ${side(d.base)}`, `HEAD ${side(d.head)}`, ''];
  const changed = d.scenarios.filter((s) => s.changes.some((c) => c.kind !== 'info'));
  for (const s of changed) lines.push(...scenarioLines(s), '');
  const same = d.scenarios.length - changed.length;
  if (same) lines.push(`${same} scenario(s) without change${changed.length ? '' : ` (${d.scenarios.map((s) => forTerminal(s.label)).join(', ')})`}`);
  const n = d.counts;
  lines.push(`${n.regression} regression(s), ${n.improvement} improvement(s), ${n.change} other change(s)${n.info ? `; ${n.info} fresh certificate fingerprint(s) not listed` : ''}`);
  return `${lines.join('\n')}\n`;
}
