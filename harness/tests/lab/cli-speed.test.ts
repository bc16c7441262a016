import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';

/**
 * How the CLI starts: one plain Node process running build/ (compiled by the bootstrap), each
 * command loading only its own modules. What a process loads is read with a module hook
 * (--import, a resolve hook that writes every resolved URL to a file), not inferred from the
 * sources. No timing is asserted here: `npm run bench` prints the figures.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-cli-speed-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/**
 * A module hook that writes every URL the process resolves to `log`, one a line: the path is
 * written into the hook itself (an environment variable would be a switch the harness reads).
 */
function loadRecorder(log: string): string {
  const file = `${log}.hook.mjs`;
  const hooks = [
    'import { appendFileSync } from "node:fs";',
    'export async function resolve(specifier, context, next) {',
    '  const r = await next(specifier, context);',
    `  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");`,
    '  return r;',
    '}',
  ].join('\n');
  fs.writeFileSync(file, `import { register } from 'node:module';\nregister('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));\n`);
  return file;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function node(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let logs = 0;
/** Runs the CLI under the hook; returns the run and every module URL it resolved. */
async function cliLoads(args: readonly string[], entry = CLI): Promise<Run & { loaded: readonly string[] }> {
  const log = path.join(tmp, `loads-${++logs}.txt`);
  fs.writeFileSync(log, '');
  const r = await node(['--import', loadRecorder(log), entry, ...args]);
  return { ...r, loaded: [...new Set(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean))] };
}

/** What a command that never touches Docker or mail must not load. */
const HEAVY = [/\/node_modules\/(testcontainers|vitest|vite|nodemailer|dockerode|tsx)\//, /\/build\/(engine|lab|runner|postfix|certs|checks|clients|scenario|report|bench)\//];
const heavyIn = (loaded: readonly string[]) => loaded.filter((u) => HEAVY.some((re) => re.test(u)));

/** A loopback port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the CLI starts as one plain Node process and loads only what the command needs', () => {
  it('help: the built CLI in this process (no tsx, no child process), only the CLI\'s own modules', async () => {
    const r = await cliLoads(['help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: smtp-tls-lab <command>/);
    // The hook saw the build run (so an empty "heavy" list below means something).
    expect(r.loaded).toContain(`file://${path.join(PROJECT_ROOT, 'build/cli/main.js')}`);
    expect(r.loaded).toContain(`file://${path.join(PROJECT_ROOT, 'build/cli/commands.js')}`);
    expect(heavyIn(r.loaded)).toEqual([]);
    expect(r.loaded.filter((u) => u.endsWith('.ts'))).toEqual([]);
    // A second process would need child_process; a start with a fresh build never loads it.
    if (!/building the CLI/.test(r.stderr)) expect(r.loaded).not.toContain('node:child_process');
  }, 180_000);

  it('usage errors (an unknown command, a bad flag value) exit 2 with EUSAGE, loading nothing heavy', async () => {
    const unknown = await cliLoads(['no-such-command']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/EUSAGE: unknown command 'no-such-command'/);
    expect(unknown.stderr).toMatch(/^ {2}usage: smtp-tls-lab <command>/m);
    expect(heavyIn(unknown.loaded)).toEqual([]);
    const badFlag = await cliLoads(['run', '--concurrency', 'none']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/EUSAGE: run: --concurrency must be a whole number/);
    expect(heavyIn(badFlag.loaded)).toEqual([]);
  }, 180_000);

  it('probe loads the probe engine and none of testcontainers, vitest, nodemailer or the lab engine', async () => {
    const port = await closedPort();
    const r = await cliLoads(['probe', `127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/probe: ECONNECTION at tcp: cannot connect to 127\.0\.0\.1:\d+/);
    expect(r.loaded).toContain(`file://${path.join(PROJECT_ROOT, 'build/enum/probe.js')}`);
    expect(heavyIn(r.loaded)).toEqual([]);
  }, 180_000);

  it('the bin (harness/bin/smtp-tls-lab.mjs) is the same single process', async () => {
    const r = await cliLoads(['help'], path.join(PROJECT_ROOT, 'harness/bin/smtp-tls-lab.mjs'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: smtp-tls-lab <command>/);
    expect(heavyIn(r.loaded)).toEqual([]);
  }, 180_000);
});

describe('a checkout with no build yet', () => {
  it('the first start builds the CLI and answers; the next start finds the build fresh and does not build', async () => {
    // A copy of what a clone holds (harness without its tests, the package and tsconfig files),
    // with this checkout's node_modules linked in so that no npm ci is needed. npm ci through
    // that link would empty THIS checkout's node_modules, so the copy's package-lock.json is
    // made older than npm's install marker, and the test refuses to start unless the bootstrap
    // will see the dependencies as installed (the marker and the three binaries present).
    const modules = path.join(PROJECT_ROOT, 'node_modules');
    const marker = path.join(modules, '.package-lock.json');
    for (const f of [marker, ...['tsc', 'tsx', 'vitest'].map((b) => path.join(modules, '.bin', b))]) expect(fs.existsSync(f), `${f} is missing: run npm ci first`).toBe(true);
    const clone = path.join(tmp, 'clone');
    fs.mkdirSync(clone);
    fs.cpSync(path.join(PROJECT_ROOT, 'harness'), path.join(clone, 'harness'), { recursive: true, preserveTimestamps: true, filter: (from) => !from.startsWith(path.join(PROJECT_ROOT, 'harness/tests')) });
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) fs.cpSync(path.join(PROJECT_ROOT, f), path.join(clone, f), { preserveTimestamps: true });
    const beforeInstall = new Date(fs.statSync(marker).mtimeMs - 3_600_000);
    fs.utimesSync(path.join(clone, 'package-lock.json'), beforeInstall, beforeInstall);
    fs.symlinkSync(modules, path.join(clone, 'node_modules'));
    const entry = path.join(clone, 'harness/bin/bootstrap.mjs');
    expect(fs.existsSync(path.join(clone, 'build'))).toBe(false);

    const first = await cliLoads(['help'], entry);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/smtp-tls-lab: building the CLI into build\/ with tsc \(no build yet\)/);
    expect(first.stderr).not.toMatch(/npm ci/);
    expect(first.stdout).toMatch(/^usage: smtp-tls-lab <command>/);
    expect(first.loaded).toContain(`file://${path.join(clone, 'build/cli/main.js')}`);
    // Files read beside their source came along.
    expect(fs.existsSync(path.join(clone, 'build/enum/data/cipher-suites.json'))).toBe(true);
    expect(fs.readdirSync(path.join(clone, 'build/postfix/defaults')).sort()).toEqual(fs.readdirSync(path.join(PROJECT_ROOT, 'harness/postfix/defaults')).sort());

    const second = await cliLoads(['probe', `127.0.0.1:${await closedPort()}`], entry);
    expect(second.stderr).not.toMatch(/building the CLI/);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/probe: ECONNECTION/);
    expect(second.loaded).not.toContain('node:child_process');
  }, 300_000);
});
