/**
 * A test that starts the lab's CLI as a child must give it its own run id (engine/labels.ts
 * childRunEnv): a child that inherits the test run's SMTP_TLS_LAB_RUN_ID sweeps "its" run at
 * the end and so removes every container of the tests still running beside it. This happened
 * (a `check` child took probe-truth's labs down mid-test); this test keeps it from coming back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? testFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []));
}

describe('children that run the lab get their own run id', () => {
  it('every spawn of the CLI in a test passes childRunEnv', () => {
    const bad: string[] = [];
    for (const file of testFiles(path.join(PROJECT_ROOT, 'harness/tests'))) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((l, i) => {
        if (!/\bspawn(Sync)?\(/.test(l)) return;
        const call = lines.slice(i, i + 4).join('\n');
        if (!/\bCLI\b|bootstrap\.mjs|runCmd|withoutDefaultSocket/.test(call)) return;
        if (!/childRunEnv\(/.test(call)) bad.push(`${path.relative(PROJECT_ROOT, file)}:${i + 1}: ${l.trim()}`);
      });
    }
    expect(bad).toEqual([]);
  });
});
