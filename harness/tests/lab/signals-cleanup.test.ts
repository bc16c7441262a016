import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { countLabObjects } from '../../engine/cleanup.js';
import { childRunEnv, hostIdentity, LAB_LABEL, OWNER_HOST_LABEL, OWNER_PID_LABEL, RUN_LABEL } from '../../engine/labels.js';
import { withTimeout } from '../../core/timeouts.js';
import { childRunsInTurn } from './child-runs.js';

/**
 * Cleanup when a run is interrupted. Each test starts a real `run` as a child with a run id of
 * its own, waits (event-driven, via `docker events`) until that run has a container, then
 * signals it, and counts the lab objects carrying that run id afterwards. Only objects of the
 * child's run are ever counted or removed, so the run executing this test is not touched.
 */
const CLI = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smtp-tls-lab-signals-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function startRun(runId: string, scenarios: string): ChildProcess {
  // Its own process group (detached), so that a signal to the group reaches every process of
  // the run, as Ctrl-C in a terminal does.
  return spawn(process.execPath, [CLI, 'run', '--scenario', scenarios, '--concurrency', '1', '--report-dir', path.join(tmp, runId)], {
    env: childRunEnv({ SMTP_TLS_LAB_RUN_ID: runId }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves when the first container labelled with this run id starts (docker events, not polling). */
function firstContainerStarted(runId: string): Promise<void> {
  const events = spawn('docker', ['events', '--filter', `label=org.smtp-tls-lab.run=${runId}`, '--filter', 'type=container', '--filter', 'event=start', '--format', '{{.ID}}']);
  return withTimeout(
    `first container of run ${runId} starts`,
    120_000,
    new Promise<void>((resolve) => events.stdout.once('data', () => resolve())),
  ).finally(() => events.kill());
}

function exited(child: ChildProcess): Promise<number | null> {
  return withTimeout(`run ${child.pid} exits after the signal`, 90_000, new Promise((resolve) => child.once('exit', (code) => resolve(code))));
}

describe('an interrupted run leaves nothing behind', () => {
  it('SIGINT to the run (Ctrl-C): exit 130, no containers or networks of the run remain', () => childRunsInTurn(async () => {
    const runId = `sigint-${process.pid}`;
    const child = startRun(runId, 'opportunistic-25,sni');
    await firstContainerStarted(runId);
    expect((await countLabObjects({ run: runId })).containers).toBeGreaterThan(0);
    process.kill(-child.pid!, 'SIGINT');
    expect(await exited(child)).toBe(130);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }), 900_000);

  it('SIGTERM to the run: exit 143, nothing of the run remains', () => childRunsInTurn(async () => {
    const runId = `sigterm-${process.pid}`;
    const child = startRun(runId, 'opportunistic-25,sni');
    await firstContainerStarted(runId);
    process.kill(child.pid!, 'SIGTERM');
    expect(await exited(child)).toBe(143);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
  }), 900_000);

  it('SIGKILL leaves containers behind; the next run removes them and says so', () => childRunsInTurn(async () => {
    const runId = `sigkill-${process.pid}`;
    const child = startRun(runId, 'opportunistic-25,sni');
    await firstContainerStarted(runId);
    process.kill(-child.pid!, 'SIGKILL');
    await exited(child);
    const left = await countLabObjects({ run: runId });
    expect(left.containers + left.networks).toBeGreaterThan(0);
    // The next run (any scenario) finds the dead run's objects by label and owner pid.
    const next = startRun(`after-${runId}`, 'starttls-injection');
    let said = '';
    next.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    next.stdout!.on('data', (d: Buffer) => (said += d.toString()));
    expect(await exited(next)).toBe(0);
    expect(said).toMatch(/removed leftovers of an earlier, killed run: \d+ container\(s\), \d+ network\(s\)/);
    expect(await countLabObjects({ run: runId })).toEqual({ containers: 0, networks: 0 });
    console.log(`SIGKILL: ${left.containers} container(s) and ${left.networks} network(s) left by the killed run; the next run removed them, 0 left`);
  }), 900_000);
});

/** The labels a run owned by `pid` under run `run` on host `host` puts on what it makes. */
function runLabels(run: string, pid: number, host: string = hostIdentity()): string[] {
  const labels = { [LAB_LABEL]: 'true', [RUN_LABEL]: run, [OWNER_PID_LABEL]: String(pid), [OWNER_HOST_LABEL]: host };
  return Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
}

/** A lab-labelled network owned by `pid` under run `run`, as a run would make it. */
function labNetwork(name: string, run: string, pid: number, host?: string): void {
  const r = spawnSync('docker', ['network', 'create', '--internal', ...runLabels(run, pid, host), name], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

/** The pid of a process that has just exited. */
function deadPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
}

describe('smtp-tls-lab clean', () => {
  it("removes what dead runs left and keeps what live runs own (--all is needed for those)", () => childRunsInTurn(async () => {
    const dead = deadPid();
    const deadRun = `clean-dead-${process.pid}`;
    const liveRun = `clean-live-${process.pid}`;
    labNetwork(`smtp-tls-lab-${deadRun}`, deadRun, Number(dead));
    labNetwork(`smtp-tls-lab-${liveRun}`, liveRun, process.pid);
    try {
      const r = spawnSync(process.execPath, [CLI, 'clean'], { env: childRunEnv(), encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      // Any run starting meanwhile (other test files start runs) also removes dead runs' objects,
      // so the count may be 0 here; what must hold is that the dead run's network is gone after.
      expect(r.stderr).toMatch(/clean: removed \d+ lab container\(s\) and \d+ lab network\(s\) of runs no longer alive/);
      expect(r.stderr).toMatch(/clean: kept \d+ container\(s\) and [1-9]\d* network\(s\) of runs in progress/);
      expect(await countLabObjects({ run: deadRun })).toEqual({ containers: 0, networks: 0 });
      expect(await countLabObjects({ run: liveRun })).toEqual({ containers: 0, networks: 1 });
    } finally {
      spawnSync('docker', ['network', 'rm', `smtp-tls-lab-${liveRun}`]);
    }
  }), 900_000);
});

describe('cleanup touches only what the lab made, on this host', () => {
  const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8', timeout: 60_000 });
  const exists = (kind: 'container' | 'network', id: string) => docker(kind, 'inspect', '--format', '{{.Name}}', id).status === 0;

  it("a container started by hand from the lab image, and another host's objects with a dead owner, survive `clean` and a run's start-of-run sweep; a dead run of this host does not", () => childRunsInTurn(async () => {
    const image = inject('postfixImage');
    const dead = deadPid();
    const tag = `${process.pid}-${Date.now().toString(36)}`;
    // Someone's own container from the lab image: the image gives it no lab label any more.
    const byHand = docker('run', '-d', '--network', 'none', '--entrypoint', 'sleep', image, '600').stdout.trim();
    // As one started from an older lab image, which carried the lab label: the label, but no run id.
    const byHandOldImage = docker('create', '--network', 'none', '--label', `${LAB_LABEL}=true`, '--entrypoint', 'sleep', image, '600').stdout.trim();
    // Another machine on the same engine: its pid says nothing here, so its run is not known to be dead.
    const otherHost = 'another-machine/feedfacecafebeef';
    const foreignRun = `foreign-${tag}`;
    labNetwork(`smtp-tls-lab-${foreignRun}`, foreignRun, dead, otherHost);
    const foreignContainer = docker('create', '--network', 'none', ...runLabels(foreignRun, dead, otherHost), '--entrypoint', 'sleep', image, '600').stdout.trim();
    const deadRun = `dead-here-${tag}`;
    try {
      expect(docker('image', 'inspect', '--format', `{{index .Config.Labels "${LAB_LABEL}"}}`, image).stdout.trim()).toBe('');
      expect(docker('inspect', '--format', `{{index .Config.Labels "${LAB_LABEL}"}}`, byHand).stdout.trim()).toBe('');
      for (const id of [byHand, byHandOldImage, foreignContainer]) expect(id).toMatch(/^[0-9a-f]{64}$/);

      labNetwork(`smtp-tls-lab-${deadRun}-1`, deadRun, dead);
      const clean = spawnSync(process.execPath, [CLI, 'clean'], { env: childRunEnv(), encoding: 'utf8', timeout: 60_000 });
      expect(clean.status, clean.stderr).toBe(0);
      const survivors = () => ({
        byHandRunning: docker('inspect', '--format', '{{.State.Running}}', byHand).stdout.trim(),
        byHandOldImage: exists('container', byHandOldImage),
        foreignContainer: exists('container', foreignContainer),
        foreignNetwork: exists('network', `smtp-tls-lab-${foreignRun}`),
      });
      const all = { byHandRunning: 'true', byHandOldImage: true, foreignContainer: true, foreignNetwork: true };
      expect(survivors()).toEqual(all);
      expect(await countLabObjects({ run: deadRun })).toEqual({ containers: 0, networks: 0 });

      // A run's own sweep at its start removes the same, and only the same.
      labNetwork(`smtp-tls-lab-${deadRun}-2`, deadRun, dead);
      const next = spawnSync(process.execPath, [CLI, 'run', '--scenario', 'starttls-injection', '--report-dir', path.join(tmp, `sweep-${tag}`)], {
        env: childRunEnv({ SMTP_TLS_LAB_RUN_ID: `sweep-${tag}` }),
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(next.status, next.stdout + next.stderr).toBe(0);
      // (Which sweep removed the dead run's network, this one or one of a run beside it, does not matter.)
      expect(survivors()).toEqual(all);
      expect(await countLabObjects({ run: deadRun })).toEqual({ containers: 0, networks: 0 });
      expect(await countLabObjects({ host: otherHost })).toEqual({ containers: 1, networks: 1 });
    } finally {
      docker('rm', '-f', byHand, byHandOldImage, foreignContainer);
      docker('network', 'rm', `smtp-tls-lab-${foreignRun}`);
    }
  }), 900_000);
});
