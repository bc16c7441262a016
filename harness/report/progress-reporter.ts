import type { Reporter, TestSuite } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import '../lab/meta.js';

const MARK: Record<string, string> = { pass: 'PASS', fail: 'FAIL', inconclusive: 'INCONCLUSIVE', error: 'ERROR' };

/**
 * One line per scenario as it finishes, and one per check that did not pass. Every piece of
 * text that came from a server or a file is escaped before it reaches the terminal.
 */
export default class ProgressReporter implements Reporter {
  constructor(private readonly out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)) {}

  onTestSuiteReady(suite: TestSuite): void {
    const meta = suite.meta().labScenario;
    if (suite.name !== 'catalogue' && !meta) this.out(`  … ${forTerminal(suite.name)} starting`);
  }

  onTestSuiteResult(suite: TestSuite): void {
    const meta = suite.meta().labScenario;
    if (!meta) return;
    const checks = [...suite.children.allTests()].map((t) => t.meta().labCheck).filter((c) => c !== undefined);
    const counts = { pass: 0, fail: 0, inconclusive: 0, error: 0 };
    for (const c of checks) counts[c.status]++;
    const status = counts.fail ? 'fail' : counts.error || meta.error ? 'error' : counts.pass === 0 && counts.inconclusive ? 'inconclusive' : 'pass';
    const started = meta.startupMs === null ? '' : `, Postfix ready in ${(meta.startupMs / 1000).toFixed(1)} s`;
    this.out(`${MARK[status]} ${forTerminal(meta.id)}: ${counts.pass} pass, ${counts.fail} fail, ${counts.inconclusive} inconclusive, ${counts.error} error${started}`);
    if (meta.error) this.out(`    ${forTerminal(`${meta.error.code}: ${meta.error.message}`)}`);
    for (const c of checks) if (c.status !== 'pass') this.out(`    ${MARK[c.status]} ${forTerminal(c.id)}: ${forTerminal(c.message, 400)}`);
  }
}
