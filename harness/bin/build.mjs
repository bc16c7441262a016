// The CLI runs as compiled JavaScript from build/ (git-ignored), made from harness/ by tsc.
// Plain Node, no dependencies beyond typescript itself, so the bootstrap can use it before
// anything else is loaded.
//
// build/ sits beside harness/ (rootDir harness, outDir build), so build/engine/paths.js is as
// deep below the project root as harness/engine/paths.ts: every path the harness resolves from
// its own location (the project root, scenarios/, containers/) is the same from the build. Files
// read beside their source (postfix/defaults/, enum/data/) are copied next to the output.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

/** Folders of harness/ that the CLI never loads: the tests (vitest runs them from source) and this folder. */
const NOT_BUILT = new Set(['tests', 'bin']);
/** Files beside harness/ whose change changes the build (package.json's "type" decides ESM or CommonJS output). */
const BUILD_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'];
/** How long a start waits for another process's build before it gives up. */
const BUILD_LOCK_WAIT_MS = 180_000;

export function buildPaths(root) {
  const out = path.join(root, 'build');
  return {
    root,
    src: path.join(root, 'harness'),
    out,
    main: path.join(out, 'cli', 'main.js'),
    /** Written when a build succeeds; its mtime is the time that build started. */
    stamp: path.join(out, '.build-stamp'),
    lock: path.join(out, '.build-lock'),
    tsconfig: path.join(root, 'tsconfig.build.json'),
    tsc: path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
  };
}

/**
 * Why the build must be made again, or null when it is fresh. Fresh means: the stamp exists and
 * no file or folder under harness/ (tests and bin aside), nor package.json, package-lock.json or a tsconfig,
 * is newer than it. Folders count so that a source added, removed or renamed (mv keeps a
 * file's mtime) is seen too. About 250 stat calls: a few milliseconds.
 */
export function staleReason(p) {
  let stampMs;
  try {
    stampMs = fs.statSync(p.stamp).mtimeMs;
  } catch {
    return 'no build yet';
  }
  if (!fs.existsSync(p.main)) return 'build/cli/main.js is missing';
  for (const f of BUILD_INPUTS) {
    const file = path.join(p.root, f);
    if (fs.existsSync(file) && fs.statSync(file).mtimeMs > stampMs) return `${f} changed`;
  }
  const newer = firstNewer(p.src, stampMs, true);
  return newer ? `${path.relative(p.root, newer)} changed` : null;
}

function firstNewer(dir, stampMs, top) {
  if (fs.statSync(dir).mtimeMs > stampMs) return dir;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (top && NOT_BUILT.has(e.name)) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      const hit = firstNewer(full, stampMs, false);
      if (hit) return hit;
    } else if (fs.statSync(full).mtimeMs > stampMs) return full;
  }
  return null;
}

/** Every file under dir, as paths relative to it, skipping the top-level names in skip. */
function filesUnder(dir, skip = new Set(), rel = '') {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    if (!rel && skip.has(e.name)) return [];
    const r = path.join(rel, e.name);
    return e.isDirectory() ? filesUnder(dir, skip, r) : [r];
  });
}

/** Holds an exclusive lock file while fn runs; waits for a live holder, takes over from a dead one. */
function withBuildLock(p, fn) {
  fs.mkdirSync(p.out, { recursive: true });
  const deadline = Date.now() + BUILD_LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = fs.openSync(p.lock, 'wx');
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      const holder = Number(readOr(p.lock, ''));
      if (!holder || !alive(holder)) {
        fs.rmSync(p.lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another process (pid ${holder}) has been building the CLI for over ${BUILD_LOCK_WAIT_MS / 1000} s; remove ${p.lock} if it is stuck`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(p.lock, { force: true });
  }
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

/**
 * Builds when stale; returns what was done. Throws with tsc's own words when tsc fails (then no
 * stamp is written, so the next start tries again).
 */
export function ensureBuild(p, say = () => {}) {
  const reason = staleReason(p);
  if (!reason) return { built: false, reason: null };
  return withBuildLock(p, () => {
    // Another start may have built it while this one waited for the lock.
    const still = staleReason(p);
    if (!still) return { built: false, reason: null };
    say(`smtp-tls-lab: building the CLI into build/ with tsc (${still})`);
    const started = Date.now();
    runTsc(p);
    // tsc's incremental state (build/.tsbuildinfo) knows nothing of outputs removed behind its
    // back, and emits only what changed: if any output is missing, build again from scratch.
    if (sourcesWithoutOutput(p).length > 0) {
      fs.rmSync(path.join(p.out, '.tsbuildinfo'), { force: true });
      runTsc(p);
    }
    copyBesideFiles(p);
    removeOrphans(p);
    const stamp = new Date(started);
    fs.writeFileSync(p.stamp, `built ${new Date().toISOString()} by pid ${process.pid} in ${Date.now() - started} ms (${still})\n`);
    // The stamp's time is the build's start: a source saved during tsc's run is newer, and seen.
    fs.utimesSync(p.stamp, stamp, stamp);
    return { built: true, reason: still, ms: Date.now() - started };
  });
}

/** tsc -p tsconfig.build.json; throws with tsc's own words when it fails. */
function runTsc(p) {
  // noCheck (tsconfig.build.json): emit only; `npm run typecheck` is the type check, and a type
  // error elsewhere must not stop the CLI from starting (as under tsx before).
  // child_process is loaded only here: a start with a fresh build never needs it.
  const { spawnSync } = createRequire(import.meta.url)('node:child_process');
  const r = spawnSync(process.execPath, [p.tsc, '-p', p.tsconfig], { cwd: p.root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${r.status}):\n${`${r.stdout}${r.stderr}`.trim()}`);
}

/** The .ts sources under harness/ (tests and bin aside) whose .js is not in build/. */
function sourcesWithoutOutput(p) {
  return filesUnder(p.src, NOT_BUILT).filter((rel) => rel.endsWith('.ts') && !rel.endsWith('.d.ts') && !fs.existsSync(path.join(p.out, `${rel.slice(0, -3)}.js`)));
}

/** Non-TypeScript files under harness/ (data, Postfix defaults) next to the output that reads them. */
function copyBesideFiles(p) {
  for (const rel of filesUnder(p.src, NOT_BUILT)) {
    if (rel.endsWith('.ts')) continue;
    const to = path.join(p.out, rel);
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(path.join(p.src, rel), to);
  }
}

/** Output whose source is gone, so that the build imports exactly what harness/ holds. */
function removeOrphans(p) {
  for (const rel of filesUnder(p.out)) {
    if (path.basename(rel).startsWith('.')) continue;
    const source = rel.endsWith('.js') ? path.join(p.src, `${rel.slice(0, -3)}.ts`) : path.join(p.src, rel);
    if (!fs.existsSync(source)) fs.rmSync(path.join(p.out, rel), { force: true });
  }
}
