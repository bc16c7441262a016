import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * The bootstrap's build step (harness/bin/build.mjs) on a small project of its own in a temp
 * folder: the real tsconfig.json and tsconfig.build.json, the real typescript (node_modules is
 * a link to this checkout's), and a two-module "harness". Every step runs the real tsc.
 * build.mjs is plain JavaScript for the bootstrap, so each call runs in a node of its own, as
 * the bootstrap runs it (never the bootstrap itself here: its npm ci would go through the link).
 */
const BUILD_MODULE = pathToFileURL(path.join(PROJECT_ROOT, 'harness/bin/build.mjs')).href;

interface BuildPaths {
  readonly main: string;
  readonly stamp: string;
  readonly lock: string;
}
type BuildOutcome = { readonly built: false; readonly reason: null } | { readonly built: true; readonly reason: string; readonly ms: number };

/** Calls one export of build.mjs with buildPaths(root) in a fresh node; what it returned, threw and said. */
function callBuild(fn: 'buildPaths' | 'staleReason' | 'ensureBuild'): { result?: unknown; error?: string; said: string[] } {
  const script = [
    `const m = await import(${JSON.stringify(BUILD_MODULE)});`,
    `const p = m.buildPaths(${JSON.stringify(root)});`,
    'const said = [];',
    `try { const result = ${fn === 'buildPaths' ? 'p' : `m.${fn}(p, (l) => said.push(l))`}; console.log(JSON.stringify({ result, said })); }`,
    'catch (e) { console.log(JSON.stringify({ error: e.message, said })); }',
  ].join('\n');
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`build.mjs ${fn}: node exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as { result?: unknown; error?: string; said: string[] };
}
const staleReason = () => callBuild('staleReason').result as string | null;
function ensureBuild(say: (l: string) => void = () => {}): BuildOutcome {
  const r = callBuild('ensureBuild');
  r.said.forEach(say);
  if (r.error !== undefined) throw new Error(r.error);
  return r.result as BuildOutcome;
}

let root: string;
let p: BuildPaths;
const src = (rel: string) => path.join(root, 'harness', rel);
const out = (rel: string) => path.join(root, 'build', rel);
// Times are set, never waited for: every source starts an hour old; "edited after the build"
// puts the stamp half an hour back and the edited file ten minutes back, so that it is newer
// than the stamp and older than the next build's stamp (that build's start, now).
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);
const setTime = (file: string, t: Date) => fs.utimesSync(file, t, t);

function write(rel: string, text: string): void {
  fs.mkdirSync(path.dirname(src(rel)), { recursive: true });
  fs.writeFileSync(src(rel), text);
}

/** As if `file` (a source, a folder, a tsconfig) was the only thing saved after the last build. */
function editedAfterBuild(file: string): void {
  ageEverything(path.join(root, 'harness'));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']) if (fs.existsSync(path.join(root, f))) setTime(path.join(root, f), minutesAgo(60));
  setTime(p.stamp, minutesAgo(30));
  setTime(file, minutesAgo(10));
}

function ageEverything(dir: string): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) ageEverything(full);
    setTime(full, minutesAgo(60));
  }
  setTime(dir, minutesAgo(60));
}

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-build-'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(root, f));
  fs.symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(root, 'node_modules'));
  fs.writeFileSync(path.join(root, 'package.json'), '{ "type": "module" }\n');
  write('core/answer.ts', 'export const ANSWER: number = 41;\n');
  write('cli/main.ts', "import { ANSWER } from '../core/answer.js';\nimport fs from 'node:fs';\nconst data = JSON.parse(fs.readFileSync(new URL('../core/data/extra.json', import.meta.url), 'utf8')) as { n: number };\nconsole.log(ANSWER + data.n);\n");
  write('core/data/extra.json', '{ "n": 1 }\n');
  write('tests/ignored.test.ts', 'this is not TypeScript and is never built\n');
  ageEverything(path.join(root, 'harness'));
  for (const f of ['package.json', 'tsconfig.json', 'tsconfig.build.json']) setTime(path.join(root, f), minutesAgo(60));
  p = callBuild('buildPaths').result as BuildPaths;
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Runs the built main.js as the bootstrap would: plain node, no loader. */
function runBuilt(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [p.main], { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(text.trim()) : reject(new Error(`main.js exit ${code}: ${text}`))));
  });
}

describe('the CLI build (build/ from harness/ with tsc)', () => {
  it('with no build, one is made: JavaScript beside copies of the data files, tests left out; then it is fresh', async () => {
    expect(staleReason()).toBe('no build yet');
    const said: string[] = [];
    const r = ensureBuild((l) => said.push(l));
    expect(r.built).toBe(true);
    expect(said.join('\n')).toMatch(/building the CLI into build\/ with tsc \(no build yet\)/);
    expect(fs.existsSync(out('cli/main.js'))).toBe(true);
    expect(fs.readFileSync(out('core/data/extra.json'), 'utf8')).toBe('{ "n": 1 }\n');
    expect(fs.existsSync(out('tests'))).toBe(false);
    expect(await runBuilt()).toBe('42');
    expect(staleReason()).toBeNull();
    expect(ensureBuild()).toEqual({ built: false, reason: null });
  }, 60_000);

  it('a source saved after the build makes it stale, and the rebuild carries the change', async () => {
    write('core/answer.ts', 'export const ANSWER: number = 99;\n');
    editedAfterBuild(src('core/answer.ts'));
    expect(staleReason()).toBe('harness/core/answer.ts changed');
    expect(ensureBuild().built).toBe(true);
    expect(await runBuilt()).toBe('100');
    expect(staleReason()).toBeNull();
  }, 60_000);

  it('a data file beside the sources counts as a source: its new content is copied', async () => {
    write('core/data/extra.json', '{ "n": 2 }\n');
    editedAfterBuild(src('core/data/extra.json'));
    expect(staleReason()).toBe('harness/core/data/extra.json changed');
    ensureBuild();
    expect(await runBuilt()).toBe('101');
  }, 60_000);

  it('a source moved in with an old mtime (mv keeps it) is seen by its folder, built, and its output removed with it', () => {
    const parked = path.join(root, 'parked.ts');
    fs.writeFileSync(parked, 'export const MOVED = true;\n');
    setTime(parked, minutesAgo(60));
    fs.renameSync(parked, src('core/moved.ts'));
    editedAfterBuild(src('core')); // what the rename did to the folder, at a set time
    expect(staleReason()).toBe('harness/core changed');
    ensureBuild();
    expect(fs.existsSync(out('core/moved.js'))).toBe(true);

    fs.rmSync(src('core/moved.ts'));
    editedAfterBuild(src('core'));
    expect(staleReason()).toBe('harness/core changed');
    ensureBuild();
    expect(fs.existsSync(out('core/moved.js'))).toBe(false);
    expect(fs.existsSync(out('core/answer.js'))).toBe(true);
  }, 60_000);

  it('package-lock.json or a tsconfig newer than the build makes it stale; the tests folder never does', () => {
    fs.writeFileSync(path.join(root, 'package-lock.json'), '{}\n');
    editedAfterBuild(src('tests/ignored.test.ts'));
    setTime(src('tests'), minutesAgo(10));
    expect(staleReason()).toBeNull();
    editedAfterBuild(path.join(root, 'package-lock.json'));
    expect(staleReason()).toBe('package-lock.json changed');
    ensureBuild();
    expect(staleReason()).toBeNull();
    editedAfterBuild(path.join(root, 'tsconfig.build.json'));
    expect(staleReason()).toBe('tsconfig.build.json changed');
    ensureBuild();
  }, 60_000);

  it('a removed build/cli/main.js is rebuilt even though tsc\'s incremental state says nothing changed', async () => {
    fs.rmSync(p.main);
    expect(staleReason()).toBe('build/cli/main.js is missing');
    expect(ensureBuild().built).toBe(true);
    expect(await runBuilt()).toBe('101');
  }, 60_000);

  it('any other output removed is made again by the next build (a source change brings it)', async () => {
    fs.rmSync(out('core/answer.js'));
    editedAfterBuild(src('cli/main.ts'));
    expect(ensureBuild().built).toBe(true);
    expect(fs.existsSync(out('core/answer.js'))).toBe(true);
    expect(await runBuilt()).toBe('101');
  }, 60_000);

  it("a lock left by a process that is gone is taken over; tsc's error stops the build with its words, and no stamp is written", () => {
    fs.writeFileSync(p.lock, '999999999');
    write('core/answer.ts', 'export const ANSWER: number = ;\n');
    editedAfterBuild(src('core/answer.ts'));
    expect(() => ensureBuild()).toThrow(/tsc -p tsconfig.build.json failed \(exit \d+\):[\s\S]*answer\.ts.*Expression expected/);
    expect(fs.existsSync(p.lock)).toBe(false);
    expect(staleReason()).toBe('harness/core/answer.ts changed');
  }, 60_000);
});
