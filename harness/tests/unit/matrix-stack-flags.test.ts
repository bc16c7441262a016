import { describe, expect, it } from 'vitest';
import { oneStackFlag } from '../../cli/args.js';
import { checkCommand } from '../../cli/check-command.js';
import { upGuide, type UpFacts } from '../../cli/up-command.js';
import type { LabError } from '../../core/errors.js';

/** up --stack and check --stack: run --stack's parsing, one stack; the guide names the stack and its versions. */
async function refusal(p: Promise<unknown>): Promise<LabError> {
  try {
    await p;
  } catch (e) {
    return e as LabError;
  }
  throw new Error('expected a refusal');
}

describe('--stack of up and check', () => {
  it('one known stack; absent is undefined', async () => {
    expect(await oneStackFlag(['trixie'], 'up')).toBe('trixie');
    expect(await oneStackFlag([' sid '], 'up')).toBe('sid');
    expect(await oneStackFlag(undefined, 'up')).toBeUndefined();
  });

  it('an unknown name lists the known ones, as run --stack says it', async () => {
    const e = await refusal(oneStackFlag(['potato'], 'up'));
    expect(e.code).toBe('EUSAGE');
    expect(e.message).toBe("--stack: unknown stack 'potato'; the known stacks are bullseye, bookworm, trixie, sid");
  });

  it('several stacks, or all, are refused: up and check start one lab', async () => {
    for (const v of [['trixie', 'sid'], ['all']]) {
      const e = await refusal(oneStackFlag(v, 'check'));
      expect(e.code).toBe('EUSAGE');
      expect(e.message).toMatch(/^check: --stack takes one stack \(bullseye, bookworm, trixie, sid\), not '(trixie,sid|all)'/);
    }
  });

  it('check --stack trixie is taken (no longer refused): a folder without main.cf is still the first error, named as such (the folder is read before any image)', async () => {
    const e = await refusal(checkCommand({ dir: '/nonexistent', profile: undefined, stack: 'trixie', outDir: '/tmp', out: () => {}, say: () => {} }));
    expect(e.message).not.toMatch(/--stack/);
    expect(e.message).toMatch(/--postfix-config \/nonexistent: not a folder/);
  });

  it("up's guide names the stack and the versions its container printed", () => {
    const facts: UpFacts = {
      scenario: { id: 'smtps-465', title: 't' },
      stack: { name: 'trixie', postfix: '3.10.13', openssl: 'OpenSSL 3.5.9 29 Sep 2026' },
      postfix: { node: 'mx', id: 'aac3c7d4263e00', address: '10.213.66.10', hostname: 'mx.lab.test' },
      services: [{ service: 'smtps', port: 465, mode: 'implicit' }],
      caFile: '/tmp/ca.crt',
      client: null,
      outbound: null,
      receivers: [],
    };
    expect(upGuide(facts)[2]).toBe('  stack trixie: Postfix 3.10.13, OpenSSL 3.5.9 29 Sep 2026 (read from the container; the lab client container is the same image)');
    const { stack: _stack, ...withoutStack } = facts;
    expect(upGuide(withoutStack)[2]).toBe('');
  });
});
