import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startVitest, type TestModule, type TestSuite } from 'vitest/node';
import { errorResult } from '../../checks/error-result.js';
import type { CheckResult, Finding, ScenarioRecord } from '../../report/types.js';
import { PLAIN, elapsed, progressLine, scenarioLines, terminalStyle } from '../../report/render-terminal.js';
import ProgressReporter, { type ProgressTerminal } from '../../runner/progress-reporter.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * The run's terminal output on a terminal and off one. The reporter gets its streams and
 * environment through its constructor, so a fake terminal (isTTY true, 80 columns) and a pipe
 * (no isTTY) are the same reporter the CLI builds around process.stdout/stderr.
 */

const ESC = '\x1b';
// The plain lines the README shows under "What a run looks like" (asserted to still be there).
const README_PASS = 'PASS opportunistic-25: 6 pass, 0 fail, 0 inconclusive, 0 error, Postfix ready in 0.7 s';
const README_TYPO = [
  'PASS typo: 1 pass, 0 fail, 0 inconclusive, 0 error, Postfix ready in 2.6 s',
  '    postfix, not expected by the scenario: warning: /etc/postfix/main.cf: unused parameter: smtpd_tls_mandatory_protocol=!SSLv2',
];

const check = (id: string, status: CheckResult['status'], message = ''): CheckResult => ({ ...errorResult({ kind: 'client-handshake', id, title: id, why: '' }, new Error('x')), status, message });
const warning = (text: string): Finding => ({ kind: 'postfix-warning', expected: false, text, raw: `postfix/postfix-script: ${text}` });
const record = (id: string, startupMs: number, checks: CheckResult[], findings: Finding[] = []): ScenarioRecord => ({
  id, title: id, summary: '', seeds: [], startupMs, error: null, findings, checks, logEvents: [], mainCf: null, cleanupProblems: [],
});
const passing = record('opportunistic-25', 700, Array.from({ length: 6 }, (_, i) => check(`c${i}`, 'pass')));
const typo = record('typo', 2600, [check('only', 'pass')], [warning('warning: /etc/postfix/main.cf: unused parameter: smtpd_tls_mandatory_protocol=!SSLv2')]);
const failing = record('submission-587', 900, [check('auth-hidden-before-starttls', 'fail', 'AUTH before STARTTLS'), check('tls-mandatory', 'error', 'ETIMEOUT: no answer'), check('ok', 'pass')]);

/** What vitest hands a reporter, reduced to what the reporter reads: the catalogue suite and its scenario suites. */
function vitestTree(records: readonly ScenarioRecord[]) {
  const catalogue = { type: 'suite', name: 'catalogue', id: 'cat', meta: () => ({}) };
  const suites = records.map((r, i) => ({
    type: 'suite', name: r.id, id: `s${i}`, parent: catalogue,
    meta: () => ({ labScenario: r }),
    children: { allTests: () => r.checks.map((c) => ({ meta: () => ({ labCheck: c }) })) },
  }));
  const module = { children: { allSuites: () => [{ ...catalogue, parent: { type: 'module' } }, ...suites] } };
  return { module: module as unknown as TestModule, suites: suites as unknown as TestSuite[], catalogue: { ...catalogue, parent: { type: 'module' } } as unknown as TestSuite };
}

/** A stream that records what is written, as a terminal (isTTY, columns) or as a pipe. */
function stream(tty: boolean) {
  const chunks: string[] = [];
  return { chunks, text: () => chunks.join(''), ...(tty ? { isTTY: true, columns: 80 } : {}), write: (s: string) => chunks.push(s) };
}

/** One run through the reporter: stdout and stderr both the given kind of stream, a clock moving 1.5 s per event. */
function render(tty: boolean, env: Record<string, string | undefined>, records = [passing, typo, failing]) {
  const stdout = stream(tty);
  const stderr = stream(tty);
  let clock = 0;
  const terminal: ProgressTerminal = { lines: stdout, progress: stderr, env, now: () => (clock += 1500), tickMs: 0 };
  // The CLI's out: the line and a newline on stdout.
  const reporter = new ProgressReporter((l) => stdout.write(`${l}\n`), terminal);
  const tree = vitestTree(records);
  reporter.onTestRunStart();
  reporter.onTestModuleCollected(tree.module);
  reporter.onTestSuiteReady(tree.catalogue);
  for (const s of tree.suites) reporter.onTestSuiteReady(s);
  for (const s of tree.suites) reporter.onTestSuiteResult(s);
  reporter.onTestSuiteResult(tree.catalogue);
  reporter.onTestRunEnd();
  return { stdout: stdout.text(), stderr: stderr.text() };
}

