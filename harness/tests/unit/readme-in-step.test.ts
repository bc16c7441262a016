import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../cli/commands.js';
import { ERROR_CODES } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../engine/paths.js';

/** The README is the front door: every command, flag and error code the code knows is documented there. */
const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');

describe('README documents what the code has', () => {
  it('every CLI command and flag', () => {
    const missing = COMMANDS.flatMap((c) => [c.name, ...c.flags.filter((f) => f.name !== 'help').map((f) => `--${f.name}`)]).filter((t) => !readme.includes(`\`${t}`) && !readme.includes(` ${t}`));
    expect(missing).toEqual([]);
  });

  it('every error code, with its meaning', () => {
    const missing = Object.entries(ERROR_CODES).filter(([code, info]) => !readme.includes(`| \`${code}\` |`) || !readme.includes(info.meaning)).map(([c]) => c);
    expect(missing).toEqual([]);
  });
});
