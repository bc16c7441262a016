#!/usr/bin/env node
// Entry of the README's two commands (`npm run lab`, `npm test`) and of the bin.
// Plain Node: on a fresh clone it installs the npm dependencies first, then (re)builds the CLI
// into build/ with tsc when any source is newer than the last build, then runs it in THIS
// process: one Node process, no transpiling at start. The CLI installs and starts the Docker
// engine and builds the lab images on first use; vitest (run, test) transpiles the tests itself.
// Only what every start needs is imported here (child_process only when npm ci must run): each
// module costs milliseconds, and `help` is meant to answer within a few of `node -e 0`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildPaths, ensureBuild } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`smtp-tls-lab: Node ${process.versions.node} is too old; it needs Node 20.19 or newer`);
  process.exit(2);
}

function depsInstalled() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(marker)) return false;
  for (const bin of ['tsc', 'tsx', 'vitest']) if (!fs.existsSync(path.join(root, 'node_modules', '.bin', bin))) return false;
  return !fs.existsSync(lock) || fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs;
}

// Commands that need the Docker engine. On a fresh machine their engine install (apt-get
// install docker.io, dockerd's start) runs side by side with npm ci instead of after it; the
// CLI's own engine check then finds it answering. Both are mostly downloads.
const ENGINE_COMMANDS = new Set(['run', 'test', 'up', 'check', 'bench', 'bench-probe', 'soak']);

if (!depsInstalled()) {
  const { spawn } = await import('node:child_process');
  const finished = (child) => new Promise((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code));
  });
  const engine = ENGINE_COMMANDS.has(process.argv[2] ?? '') && !fs.existsSync('/var/run/docker.sock') && process.env.LAB_ENGINE_NO_INSTALL !== '1'
    ? finished(spawn('bash', [path.join(root, 'containers', 'engine.sh')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] }))
    : null;
  if (engine) console.error('smtp-tls-lab: installing npm dependencies (npm ci) while containers/engine.sh installs and starts the Docker engine');
  else console.error('smtp-tls-lab: installing npm dependencies (npm ci)');
  const npmStatus = await finished(spawn('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] }));
  // The engine script's failure is reported again, with its remedy, by the CLI's own engine check.
  if (engine) await engine;
  if (npmStatus !== 0) {
    console.error('smtp-tls-lab: npm ci failed; check that the npm registry is reachable');
    process.exit(2);
  }
}

// The HTML report's browser test drives Debian's chromium (never `playwright install`, which
// downloads from outside). Only `test` needs it; every other command starts as fast as before.
if (process.argv[2] === 'test' && !fs.existsSync('/usr/bin/chromium') && process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get') && process.env.LAB_ENGINE_NO_INSTALL !== '1') {
  console.error("smtp-tls-lab: installing chromium for the HTML report's browser test (apt-get install chromium)");
  const { spawnSync } = await import('node:child_process');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
    if (!install()) console.error('smtp-tls-lab: apt-get install chromium failed; report-browser.test.ts will fail and say so');
  }
}

const build = buildPaths(root);
try {
  ensureBuild(build, (line) => console.error(line));
} catch (e) {
  console.error(`smtp-tls-lab: the CLI could not be built: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}

// The run id only tells runs apart (the owner pid and host labels say whose objects are whose),
// so Math.random is enough, and spares loading node:crypto on every start.
process.env.SMTP_TLS_LAB_RUN_ID ||= `${Date.now().toString(36)}-${Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0')}`;
process.env.SMTP_TLS_LAB_OWNER_PID ||= String(process.pid);
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

// The CLI in this process: signals reach its own handlers directly (SIGINT 130, SIGTERM 143,
// the run's containers swept), with no parent in between to relay or swallow them.
await import(pathToFileURL(build.main).href);
