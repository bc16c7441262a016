import { describe, expect, it } from 'vitest';
import { shardFlag } from '../../cli/args.js';
import { LabError } from '../../core/errors.js';
import { shardIds } from '../../runner/selection.js';

/** `run --shard i/n`: the selected ids sorted and dealt round-robin (harness/runner/selection.ts). */
const IDS = ['sni', 'smtps-465', 'opportunistic-25', 'certificates', 'submission-587', 'log-levels', 'cipher-policy-seed000'];

describe('shardIds', () => {
  it('sorted ids dealt round-robin: shard i gets positions i-1, i-1+n, …', () => {
    // sorted: certificates, cipher-policy-seed000, log-levels, opportunistic-25, smtps-465, sni, submission-587
    expect(shardIds(IDS, { index: 1, count: 3 })).toEqual(['certificates', 'opportunistic-25', 'submission-587']);
    expect(shardIds(IDS, { index: 2, count: 3 })).toEqual(['cipher-policy-seed000', 'smtps-465']);
    expect(shardIds(IDS, { index: 3, count: 3 })).toEqual(['log-levels', 'sni']);
  });

  it('the same split whatever order the ids come in (every CI job computes the same shards)', () => {
    const shuffled = [...IDS].reverse();
    for (let i = 1; i <= 4; i++) expect(shardIds(shuffled, { index: i, count: 4 })).toEqual(shardIds(IDS, { index: i, count: 4 }));
  });

  it('for every n, the shards are disjoint, cover every id once, and differ in size by at most one', () => {
    for (let n = 1; n <= IDS.length + 2; n++) {
      const shards = Array.from({ length: n }, (_, k) => shardIds(IDS, { index: k + 1, count: n }));
      expect(shards.flat().sort()).toEqual([...IDS].sort());
      const sizes = shards.map((s) => s.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it('1/1 is the whole selection; a shard past the number of ids is empty (the CLI refuses it)', () => {
    expect(shardIds(IDS, { index: 1, count: 1 })).toEqual([...IDS].sort());
    expect(shardIds(['a', 'b'], { index: 3, count: 3 })).toEqual([]);
  });
});

describe('--shard i/n', () => {
  it('takes i/n with 1 ≤ i ≤ n', () => {
    expect(shardFlag('1/2', 'run')).toEqual({ index: 1, count: 2 });
    expect(shardFlag('5/5', 'run')).toEqual({ index: 5, count: 5 });
    expect(shardFlag(undefined, 'run')).toBeUndefined();
  });

  it.each(['0/2', '3/2', '1/0', '1', 'a/b', '1/2/3', '-1/2', ' 1/2'])('refuses %j as a usage error naming the flag and an example', (v) => {
    let e: unknown;
    try {
      shardFlag(v, 'run');
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(LabError);
    expect((e as LabError).code).toBe('EUSAGE');
    expect((e as LabError).message).toMatch(/^run: --shard must be i\/n with 1 ≤ i ≤ n .*e\.g\. --shard 1\/2/);
  });
});
