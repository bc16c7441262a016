/**
 * "Break it" as data: every scenario names at least one change to its config and exactly the
 * checks that change makes fail. Each change is applied here to real Postfix and every check
 * of the scenario is run: the named checks must fail, every other check must still pass, and
 * none may end as a lab error (a change that breaks the lab teaches nothing). This is what
 * catches a check that cannot fail, and a README that promises what Postfix does not do.
 *
 * Each scenario is broken on the stack it runs on by default: the first it names
 * (`stacks`), else the default stack. A post-quantum or MTA-STS scenario means nothing on
 * bookworm (no ML-KEM in OpenSSL 3.0, no TLS-RPT in Postfix 3.7), so it is broken on its own.
 */
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { startupFindings } from '../../checks/findings.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { applyBreakIt } from '../../scenario/break-it.js';
import { loadCatalogue } from '../../scenario/load.js';
import { DEFAULT_STACK } from '../../core/stacks.js';
import { stackImage } from './stack-image.js';

const entries = loadCatalogue(SCENARIOS_DIR);

describe('break it', () => {
  it('every scenario of the catalogue has at least one break-it change', () => {
    const without = entries.filter((e) => e.scenario && e.scenario.breakIt.length === 0).map((e) => e.id);
    expect(without).toEqual([]);
  });

  for (const entry of entries) {
    const scenario = entry.scenario;
    if (!scenario || scenario.breakIt.length === 0) continue;
    const stack = scenario.stacks?.[0] ?? DEFAULT_STACK;
    describe.concurrent(stack === DEFAULT_STACK ? entry.id : `${entry.id} [${stack}]`, () => {
      for (const change of scenario.breakIt) {
        it(`${change.title} → fails ${change.fails.join(', ')}`, async () => {
          const broken = applyBreakIt(scenario, change);
          const session = await ScenarioSession.start(broken, await stackImage(stack), stack);
          const results = [];
          try {
            const startup = startupFindings(broken, session.startupEvents());
            expect(startup.configError?.message ?? null, 'the change must leave Postfix with TLS (a config error is no verdict)').toBeNull();
            for (const check of broken.checks) results.push(await runCheck(session, check));
          } finally {
            await session.stop();
          }
          const summary = results.map((r) => ({ id: r.id, status: r.status, why: r.status === 'pass' ? '' : r.message.slice(0, 300) }));
          expect(summary.filter((r) => r.status === 'error' || r.status === 'inconclusive'), 'no lab error under a break-it change').toEqual([]);
          expect(summary.filter((r) => r.status === 'fail').map((r) => r.id).sort(), JSON.stringify(summary, null, 1)).toEqual([...change.fails].sort());
        }, 300_000);
      }
    });
  }
});
