/**
 * The post-quantum scenarios (scenarios/pq-*) on the stack each names first (trixie, sid): every
 * check passes against that stack's real Postfix, and each break-it change fails exactly the
 * checks it names while every other check still passes. break-it.test.ts runs the catalogue's
 * changes on the default stack's image; these scenarios mean nothing on bookworm (OpenSSL 3.0
 * has no ML-KEM), so they are judged here on their own stack. A fresh machine builds the trixie
 * and sid images once for this file (about 75 s and 95 s).
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

const PQ_IDS = fs
  .readdirSync(SCENARIOS_DIR)
  .filter((d) => d.startsWith('pq-'))
  .sort();

/** The images are built one after another (two cores), and only once per stack. */
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
    return { versions, summary: results.map((r) => ({ id: r.id, status: r.status, why: r.status === 'pass' ? '' : r.message.slice(0, 400) })) };
  } finally {
    await session.stop();
  }
}

describe('post-quantum scenarios on their own stack', () => {
  it('there are pq scenarios, each naming its stacks', () => {
    expect(PQ_IDS).toEqual(expect.arrayContaining(['pq-hybrid-sid', 'pq-hybrid-trixie', 'pq-outbound-sid', 'pq-outbound-trixie']));
    for (const id of PQ_IDS) expect(loadScenario(path.join(SCENARIOS_DIR, id)).stacks?.length, id).toBeGreaterThan(0);
  });

  for (const id of PQ_IDS) {
    const scenario = loadScenario(path.join(SCENARIOS_DIR, id));
    const stack = scenario.stacks![0]!;
    describe.concurrent(`${id} [${stack}]`, () => {
      it('every check passes', async () => {
        const { versions, summary } = await runAll(scenario, await imageOf(stack));
        // The versions the findings were measured on (read from the container, never a table).
        expect(versions.openssl ?? '').toMatch(stack === 'trixie' ? /^OpenSSL 3\.5\./ : /^OpenSSL 3\.[6-9]\./);
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