const plainBlock = [README_PASS, ...README_TYPO, 'FAIL submission-587: 1 pass, 1 fail, 0 inconclusive, 1 error, Postfix ready in 0.9 s', '    FAIL auth-hidden-before-starttls: AUTH before STARTTLS', '    ERROR tls-mandatory: ETIMEOUT: no answer'];

describe('not a terminal (a pipe, a file): the plain lines and nothing else', () => {
  it('the README still shows these lines', () => {
    const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8').split('\n');
    for (const line of [README_PASS, ...README_TYPO]) expect(readme).toContain(line);
  });

  it('exactly the documented lines, no escape, no carriage return, no live line', () => {
    const { stdout, stderr } = render(false, {});
    expect(stdout).toBe(`${plainBlock.join('\n')}\n`);
    expect(stderr).toBe('');
  });

  it('NO_COLOR changes nothing off a terminal', () => {
    expect(render(false, { NO_COLOR: '1' })).toEqual(render(false, {}));
  });
});

describe('a terminal (isTTY, 80 columns)', () => {
  it('colours PASS, FAIL and ERROR, and the words between the colours are the plain lines plus each scenario\'s time', () => {
    const { stdout } = render(true, {});
    expect(stdout).toContain(`${ESC}[32mPASS${ESC}[39m opportunistic-25:`);
    expect(stdout).toContain(`${ESC}[31mFAIL${ESC}[39m submission-587:`);
    expect(stdout).toContain(`    ${ESC}[33mERROR${ESC}[39m tls-mandatory:`);
    const words = stdout.replace(/\x1b\[\d+m/g, '').replace(/ \[\d+\.\d s\]$/gm, '');
    expect(words).toBe(`${plainBlock.join('\n')}\n`);
    // The scenario's own time, from its ready to its result on the injected clock.
    expect(stdout).toMatch(/^.*opportunistic-25: .* Postfix ready in 0\.7 s \[\d+\.\d s\]$/m);
  });

  it('a live line on stderr: elapsed time, a bar, counts so far, what is running; cleared at the end', () => {
    const { stderr } = render(true, {});
    const frames = stderr.split('\r').filter((f) => f.trim() !== '');
    // Three running ids do not fit in 79 columns: the line is cut, never wrapped.
    expect(frames.some((f) => /^\d+:\d\d \[-{20}\] 0\/3 scenario\(s\) · running opportunistic-25, typo, …$/.test(f))).toBe(true);
    expect(frames.some((f) => /^\d+:\d\d \[#{13}-{7}\] 2\/3 scenario\(s\) · running submission-587 *$/.test(f))).toBe(true);
    expect(frames.some((f) => /^\d+:\d\d \[#{20}\] 3\/3 scenario\(s\) \(1 fail\) *$/.test(f))).toBe(true);
    // Redrawn with carriage returns and spaces only, and the last thing written blanks it out.
    expect(stderr).not.toContain(ESC);
    expect(stderr).toMatch(/\r +\r$/);
    for (const f of frames) expect(f.length).toBeLessThan(80);
  });

  it('NO_COLOR (non-empty): no escape at all, on stdout or stderr; the live line stays', () => {
    const { stdout, stderr } = render(true, { NO_COLOR: '1' });
    expect(stdout + stderr).not.toContain(ESC);
    expect(stdout.replace(/ \[\d+\.\d s\]$/gm, '')).toBe(`${plainBlock.join('\n')}\n`);
    expect(stderr).toContain('3/3 scenario(s)');
  });

  it('NO_COLOR set but empty does not count (no-color.org)', () => {
    expect(render(true, { NO_COLOR: '' }).stdout).toContain(ESC);
  });

  it('in CI (CI=true), or with TERM=dumb, a terminal gets the plain lines too', () => {
    for (const env of [{ CI: 'true' }, { CI: '1' }, { TERM: 'dumb' }]) {
      const { stdout, stderr } = render(true, env);
      expect(stdout, JSON.stringify(env)).toBe(`${plainBlock.join('\n')}\n`);
      expect(stderr, JSON.stringify(env)).toBe('');
    }
    expect(render(true, { CI: 'false' }).stdout).toContain(ESC);
  });

  it('a run of one or two scenarios has no bar; a long line is cut to fit 80 columns', () => {
    const { stderr } = render(true, {}, [passing]);
    expect(stderr).toMatch(/\d+:\d\d 0\/1 scenario\(s\) · running opportunistic-25/);
    expect(stderr).not.toContain('[');
    const long = progressLine({ done: { pass: 0, fail: 0, inconclusive: 0, error: 0 }, total: 40, running: Array.from({ length: 10 }, (_, i) => `scenario-with-a-long-name-${i}`), elapsedMs: 65_000 }, 80);
    expect(long).toHaveLength(79);
    expect(long).toBe('1:05 [--------------------] 0/40 scenario(s) · running scenario-with-a-long-na…');
  });
});

describe('pieces', () => {
  it('a terminal that says 0 columns (a pty nobody sized) gets a line of 80, not one cut to nothing', () => {
    const err = { ...stream(true), columns: 0 };
    const reporter = new ProgressReporter(() => {}, { lines: stream(true), progress: err, env: {}, now: () => 0, tickMs: 0 });
    const tree = vitestTree([passing]);
    reporter.onTestModuleCollected(tree.module);
    reporter.onTestSuiteReady(tree.suites[0]!);
    expect(err.text()).toContain('0:00 0/1 scenario(s) · running opportunistic-25');
  });

  it('terminalStyle: a terminal only, not in CI, not dumb; colour unless NO_COLOR', () => {
    expect(terminalStyle({}, {})).toBe(PLAIN);
    expect(terminalStyle({ isTTY: false }, {})).toBe(PLAIN);
    expect(terminalStyle({ isTTY: true }, {})).toEqual({ colour: true, live: true });
    expect(terminalStyle({ isTTY: true }, { NO_COLOR: 'yes' })).toEqual({ colour: false, live: true });
    expect(terminalStyle({ isTTY: true }, { CI: 'true' })).toBe(PLAIN);
  });
  it('elapsed: m:ss, h:mm:ss past an hour', () => {
    expect([elapsed(0), elapsed(59_999), elapsed(65_000), elapsed(3_725_000)]).toEqual(['0:00', '0:59', '1:05', '1:02:05']);
  });
  it('server-supplied text keeps its escapes visible in colour too: the only raw escapes are the style\'s', () => {
    const hostile = record('x', 100, [check('c', 'fail', 'banner \x1b[2J')]);
    const lines = scenarioLines(hostile, { colour: true, live: true }).join('\n');
    expect(lines).toContain('banner \\x1b[2J');
    expect(lines.replace(/\x1b\[(3[0-9]|90)m/g, '')).not.toContain(ESC);
  });
});

// A real vitest run (its own config, no lab, no engine) of a fixture shaped like the catalogue,
// with the reporter on a fake terminal: the events arrive as vitest really sends them.
describe('in a real vitest run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-progress-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('each scenario is printed once as it finishes, coloured, with the live line on the fake stderr', async () => {
    const scenario = (id: string, statuses: string[]) => `
  describe.concurrent(${JSON.stringify(id)}, () => {
    beforeAll(async ({}, suite) => {
      suite.meta.labScenario = { id: ${JSON.stringify(id)}, title: '', summary: '', seeds: [], startupMs: 500, error: null, findings: [], mainCf: null, logEvents: [], cleanupProblems: [] };
      await new Promise((r) => setTimeout(r, 50));
    });
${statuses.map((s, i) => `    it.sequential('c${i}', ({ task }) => { task.meta.labCheck = { kind: 'x', id: 'c${i}', title: 'c${i}', why: '', status: '${s}', message: 'said ${s}' }; });`).join('\n')}
  });`;
    fs.writeFileSync(path.join(dir, 'catalogue.test.ts'), `describe('catalogue', () => {${scenario('alpha', ['pass', 'pass'])}${scenario('beta', ['pass', 'fail'])}${scenario('gamma', ['error'])}\n});\n`);
    const stdout = stream(true);
    const stderr = stream(true);
    const reporter = new ProgressReporter((l) => stdout.write(`${l}\n`), { lines: stdout, progress: stderr, env: {} });
    const vitest = await startVitest('test', [], { config: false, root: dir, include: ['catalogue.test.ts'], globals: true, watch: false, reporters: [reporter], pool: 'threads', maxWorkers: 1 });
    await vitest?.close();
    const lines = stdout.text().replace(/\x1b\[\d+m/g, '').replace(/ \[\d+\.\d s\]$/gm, '').trimEnd().split('\n').sort();
    expect(lines).toEqual([
      '    ERROR c0: said error',
      '    FAIL c1: said fail',
      'ERROR gamma: 0 pass, 0 fail, 0 inconclusive, 1 error, Postfix ready in 0.5 s',
      'FAIL beta: 1 pass, 1 fail, 0 inconclusive, 0 error, Postfix ready in 0.5 s',
      'PASS alpha: 2 pass, 0 fail, 0 inconclusive, 0 error, Postfix ready in 0.5 s',
    ]);
    expect(stdout.text()).toContain(`${ESC}[32mPASS${ESC}[39m alpha`);
    expect(stderr.text()).toMatch(/\[#{20}\] 3\/3 scenario\(s\) \(1 fail, 1 error\)/);
    expect(stderr.text()).toMatch(/\r +\r$/);
  }, 60_000);
});
