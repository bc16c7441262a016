/**
 * The catalogue: the scenarios the runner selected (`inject('labCatalogue')`; under `npm test`
 * nothing is provided and it is every scenario under scenarios/), each against its own real
 * Postfix. Each scenario runs on a stack (runner/selection.ts catalogueRuns: its own first
 * stack or bookworm, or each `--stack` it accepts), one suite per (scenario, stack), on that
 * stack's image. No environment variable changes what runs here. Scenarios run concurrently
 * (bounded by maxConcurrency); the checks of one scenario run in order. Results go into task
 * meta, from which the runner builds the report.
 */
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import type { TaskMeta } from '@vitest/runner';
import { errorResult } from '../../checks/error-result.js';
import { startupFindings } from '../../checks/findings.js';
import { runCheck } from '../../checks/run-check.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { ScenarioBudget } from '../../lab/scenario-budget.js';
import { SCENARIO_FILE_CHECK } from '../../runner/records.js';
import { WHOLE_CATALOGUE, catalogueRuns, clientStacks, runName, runStacks } from '../../runner/selection.js';
import { settle } from '../../runner/settle.js';
import type { ScenarioMeta } from '../../runner/task-meta.js';
import { DEFAULT_SCENARIO_TIMEOUT_S, loadCatalogue } from '../../scenario/load.js';
import { LabError, asLabError } from '../../core/errors.js';
import { readStackVersions } from '../../lab/stack-versions.js';
import { stackImages } from '../../runner/stack-images.js';
import { CLIENT_POOL } from '../../lab/client-pool.js';
import { DEFAULT_STACK, type StackName } from '../../core/stacks.js';
import { withTimeout } from '../../core/timeouts.js';
import { loadProfile } from '../../check/profiles.js';
import { ruleCheckId, ruleResult, rulesFor } from '../../check/profile-results.js';
import { checkedServices, type CheckedService } from '../../check/services.js';
import { probe, type ProbeResult } from '../../enum/probe.js';
import { effectiveConfig } from '../../postfix/effective-config.js';
import { parseMasterCf } from '../../postfix/master-cf.js';
import type { Scenario } from '../../scenario/types.js';

const selection = inject('labCatalogue') ?? WHOLE_CATALOGUE;
const entries = loadCatalogue(selection.scenariosDir, selection.scenarios);
const runs = catalogueRuns(entries, selection.stacks);
const severalStacks = runStacks(runs).length > 1;
// `run --profile`: each scenario's smtpd services are also judged by the profile's rules, one
// test per (service, rule), on one full probe per service (as `check` does for a user's config).
const profile = selection.profile ? loadProfile(selection.profile) : null;

function profiledServices(s: Scenario): CheckedService[] {
  const config = effectiveConfig(s, `scenario ${s.id}`);
  return checkedServices(parseMasterCf(config.masterCf, 'master.cf'), config.items);
}

/**
 * Under `npm test` nothing is provided, so the images of the stacks other than the default one
 * that the catalogue's scenarios name (`stacks: [...]`) are built here, once, before the first
 * scenario (the image lock keeps this and another test file from building one image twice).
 * Under `run` the runner has built them and hands them over in the selection.
 */
const builtHere = new Map<StackName, string | LabError>();
const IMAGE_BUILD_LIMIT_MS = 20 * 60_000;

/** The stack's image (the runner's, the global setup's for the default stack, or one built here), or why there is none. */
function imageOf(stack: StackName): string | LabError {
  const had = selection.images?.[stack];
  if (had?.tag) return had.tag;
  if (had?.error) return new LabError(had.error.code, had.error.message, { stage: had.error.stage, ...(had.error.detail !== undefined ? { detail: had.error.detail } : {}) });
  if (stack === DEFAULT_STACK) return inject('postfixImage');
  return builtHere.get(stack) ?? new LabError('EIMAGE', `no image of stack ${stack} was built for this run (run it with --stack ${stack})`);
}

