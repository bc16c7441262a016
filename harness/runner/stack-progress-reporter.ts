import type { TestSuite } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import ProgressReporter from './progress-reporter.js';
import { scenarioRecord } from './records.js';

/**
 * The run's terminal when a run has several stacks: ProgressReporter, unchanged, except that
 * the first line of each scenario's block names its stack after the id
 * (`PASS opportunistic-25 [trixie]: …`). The record is not changed (its id stays the
 * scenario's); only the line on its way out. With one stack it is ProgressReporter as it is.
 */
export default class StackProgressReporter extends ProgressReporter {
  /** The scenario whose block ProgressReporter is writing, and whether its first line has gone out. */
  private block: { readonly id: string; readonly stack: string; first: boolean } | null = null;

  constructor(write: (line: string) => void = (l) => process.stdout.write(`${l}\n`), severalStacks = false) {
    super((line) => write(severalStacks ? this.withStack(line) : line));
  }

  override onTestSuiteResult(suite: TestSuite): void {
    const record = scenarioRecord(suite);
    this.block = record?.stack ? { id: forTerminal(record.id), stack: forTerminal(record.stack.name), first: true } : null;
    try {
      super.onTestSuiteResult(suite);
    } finally {
      this.block = null;
    }
  }

  private withStack(line: string): string {
    const b = this.block;
    if (!b || !b.first) return line;
    b.first = false;
    const at = line.indexOf(`${b.id}:`);
    return at < 0 ? line : `${line.slice(0, at + b.id.length)} [${b.stack}]${line.slice(at + b.id.length)}`;
  }
}
