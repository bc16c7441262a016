import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

/**
 * Compare `actual` with the golden file `file` (JSON values as pretty JSON, strings as text).
 *
 * With UPDATE_GOLDEN=1 the file is rewritten and the test then FAILS: a golden update compared
 * with itself proves nothing, so it can never pass the run that made it. Review the diff
 * (git diff), then run again without UPDATE_GOLDEN.
 */
export function expectGolden(file: string, actual: unknown, env: NodeJS.ProcessEnv = process.env): void {
  const text = typeof actual === 'string' ? actual : `${JSON.stringify(actual, null, 2)}\n`;
  if (env.UPDATE_GOLDEN === '1') {
    const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    throw new Error(`golden ${before === text ? 'rewritten unchanged' : 'updated'}: ${file}: review the diff and rerun without UPDATE_GOLDEN`);
  }
  if (!fs.existsSync(file)) throw new Error(`no golden file ${file}: create it with UPDATE_GOLDEN=1, review it, and rerun without UPDATE_GOLDEN`);
  const golden = fs.readFileSync(file, 'utf8');
  if (typeof actual === 'string') expect(actual, `golden file ${file}`).toBe(golden);
  else expect(actual, `golden file ${file}`).toEqual(JSON.parse(golden));
}
