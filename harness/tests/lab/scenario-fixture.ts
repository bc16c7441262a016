import path from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { ScenarioSession } from '../../lab/scenario-session.js';
import { loadScenario } from '../../scenario/load.js';

/** A catalogue scenario's lab for the tests of one describe block: started before, stopped after. */
export function useScenarioSession(id: string): () => ScenarioSession {
  let session: ScenarioSession | undefined;
  beforeAll(async () => {
    session = await ScenarioSession.start(loadScenario(path.join(SCENARIOS_DIR, id)), inject('postfixImage'));
  }, 120_000);
  afterAll(async () => {
    await session?.stop();
  });
  return () => {
    if (!session) throw new Error(`scenario ${id} did not start`);
    return session;
  };
}
