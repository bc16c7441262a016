import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * No silent switches in CI: every environment variable the harness reads either is unset by
 * .ci/run (it would change what runs or how it is judged) or is a fact about the machine,
 * listed here with the reason it cannot change a verdict. A new variable fails this test
 * until someone decides which it is.
 */
const MACHINE_FACTS: Readonly<Record<string, string>> = {
  PATH: 'where tools are found',
  CI: '.ci/run sets it itself (skips fail the run in CI)',
  LAB_DEBIAN_MIRROR: 'where debootstrap fetches packages; the image tag is the recipe hash either way',
  LAB_NO_PULL: 'whether docker pull is tried for the base image; the recipe hash tags the image either way',
  LAB_STATE_DIR: 'where the dockerd log, build logs and host id are kept',
  LAB_BUILD_DIR: 'scratch folder of the image build',
  LAB_SUBNET_POOL: "the address range of the lab's internal networks on this machine",
  LAB_DOCKERD_WAIT_S: 'how long engine.sh waits for a dockerd it started',
  TESTCONTAINERS_RYUK_DISABLED: 'the lab removes its objects by label whatever Ryuk does',
  NO_COLOR: 'terminal colours only (no-color.org); the lines, the report and the verdicts are the same either way',
  TERM: 'TERM=dumb turns off colour and the live progress line; the lines, the report and the verdicts are the same',
};

function files(dir: string, ext: RegExp): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? (e.name === 'node_modules' || e.name === 'fixtures' ? [] : files(p, ext)) : ext.test(e.name) ? [p] : [];
  });
}

/** Variables read by the harness (TypeScript and the bootstrap) and by the engine script. */
function variablesRead(): Map<string, string> {
  const found = new Map<string, string>();
  const add = (name: string, file: string) => found.has(name) || found.set(name, path.relative(PROJECT_ROOT, file));
  for (const file of files(path.join(PROJECT_ROOT, 'harness'), /\.(ts|mjs)$/)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[['"]([A-Z][A-Z0-9_]*)['"]\])/g)) add(m[1] ?? m[2]!, file);
  }
  const engine = path.join(PROJECT_ROOT, 'containers/engine.sh');
  for (const m of fs.readFileSync(engine, 'utf8').matchAll(/\$\{?(LAB_[A-Z0-9_]*|SMTP_TLS_LAB_[A-Z0-9_]*)/g)) add(m[1]!, engine);
  return found;
}

function unsetByCi(): Set<string> {
  const script = fs.readFileSync(path.join(PROJECT_ROOT, '.ci/run'), 'utf8').replace(/\\\n/g, ' ');
  return new Set([...script.matchAll(/^\s*unset\s+([^\n;#]+)/gm)].flatMap((m) => m[1]!.trim().split(/\s+/)));
}

describe('.ci/run leaves no switch that changes what CI runs', () => {
  it('every variable the harness reads is unset by .ci/run or is a listed fact about the machine', () => {
    const unset = unsetByCi();
    const unexplained = [...variablesRead()].filter(([name]) => !unset.has(name) && !(name in MACHINE_FACTS)).map(([name, file]) => `${name} (read in ${file})`);
    expect(unexplained).toEqual([]);
  });

  it('unsets the switches the issue names, and runs in CI mode', () => {
    const unset = unsetByCi();
    for (const name of ['UPDATE_GOLDEN', 'SMTP_TLS_LAB_SCENARIOS', 'SMTP_TLS_LAB_SCENARIOS_DIR']) expect(unset, name).toContain(name);
    expect(fs.readFileSync(path.join(PROJECT_ROOT, '.ci/run'), 'utf8')).toMatch(/^export CI=true$/m);
  });

  it('the scan finds what it looks for (a scan that finds nothing would pass anything)', () => {
    const read = variablesRead();
    for (const name of ['UPDATE_GOLDEN', 'SMTP_TLS_LAB_RUN_ID', 'LAB_STATE_DIR', 'LAB_ENGINE_NO_INSTALL']) expect([...read.keys()], name).toContain(name);
  });
});
