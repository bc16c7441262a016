import path from 'node:path';
import { spawn } from 'node:child_process';
import { LabError } from '../core/errors.js';
import { CONTAINERS_DIR } from './paths.js';
import { docker, engineReachable } from './docker-cli.js';

/**
 * Make sure a Docker engine answers. When none does, containers/engine.sh installs and starts
 * one (Debian/Ubuntu as root) or explains how to get one; its exit code 2 becomes EENGINE.
 */
export async function ensureEngine(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<void> {
  if (!(await engineReachable())) {
    log('engine: no Docker engine answers; running containers/engine.sh');
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn('bash', [path.join(CONTAINERS_DIR, 'engine.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', () => resolve(127));
      child.on('close', resolve);
    });
    if (code !== 0 || !(await engineReachable())) {
      throw new LabError('EENGINE', 'no Docker engine is reachable and containers/engine.sh could not start one', {
        detail: 'remedy: install Docker Engine or Podman (see the lines printed by containers/engine.sh above), then run again',
      });
    }
  }
  await configureTestcontainers();
}

/**
 * Testcontainers' Ryuk sidecar must be pulled from a registry, which the lab cannot reach. When
 * its image is not present locally, Ryuk is disabled and the lab cleans up by label itself.
 */
async function configureTestcontainers(): Promise<void> {
  if (process.env.TESTCONTAINERS_RYUK_DISABLED) return;
  const r = await docker(['image', 'ls', '--quiet', 'testcontainers/ryuk'], { timeoutMs: 10_000 });
  if (r.code !== 0 || r.stdout.trim() === '') process.env.TESTCONTAINERS_RYUK_DISABLED = 'true';
}
