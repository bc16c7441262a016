import { describe, expect, it } from 'vitest';
import { AwaitableLines } from '../../core/awaitable-lines.js';
import type { LabError } from '../../core/errors.js';
import { LabLineWaitStrategy, type ReadyLineSpec } from '../../engine/lab-container.js';

/** The one readiness strategy of every lab container kind, fed the lines a container prints. */
const lines = () => new AwaitableLines<string>((l) => l, { maxRecords: 100, codes: { ended: 'ECONTAINER', timeout: 'ENOT_READY' }, what: 'test output' });
const SPEC: ReadyLineSpec = {
  waitsFor: "kind-ready (line 'lab-kind: ready')",
  ready: /^lab-kind: ready/,
  failed: /^lab-kind: FAILED |^Traceback/,
  code: 'ESTS',
  who: 'the kind node',
  failure: (line) => `the kind node broke: ${line.replace(/^lab-kind: FAILED /, '')}`,
};
async function outcome(feed: readonly string[], spec: ReadyLineSpec = SPEC, timeoutMs = 200, end = false): Promise<LabError | 'ready'> {
  const out = lines();
  const wait = new LabLineWaitStrategy(() => out, spec).withStartupTimeout(timeoutMs);
  const done = wait.waitUntilReady().then(() => 'ready' as const, (e: unknown) => e as LabError);
  for (const l of feed) out.push(`${l}\n`);
  if (end) out.end();
  return done;
}

describe('LabLineWaitStrategy', () => {
  it('ready on the ready line, also when it came before the wait began', async () => {
    expect(await outcome(['lab-isolate: no route out', 'lab-kind: ready (listening)'])).toBe('ready');
    const out = lines();
    out.push('lab-kind: ready\n');
    await expect(new LabLineWaitStrategy(out, SPEC).waitUntilReady()).resolves.toBeUndefined();
  });

  it("the kind's failure line is its code with its words, quoting the output", async () => {
    const e = await outcome(['starting', 'lab-kind: FAILED port 443 taken']);
    expect(e).toMatchObject({ code: 'ESTS', message: 'the kind node broke: port 443 taken' });
    expect((e as LabError).detail).toContain('starting');
  });

  it("lab-isolate's failure is EISOLATION, whatever the kind", async () => {
    expect(await outcome(['lab-isolate: FAILED iptables missing'])).toMatchObject({ code: 'EISOLATION', message: 'the kind node could not be isolated: FAILED iptables missing' });
  });

  it('a timeout names what it waited for, as the kind\'s code; without a code it is ENOT_READY', async () => {
    const e = await outcome(['still starting'], SPEC, 50);
    expect(e).toMatchObject({ code: 'ESTS' });
    expect((e as LabError).message).toMatch(/^the kind node did not start: .*kind-ready \(line 'lab-kind: ready'\)/);
    const plain = await outcome(['still starting'], { waitsFor: 'plain-ready', ready: /^ready/ }, 50);
    expect(plain).toMatchObject({ code: 'ENOT_READY' });
    expect((plain as LabError).message).toMatch(/plain-ready/);
  });

  it('output that ends before ready is ECONTAINER without a kind code', async () => {
    expect(await outcome(['bye'], { waitsFor: 'plain-ready', ready: /^ready/ }, 1000, true)).toMatchObject({ code: 'ECONTAINER' });
  });
});
