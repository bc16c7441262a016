import type { Reporter, TestModule, TestSuite } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import { progressLine, scenarioLines, terminalStyle, type TerminalLike, type TerminalStyle } from '../report/render-terminal.js';
import type { ScenarioStatus } from '../report/types.js';
import { scenarioStatus } from '../report/build-report.js';
import { scenarioRecord } from './records.js';

/** The terminal the reporter draws on; the CLI's is process.stdout, process.stderr and process.env. */
export interface ProgressTerminal {
  /** Where `out` puts the scenarios' lines: colour (and each scenario's time) only when it is a terminal. */
  readonly lines: TerminalLike;
  /** Where the live progress line is drawn, only when it is a terminal (stderr: `run | tee` still shows it). */
  readonly progress: TerminalLike & { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds; injectable so a test can read fixed times. */
  readonly now?: () => number;
  /** How often the live line is redrawn, for the elapsed time (0: only when something happens). */
  readonly tickMs?: number;
}

const processTerminal = (): ProgressTerminal => ({ lines: process.stdout, progress: process.stderr, env: process.env });

/** A scenario is a suite directly under the catalogue's one describe (harness/tests/lab/catalogue.test.ts). */
const isScenario = (suite: TestSuite) => suite.parent.type === 'suite' && suite.parent.name === 'catalogue';

/**
 * The run's terminal: one block per scenario as it finishes (status, counts, unexpected
 * Postfix warnings, each check that did not pass), rendered from the scenario's record. Piped,
 * in a file or in CI the blocks are plain lines and nothing else; on a terminal the status
 * words are coloured (unless NO_COLOR) and one live line under the blocks shows the elapsed
 * time, a bar, the counts so far and what is running, redrawn in place with a carriage return.
 */
export default class ProgressReporter implements Reporter {
  private readonly style: TerminalStyle;
  private readonly live: boolean;
  private readonly now: () => number;
  private readonly startedAt: number;
  private readonly running = new Map<string, { id: string; since: number }>();
  private readonly done: Record<ScenarioStatus, number> = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
  private total: number | null = null;
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
    private readonly terminal: ProgressTerminal = processTerminal(),
  ) {
    this.style = terminalStyle(terminal.lines, terminal.env);
    this.live = terminalStyle(terminal.progress, terminal.env).live;
    this.now = terminal.now ?? Date.now;
    this.startedAt = this.now();
  }

  onTestRunStart(): void {
    if (!this.live) return;
    const tick = this.terminal.tickMs ?? 1000;
    if (tick > 0) {
      this.timer = setInterval(() => this.draw(), tick);
      this.timer.unref();
    }
    this.draw();
  }

  onTestModuleCollected(module: TestModule): void {
    const scenarios = [...module.children.allSuites()].filter(isScenario).length;
    if (scenarios) this.total = (this.total ?? 0) + scenarios;
    this.draw();
  }

  onTestSuiteReady(suite: TestSuite): void {
    if (isScenario(suite)) this.running.set(suite.id, { id: suite.name, since: this.now() });
    if (suite.name !== 'catalogue' && !suite.meta().labScenario) this.print([`  … ${forTerminal(suite.name)} starting`]);
    else this.draw();
  }

  onTestSuiteResult(suite: TestSuite): void {
    const record = scenarioRecord(suite);
    const started = this.running.get(suite.id);
    this.running.delete(suite.id);
    if (!record) return this.draw();
    this.done[scenarioStatus(record.checks, record.error !== null)]++;
    // The scenario's own time is for a person watching; piped lines stay exactly the documented ones.
    const took = this.style.live && started ? this.now() - started.since : null;
    this.print(scenarioLines(record, this.style, took));
  }

  onTestRunEnd(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  /** Lines above the live line: take it away, print, draw it again below them. */
  private print(lines: readonly string[]): void {
    this.clear();
    for (const line of lines) this.out(line);
    this.draw();
  }

  private draw(): void {
    if (!this.live) return;
    // A terminal of unknown size (a pty nobody sized) says 0 columns: taken as 80.
    const line = progressLine({ done: this.done, total: this.total, running: [...this.running.values()].map((r) => r.id), elapsedMs: this.now() - this.startedAt }, this.terminal.progress.columns || 80);
    // Spaces over the rest of a longer line drawn before: a carriage return and no escape sequence.
    this.terminal.progress.write(`\r${line.padEnd(this.drawn)}`);
    this.drawn = line.length;
  }

  private clear(): void {
    if (this.drawn === 0) return;
    this.terminal.progress.write(`\r${' '.repeat(this.drawn)}\r`);
    this.drawn = 0;
  }
}
