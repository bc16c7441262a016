/**
 * The catalogue: every scenario under scenarios/ (or those named in SMTP_TLS_LAB_SCENARIOS),
 * each against its own real Postfix. Scenarios run concurrently (bounded by maxConcurrency);
 * the checks of one scenario run in order. Results go into task meta for the reporters.
 */
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import type { TaskMeta } from '@vitest/runner';
import { runCheck } from '../../checks/run-check.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { errorResult, SCENARIO_FILE_CHECK, settle } from '../../lab/settle.js';
import type { ScenarioMeta } from '../../lab/meta.js';
import { DEFAULT_SCENARIO_TIMEOUT_S, loadCatalogue } from '../../scenario/load.js';
import { ScenarioBudget } from '../../lab/scenario-budget.js';
import { asLabError, type LabError } from '../../core/errors.js';
import { withTimeout } from '../../core/timeouts.js';
import '../../lab/meta.js';

const root = process.env.SMTP_TLS_LAB_SCENARIOS_DIR ?? SCENARIOS_DIR;
const only = (process.env.SMTP_TLS_LAB_SCENARIOS ?? '').split(',').filter(Boolean);
const entries = loadCatalogue(root, only);

// Vitest runs sibling suites at once only when each suite is itself marked concurrent, and a
// concurrent suite's tests inherit that flag; `it.sequential` takes it back for the checks.
// (describe.concurrent outside with describe.sequential inside runs the scenarios one by one.)
describe('catalogue', () => {
  for (const entry of entries) {
    describe.concurrent(entry.id, () => {
      let session: ScenarioSession | null = null;
      let startError: LabError | null = entry.error;
      const budget = new ScenarioBudget(entry.id, entry.scenario?.timeoutSeconds ?? DEFAULT_SCENARIO_TIMEOUT_S);
      // A start that outlives the budget still finishes in the background; it is stopped in afterAll.
      let lateStart: Promise<unknown> = Promise.resolve();
      // vitest's own bounds sit above the budget: the budget, which names itself, always ends first.
      const hardLimitMs = budget.seconds * 1000 + 60_000;
      const meta = (suiteMeta: TaskMeta, patch: Partial<ScenarioMeta>) => {
        suiteMeta.labScenario = { ...(suiteMeta.labScenario as ScenarioMeta), ...patch };
      };

      beforeAll(async ({}, suite) => {
        meta(suite.meta, {
          id: entry.id,
          title: entry.scenario?.title ?? entry.id,
          summary: entry.scenario?.summary ?? '',
          seeds: entry.scenario?.seeds ?? [],
          startupMs: null,
          image: inject('postfixImage'),
          error: entry.error?.toRecord() ?? null,
          mainCf: null,
          logEvents: [],
          cleanupProblems: [],
        });
        if (!entry.scenario) return;
        budget.start();
        const starting = ScenarioSession.start(entry.scenario, inject('postfixImage'));
        try {
          session = await budget.run('start', starting);
          meta(suite.meta, { startupMs: session.startupMs, mainCf: session.config.mainCf });
        } catch (err) {
          startError = asLabError(err);
          meta(suite.meta, { error: startError.toRecord() });
          lateStart = starting.then((s) => s.stop(), () => undefined);
        }
      }, hardLimitMs);

      afterAll(async ({}, suite) => {
        // Bounded like everything else; the end-of-run sweep removes whatever this leaves.
        await withTimeout(`stop of ${entry.id}'s start that outlived its budget`, 90_000, lateStart).catch(() => undefined);
        if (!session) return;
        const logEvents = session.postfix.log.all();
        const problems = await session.stop();
        meta(suite.meta, { logEvents, cleanupProblems: problems });
      }, 120_000);

      const checks = entry.scenario?.checks ?? [SCENARIO_FILE_CHECK];
      for (const check of checks) {
        it.sequential(check.id, async ({ task, skip }) => {
          const result = !session || !('service' in check)
            ? errorResult(check, startError ?? new Error('scenario did not start'))
            : await budget.run(`check ${check.id}`, runCheck(session, check)).catch((err: unknown) => errorResult(check, err));
          task.meta.labCheck = result;
          settle(result, skip);
        }, hardLimitMs);
      }
    });
  }
});
