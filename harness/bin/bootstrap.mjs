#!/usr/bin/env node
// Entry of the README's two commands (`npm run lab`, `npm test`) and of the bin.
// Plain Node, no dependencies: on a fresh clone it installs the npm dependencies first,
// then runs the TypeScript CLI through tsx. The CLI installs and starts the Docker engine
// and builds the lab images on first use.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  console.error(`smtp-tls-lab: Node ${process.versions.node} is too old; it needs Node 20.19 or newer`);
  process.exit(2);
}

function depsInstalled() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(marker) || !fs.existsSync(path.join(root, 'node_modules', '.bin', 'tsx'))) return false;
  return !fs.existsSync(lock) || fs.statSync(marker).mtimeMs >= fs.statSync(lock).mtimeMs;
}

if (!depsInstalled()) {
  console.error('smtp-tls-lab: installing npm dependencies (npm ci)');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error('smtp-tls-lab: npm ci failed; check that the npm registry is reachable');
    process.exit(2);
  }
}

process.env.SMTP_TLS_LAB_RUN_ID ||= `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
process.env.SMTP_TLS_LAB_OWNER_PID ||= String(process.pid);
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

// One Node process with tsx as a loader (not the tsx binary, which relays signals to a child
// of its own and lets it be killed before the lab's SIGINT handler has removed the run's
// containers).
const loader = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs')).href;
const child = spawn(process.execPath, ['--import', loader, path.join(root, 'harness', 'cli', 'main.ts'), ...process.argv.slice(2)], {
  cwd: process.cwd(),
  stdio: 'inherit',
});
// The child is in our process group and gets Ctrl-C itself; a TERM sent to us alone is passed on.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 2 : 0)));
