import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { withFileLock } from '../../engine/file-lock.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-lock-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('file lock between image builders', () => {
  it('a second holder waits for the first and runs after it, woken by the release (not by a poll)', async () => {
    const file = path.join(dir, 'a.lock');
    const order: string[] = [];
    let release!: () => void;
    const first = withFileLock(file, () => new Promise<void>((r) => { order.push('first'); release = () => { order.push('first done'); r(); }; }));
    await new Promise((r) => setImmediate(r));
    const second = withFileLock(file, async () => void order.push('second'));
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first']);
    const released = Date.now();
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'first done', 'second']);
    // The re-check interval is 5 s; waking well before it shows the watch did the work.
    expect(Date.now() - released).toBeLessThan(2_000);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('a lock left by a dead process is taken over at once', async () => {
    const file = path.join(dir, 'b.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    fs.writeFileSync(file, dead);
    expect(await withFileLock(file, async () => 'ran')).toBe('ran');
  });

  it('a lock held past the bound: a named timeout', async () => {
    const file = path.join(dir, 'c.lock');
    fs.writeFileSync(file, String(process.pid));
    await expect(withFileLock(file, async () => 'never', 200)).rejects.toThrow(/timeout 'file-lock .*c\.lock' expired; held by pid/);
    fs.rmSync(file);
  });
});
