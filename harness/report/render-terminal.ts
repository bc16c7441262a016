import { forTerminal } from '../core/escape.js';
import { scenarioStatus } from './build-report.js';
import type { Report, ScenarioRecord, ScenarioStatus } from './types.js';
import { conversationLine, conversationsOf } from './conversation-view.js';

const MARK: Record<ScenarioStatus, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', error: 'ERROR' };
/** SGR colours of the status words, as in the HTML report: pass green, fail red, error orange (yellow here), inconclusive grey. */
const SGR: Record<ScenarioStatus, string> = { pass: '32', fail: '31', inconclusive: '90', error: '33' };

/**
 * How lines are dressed for the terminal they go to. The words are the same either way: colour
 * only wraps the status words, and `live` only adds a progress line that is redrawn in place.
 */
export interface TerminalStyle {
  /** ANSI colours on the status words. */
  readonly colour: boolean;
  /** A progress line redrawn with a carriage return (never with an escape sequence). */
  readonly live: boolean;
}

/** Plain lines: what a pipe, a file and CI get, and what the README shows. */
export const PLAIN: TerminalStyle = Object.freeze({ colour: false, live: false });

/** The part of a stream the style depends on (a tty.WriteStream has it; a pipe or file has no isTTY). */
export interface TerminalLike {
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * The style for a stream: plain unless it is a terminal and this is not CI (`CI` set to anything
 * but '', 'false' or '0') and `TERM` is not `dumb`; on a terminal, colour unless `NO_COLOR` is set
 * to a non-empty value (no-color.org). The live line needs no escape, so NO_COLOR keeps it.
 */
export function terminalStyle(stream: TerminalLike, env: Readonly<Record<string, string | undefined>>): TerminalStyle {
  const ci = env.CI !== undefined && !['', 'false', '0'].includes(env.CI);
  if (stream.isTTY !== true || ci || env.TERM === 'dumb') return PLAIN;
  return Object.freeze({ colour: env.NO_COLOR === undefined || env.NO_COLOR === '', live: true });
}

const mark = (status: ScenarioStatus, style: TerminalStyle) => (style.colour ? `\x1b[${SGR[status]}m${MARK[status]}\x1b[39m` : MARK[status]);

/**
 * The one line that names a finished scenario: status, id, counts, Postfix's start-up time, and
 * (on a live terminal) how long the scenario took. Every scenario line is built here.
 */
export function scenarioHeadline(s: ScenarioRecord, style: TerminalStyle = PLAIN, tookMs: number | null = null): string {
  const counts = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  for (const c of s.checks) counts[c.status]++;
  const status = scenarioStatus(s.checks, s.error !== null);
  const started = s.startupMs === null ? '' : `, Postfix ready in ${(s.startupMs / 1000).toFixed(1)} s`;
  const took = tookMs === null ? '' : ` [${(tookMs / 1000).toFixed(1)} s]`;
  return `${mark(status, style)} ${forTerminal(s.id)}: ${counts.pass} pass, ${counts.fail} fail, ${counts.inconclusive} inconclusive, ${counts.error} error${started}${took}`;
}

/**
 * The terminal's lines for one finished scenario: its headline, then its start error, the
 * start-up warnings it did not expect, and each check that did not pass. Everything that came
 * from a server or a file goes through forTerminal, so the only escapes are the style's own.
 */
export function scenarioLines(s: ScenarioRecord, style: TerminalStyle = PLAIN, tookMs: number | null = null): string[] {
  const lines = [scenarioHeadline(s, style, tookMs)];
  if (s.error) lines.push(`    ${forTerminal(`${s.error.code}: ${s.error.message}`)}`);
  for (const f of s.findings) if (!f.expected) lines.push(`    postfix, not expected by the scenario: ${forTerminal(f.text, 400)}`);
  for (const c of s.checks) {
    if (c.status === 'pass') continue;
    lines.push(`    ${mark(c.status, style)} ${forTerminal(c.id)}: ${forTerminal(c.message, 400)}`);
    // Who tried to talk to whom, and each side's own words (interop and delivery checks).
    for (const v of conversationsOf(c)) lines.push(`      ${forTerminal(conversationLine(v), 500)}`);
  }
  return lines;
}

/** A run's progress so far, for the live line. */
export interface Progress {
  /** Scenarios finished, by status. */
  readonly done: Readonly<Record<ScenarioStatus, number>>;
  /** Scenarios in the run; null while vitest has not collected them. */
  readonly total: number | null;
  /** Ids of the scenarios started and not finished, in the order they started. */
  readonly running: readonly string[];
  readonly elapsedMs: number;
}

/** From this many scenarios on, the live line has a bar: a run of one or two has nothing to fill. */
export const BAR_FROM_SCENARIOS = 3;
const BAR_WIDTH = 20;

/** m:ss (h:mm:ss past an hour). */
export function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return s >= 3600 ? `${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}` : `${Math.floor(s / 60)}:${two(s % 60)}`;
}

/**
 * The live line: elapsed time, a bar for runs of BAR_FROM_SCENARIOS or more, finished of total
 * with the fails and errors so far, and what is running. Never wider than `columns - 1`, so it
 * cannot wrap (a wrapped line could not be redrawn with a carriage return); no colour, so it
 * reads the same with NO_COLOR.
 */
export function progressLine(p: Progress, columns: number): string {
  const finished = p.done.pass + p.done.fail + p.done.inconclusive + p.done.error;
  const bar = p.total !== null && p.total >= BAR_FROM_SCENARIOS ? `[${'#'.repeat(Math.round((BAR_WIDTH * finished) / p.total)).padEnd(BAR_WIDTH, '-')}] ` : '';
  const bad = [p.done.fail && `${p.done.fail} fail`, p.done.error && `${p.done.error} error`, p.done.inconclusive && `${p.done.inconclusive} inconclusive`].filter(Boolean);
  const running = p.running.length ? ` · running ${p.running.map((id) => forTerminal(id, 80)).join(', ')}` : '';
  const line = `${elapsed(p.elapsedMs)} ${bar}${finished}/${p.total ?? '?'} scenario(s)${bad.length ? ` (${bad.join(', ')})` : ''}${running}`;
  const max = Math.max(10, columns - 1);
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
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
