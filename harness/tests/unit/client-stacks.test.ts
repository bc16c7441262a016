import { describe, expect, it } from 'vitest';
import { SCENARIOS_DIR } from '../../engine/paths.js';
import { catalogueRuns, clientStacks } from '../../runner/selection.js';
import { loadCatalogue } from '../../scenario/load.js';

/** The stacks a run builds up front for its checks' clientStack containers, beside its own. */
describe('clientStacks', () => {
  it("client-stack-key-share (bookworm) names bullseye, trixie and sid in its checks: those are built up front, bookworm is the run's own", () => {
    const runs = catalogueRuns(loadCatalogue(SCENARIOS_DIR, ['client-stack-key-share']), undefined);
    expect(runs.map((r) => r.stack)).toEqual(['bookworm']);
    expect(clientStacks(runs).sort()).toEqual(['bullseye', 'sid', 'trixie']);
  });

  it('a scenario without clientStack adds nothing', () => {
    const runs = catalogueRuns(loadCatalogue(SCENARIOS_DIR, ['opportunistic-25']), undefined);
    expect(clientStacks(runs)).toEqual([]);
  });
});
