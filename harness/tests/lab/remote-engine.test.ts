import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { childRunEnv } from '../../engine/labels.js';
import { withTimeout } from '../../core/timeouts.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * Testcontainers on "another" engine through DOCKER_HOST: this machine's own engine, reached by
 * another path. The test listens on a socket of its own (/tmp/…/docker.sock) and relays each
 * connection to the engine's socket, counting them; the child `run` gets
 * DOCKER_HOST=unix:///tmp/…/docker.sock and runs in a mount namespace of its own where the
 * default /var/run/docker.sock is /dev/null. So anything in the lab (testcontainers, the docker
 * CLI, cleanup) that assumed the default socket would fail the run, and the relay's count
 * shows the run's engine traffic went through the path it was given.
 *
 * What this does not cover: a truly remote engine's containers are not reachable from this
 * host at their addresses, and outbound scenarios' capturing peers listen on this host at the
 * scenario network's gateway, which such containers cannot reach (README: "DOCKER_HOST").
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-remote-engine-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** This machine's engine, at the default socket (the one the child run cannot see). */
const ENGINE_SOCKET = '/var/run/docker.sock';

/** A unix socket that relays every connection to the engine's socket, byte for byte, and counts them. */
async function relay(at: string): Promise<{ readonly connections: () => number; close(): Promise<void> }> {
  let connections = 0;
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    connections++;
    const engine = net.connect(ENGINE_SOCKET);
    for (const s of [c, engine]) {
      open.add(s);
      s.on('close', () => open.delete(s));
    }
    c.on('error', () => engine.destroy());
    engine.on('error', () => c.destroy());
    c.pipe(engine).pipe(c);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(at, () => resolve()));
  return {
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** argv that runs `command` in a new mount namespace where the default engine socket is /dev/null. */
const withoutDefaultSocket = (command: readonly string[]) => ['unshare', '--mount', 'sh', '-c', 'mount --bind /dev/null /var/run/docker.sock && exec "$@"', 'sh', ...command];

describe('a remote engine through DOCKER_HOST', () => {
  it('smtps-465 runs through a DOCKER_HOST socket at another path, with the default socket hidden from the run', () => childRunsInTurn(async () => {
    // Control: in such a namespace, the default socket (named explicitly) answers nothing.
    const [cmd, ...args] = withoutDefaultSocket(['docker', 'info', '--format', '{{.ServerVersion}}']);
    const control = spawnSync(cmd!, args, { env: { ...process.env, DOCKER_HOST: `unix://${ENGINE_SOCKET}` }, encoding: 'utf8', timeout: 30_000 });
    expect(control.status, `docker info at the hidden default socket: ${control.stdout}${control.stderr}`).not.toBe(0);

    const socket = path.join(tmp, 'docker.sock');
    const proxy = await relay(socket);
    const runId = `remote-engine-${process.pid}`;
    try {
      const [runCmd, ...runArgs] = withoutDefaultSocket([process.execPath, CLI, 'run', '--scenario', 'smtps-465', '--report-dir', path.join(tmp, 'reports')]);
      // Never install or start an engine here: a run that cannot reach its DOCKER_HOST must fail, not fall back.
      const child = spawn(runCmd!, runArgs, { env: childRunEnv({ DOCKER_HOST: `unix://${socket}`, LAB_ENGINE_NO_INSTALL: '1', SMTP_TLS_LAB_RUN_ID: runId }), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await withTimeout('the run through DOCKER_HOST exits', 400_000, new Promise<number | null>((resolve) => child.once('exit', resolve)));
      expect(code, out).toBe(0);
      expect(out).toMatch(/^PASS smtps-465: 3 pass, 0 fail, 0 inconclusive, 0 error/m);
      const report = JSON.parse(fs.readFileSync(path.join(tmp, 'reports', 'latest', 'report.json'), 'utf8')) as { summary: { exitCode: number } };
      expect(report.summary.exitCode).toBe(0);
      // Engine calls of the run (docker CLI and testcontainers: images, network, containers, logs, execs, cleanup).
      expect(proxy.connections()).toBeGreaterThan(10);
      expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
      console.log(`remote engine: smtps-465 passed through DOCKER_HOST=unix://${socket} (${proxy.connections()} engine connections relayed; /var/run/docker.sock was /dev/null for the run)`);
    } finally {
      await proxy.close();
    }
  }), 600_000);
});
