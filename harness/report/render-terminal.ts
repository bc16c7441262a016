import { forTerminal } from '../core/escape.js';
import { scenarioStatus } from './build-report.js';
import type { Report, ScenarioRecord, ScenarioStatus } from './types.js';

const MARK: Record<ScenarioStatus, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', error: 'ERROR' };

/**
 * The terminal's lines for one finished scenario: its status and counts, then its start error,
 * the start-up warnings it did not expect, and each check that did not pass. Everything that
 * came from a server or a file goes through forTerminal.
 */
export function scenarioLines(s: ScenarioRecord): string[] {
  const counts = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  for (const c of s.checks) counts[c.status]++;
  const status = scenarioStatus(s.checks, s.error !== null);
  const started = s.startupMs === null ? '' : `, Postfix ready in ${(s.startupMs / 1000).toFixed(1)} s`;
  const lines = [`${MARK[status]} ${forTerminal(s.id)}: ${counts.pass} pass, ${counts.fail} fail, ${counts.inconclusive} inconclusive, ${counts.error} error${started}`];
  if (s.error) lines.push(`    ${forTerminal(`${s.error.code}: ${s.error.message}`)}`);
  for (const f of s.findings) if (!f.expected) lines.push(`    postfix, not expected by the scenario: ${forTerminal(f.text, 400)}`);
  for (const c of s.checks) if (c.status !== 'pass') lines.push(`    ${MARK[c.status]} ${forTerminal(c.id)}: ${forTerminal(c.message, 400)}`);
  return lines;
}

/** The closing lines of a run: totals, errors outside any scenario, and where the report went. */
export function summaryLines(r: Report, files: readonly string[]): string[] {
  const c = r.summary.checks;
  const unexpected = r.scenarios.reduce((n, s) => n + s.findings.filter((f) => !f.expected).length, 0);
  return [
    '',
    `${r.scenarios.length} scenario(s), ${c.pass + c.fail + c.inconclusive + c.error} check(s): ${c.pass} pass, ${c.fail} fail, ${c.inconclusive} inconclusive, ${c.error} error${unexpected ? `; ${unexpected} unexpected Postfix warning(s)` : ''}`,
    ...r.infrastructureErrors.map((e) => `infrastructure: ${forTerminal(e)}`),
    ...files.map((f) => `report: ${forTerminal(f, 4000)}`),
  ];
}
