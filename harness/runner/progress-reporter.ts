import type { Reporter, TestSuite } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import { scenarioLines } from '../report/render-terminal.js';
import { scenarioRecord } from './records.js';

/**
 * The run's terminal: one block per scenario as it finishes (status, counts, unexpected
 * Postfix warnings, each check that did not pass), rendered from the scenario's record.
 */
export default class ProgressReporter implements Reporter {
  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  onTestSuiteReady(suite: TestSuite): void {
    if (suite.name !== 'catalogue' && !suite.meta().labScenario) this.out(`  … ${forTerminal(suite.name)} starting`);
  }

  onTestSuiteResult(suite: TestSuite): void {
    const record = scenarioRecord(suite);
    if (record) for (const line of scenarioLines(record)) this.out(line);
  }
}