// Vitest runs sibling suites at once only when each suite is itself marked concurrent, and a
// concurrent suite's tests inherit that flag; `it.sequential` takes it back for the checks.
// (describe.concurrent outside with describe.sequential inside runs the scenarios one by one.)
describe('catalogue', () => {
  // Many scenarios in one process: their client containers move from one to the next (lab/client-pool.ts).
  beforeAll(() => CLIENT_POOL.enable());
  afterAll(() => CLIENT_POOL.drain());
  beforeAll(async () => {
    if (selection.images) return;
    const others = [...runStacks(runs), ...clientStacks(runs)].filter((s) => s !== DEFAULT_STACK);
    const images = await stackImages(others, (stack, l) => process.stderr.write(`lab [${stack}]: ${l}\n`));
    for (const stack of others) {
      const i = images[stack];
      builtHere.set(stack, i?.tag ?? new LabError(i?.error?.code ?? 'EIMAGE', i?.error?.message ?? `no image of stack ${stack}`, { stage: i?.error?.stage ?? null, ...(i?.error?.detail !== undefined ? { detail: i.error.detail } : {}) }));
    }
  }, IMAGE_BUILD_LIMIT_MS);

  for (const run of runs) {
    const { entry, stack } = run;
    describe.concurrent(runName(run, severalStacks), () => {
      let image: string | LabError = new LabError('EINTERNAL', 'the image was not looked up');
      let session: ScenarioSession | null = null;
      // Why the scenario's checks cannot run: its file did not load, its stack's image could not
      // be built, its lab did not start, or Postfix's start-up log shows a config error (such as
      // TLS disabled by a bad setting).
      let cannotRun: LabError | null = entry.error ?? null;
      const budget = new ScenarioBudget(entry.id, entry.scenario?.timeoutSeconds ?? DEFAULT_SCENARIO_TIMEOUT_S);
      // A start that outlives the budget still finishes in the background; it is stopped in afterAll.
      let lateStart: Promise<unknown> = Promise.resolve();
      // vitest's own bounds sit above the budget: the budget, which names itself, always ends first.
      const hardLimitMs = budget.seconds * 1000 + 60_000;
      const meta = (suiteMeta: TaskMeta, patch: Partial<ScenarioMeta>) => {
        suiteMeta.labScenario = { ...(suiteMeta.labScenario as ScenarioMeta), ...patch };
      };

      beforeAll(async ({}, suite) => {
        image = imageOf(stack);
        if (typeof image !== 'string') cannotRun ??= image;
        meta(suite.meta, {
          id: entry.id,
          title: entry.scenario?.title ?? entry.id,
          summary: entry.scenario?.summary ?? '',
          seeds: entry.scenario?.seeds ?? [],
          stack: { name: stack, postfix: null, openssl: null },
          startupMs: null,
          error: cannotRun?.toRecord() ?? null,
          findings: [],
          mainCf: null,
          logEvents: [],
          cleanupProblems: [],
        });
        if (!entry.scenario || typeof image !== 'string') return;
        budget.start();
        const starting = ScenarioSession.start(entry.scenario, image, stack);
        try {
          session = await budget.run('start', starting);
          meta(suite.meta, { startupMs: session.startupMs, mainCf: session.config.mainCf });
          // The stack's versions as its image's containers say them (never a table's); once per image and run.
          meta(suite.meta, { stack: { name: stack, ...(await budget.run('stack versions', readStackVersions(session.postfix, image))) } });
        } catch (err) {
          cannotRun = asLabError(err);
          meta(suite.meta, { error: cannotRun.toRecord() });
          lateStart = starting.then((s) => s.stop(), () => undefined);
          return;
        }
        const startup = startupFindings(entry.scenario, session.startupEvents());
        meta(suite.meta, { findings: startup.findings });
        if (startup.configError) {
          cannotRun = startup.configError;
          meta(suite.meta, { error: startup.configError.toRecord() });
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

      for (const check of entry.scenario?.checks ?? [SCENARIO_FILE_CHECK]) {
        it.sequential(check.id, async ({ task, skip }) => {
          const result = cannotRun || !session || check.kind === SCENARIO_FILE_CHECK.kind
            ? errorResult(check, cannotRun ?? new Error('scenario did not start'))
            : await budget.run(`check ${check.id}`, runCheck(session, check)).catch((err: unknown) => errorResult(check, err));
          task.meta.labCheck = result;
          settle(result, skip);
        }, hardLimitMs);
      }

      if (profile && entry.scenario) {
        const probes = new Map<string, Promise<ProbeResult | LabError>>();
        for (const svc of profiledServices(entry.scenario)) {
          for (const rule of rulesFor(profile, svc)) {
            it.sequential(ruleCheckId(profile, svc, rule), async ({ task, skip }) => {
              const started = Date.now();
              let measured: ProbeResult | LabError;
              if (cannotRun || !session) measured = cannotRun ?? new LabError('ECONTAINER', 'scenario did not start');
              else {
                const live = session;
                let p = probes.get(svc.service);
                if (!p) {
                  const ep = live.postfix.endpoint(svc.service);
                  p = budget.run(`profile probe of ${svc.service}`, probe({ host: ep.host, port: ep.port, mode: svc.mode }, { scope: 'full' })).catch((err: unknown) => asLabError(err));
                  probes.set(svc.service, p);
                }
                measured = await p;
              }
              const result = ruleResult(profile, svc, rule, measured, Date.now() - started);
              task.meta.labCheck = result;
              settle(result, skip);
            }, hardLimitMs);
          }
        }
      }
    });
  }
});
