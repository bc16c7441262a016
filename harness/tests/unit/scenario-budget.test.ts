import { describe, expect, it } from 'vitest';
import { LabError } from '../../core/errors.js';
import { ScenarioBudget } from '../../lab/scenario-budget.js';

describe('scenario budget', () => {
  it('work that ends in time passes through; the clock starts at start(), not at creation', async () => {
    const b = new ScenarioBudget('s', 0.2);
    await new Promise((r) => setTimeout(r, 250));
    expect(b.spent()).toBe(false);
    b.start();
    expect(await b.run('check a', Promise.resolve(42))).toBe(42);
  });

  it('work that outlives the budget ends as EDEADLINE naming the scenario, the budget and the step; later steps are not run', async () => {
    const b = new ScenarioBudget('slow-one', 0.1).start();
    const err = await b.run('check stalls', new Promise(() => undefined)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabError);
    expect(err).toMatchObject({ code: 'EDEADLINE', message: expect.stringMatching(/scenario slow-one budget \(timeoutSeconds 0\.1\) during check stalls/) });
    expect((err as LabError).infrastructure).toBe(true);
    expect(b.spent()).toBe(true);
    await expect(b.run('check next', Promise.resolve(1))).rejects.toThrow(/not run: scenario slow-one had spent its budget/);
  });

  it('a step that fails on its own keeps its own error', async () => {
    const b = new ScenarioBudget('s', 5).start();
    await expect(b.run('check x', Promise.reject(new LabError('ETLS', 'handshake failed', { stage: 'handshake' })))).rejects.toMatchObject({ code: 'ETLS' });
  });
});
