import { describe, expect, it } from 'vitest';
import { forTerminal } from '../../core/escape.js';
import { buildReport, exitCodeFor, scenarioStatus } from '../../report/build-report.js';

describe('terminal escaping of server-supplied text', () => {
  it('neutralises control characters and ANSI escapes, keeps ordinary text', () => {
    expect(forTerminal('220 mx \x1b[31mred\x1b[0m\r\n\x07')).toBe('220 mx \\x1b[31mred\\x1b[0m\\r\\n\\x07');
    expect(forTerminal('caf\u00e9 <script>')).toBe('caf\u00e9 <script>');
    expect(forTerminal('a\u202eb')).toBe('a\\u202eb');
  });
});

describe('run outcome', () => {
  const check = (status: 'pass' | 'fail' | 'inconclusive' | 'error') => ({ status }) as never;
  it('exit code: fail beats lab trouble, lab trouble beats pass', () => {
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 0, error: 0 }, 0)).toBe(0);
    expect(exitCodeFor({ pass: 3, fail: 1, inconclusive: 0, error: 1 }, 0)).toBe(1);
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 1, error: 0 }, 0)).toBe(2);
    expect(exitCodeFor({ pass: 3, fail: 0, inconclusive: 0, error: 0 }, 1)).toBe(2);
  });
  it('a scenario whose checks were all inconclusive is not a pass', () => {
    expect(scenarioStatus([check('inconclusive'), check('inconclusive')], false)).toBe('inconclusive');
    expect(scenarioStatus([check('pass'), check('inconclusive')], false)).toBe('pass');
    expect(scenarioStatus([], true)).toBe('error');
  });
  it('an empty run is an infrastructure error, never a pass', () => {
    const r = buildReport({ runId: 'x', startedAt: new Date(0), finishedAt: new Date(1), postfixImage: null, scenarios: [], infrastructureErrors: [] });
    expect(r.summary.exitCode).toBe(2);
    expect(Object.isFrozen(r)).toBe(true);
  });
});
