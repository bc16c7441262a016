/**
 * The MTA-STS and TLS-RPT scenarios (scenarios/sts-*, scenarios/tlsrpt-*) on the stack each
 * names first (trixie: Postfix 3.10 with libtlsrpt, postfix-mta-sts-resolver 1.5.0): every check
 * passes against real Postfix, the real resolver, a real HTTPS policy host and the lab DNS, and
 * each break-it change fails exactly the checks it names while every other check still passes.
 * break-it.test.ts runs the catalogue on the default stack (bookworm), where these scenarios
 * cannot run (no libtlsrpt in Postfix 3.7, no python3 in the image), so they are judged here.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../checks/run-check.js';
import { startupFindings } from '../../checks/findings.js';
import type { StackName } from '../../core/stacks.js';
import { ensureImage } from '../../engine/images.js';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { readStackVersions } from '../../lab/stack-versions.js';
import { applyBreakIt } from '../../scenario/break-it.js';
import { loadScenario } from '../../scenario/load.js';
import type { Scenario } from '../../scenario/types.js';

const STS_IDS = fs
  .readdirSync(SCENARIOS_DIR)
  .filter((d) => d.startsWith('sts-') || d.startsWith('tlsrpt-'))
  .sort();

const images = new Map<StackName, Promise<string>>();
function imageOf(stack: StackName): Promise<string> {
  if (!images.has(stack)) {
    const before = [...images.values()];
    images.set(stack, Promise.allSettled(before).then(() => ensureImage('postfix', () => undefined, stack).then((r) => r.tag)));
  }
  return images.get(stack)!;
}

async function runAll(scenario: Scenario, image: string) {
  const session = await ScenarioSession.start(scenario, image);
  try {
    const startup = startupFindings(scenario, session.startupEvents());
    expect(startup.configError?.message ?? null, 'the scenario must leave Postfix with TLS').toBeNull();
    const versions = await readStackVersions(session.postfix);
    const results = [];
    for (const check of scenario.checks) results.push(await runCheck(session, check));
    return { versions, results, summary: results.map((r) => ({ id: r.id, status: r.status, why: r.status === 'pass' ? '' : r.message.slice(0, 400) })) };
  } finally {
    await session.stop();
  }
}

describe('MTA-STS and TLS-RPT scenarios on their own stack', () => {
  it('there are sts scenarios, each naming trixie first', () => {
    expect(STS_IDS).toEqual(expect.arrayContaining(['sts-enforce-valid', 'sts-enforce-mx-mismatch']));
    for (const id of STS_IDS) expect(loadScenario(path.join(SCENARIOS_DIR, id)).stacks?.[0], id).toBe('trixie');
  });

  for (const id of STS_IDS) {
    const scenario = loadScenario(path.join(SCENARIOS_DIR, id));
    const stack = scenario.stacks![0]!;
    describe.concurrent(`${id} [${stack}]`, () => {
      it('every check passes', async () => {
        const { versions, summary } = await runAll(scenario, await imageOf(stack));
        expect(versions.postfix ?? '').toMatch(/^3\.1\d\./);
        expect(summary.filter((r) => r.status !== 'pass'), JSON.stringify(summary, null, 1)).toEqual([]);
      }, 300_000);

      for (const change of scenario.breakIt) {
        it(`break it: ${change.title} → fails ${change.fails.join(', ')}`, async () => {
          const { summary } = await runAll(applyBreakIt(scenario, change), await imageOf(stack));
          expect(summary.filter((r) => r.status === 'error' || r.status === 'inconclusive'), 'no lab error under a break-it change').toEqual([]);
          expect(summary.filter((r) => r.status === 'fail').map((r) => r.id).sort(), JSON.stringify(summary, null, 1)).toEqual([...change.fails].sort());
        }, 300_000);
      }
    });
  }
});
