import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { docker } from './docker-cli.js';
import { processAlive } from '../core/process-alive.js';
import { LAB_LABEL, OWNER_HOST_LABEL, OWNER_PID_LABEL, OWNER_PID, RUN_ID, RUN_LABEL, SCENARIO_LABEL } from './labels.js';

export interface CleanupReport {
  readonly containers: number;
  readonly networks: number;
  readonly problems: readonly string[];
}


interface Owned {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly run: string;
}

async function list(kind: 'container' | 'network', filters: readonly string[] = []): Promise<Owned[]> {
  const fmt = `{{.ID}}\t{{.Label "${OWNER_PID_LABEL}"}}\t{{.Label "${OWNER_HOST_LABEL}"}}\t{{.Label "${RUN_LABEL}"}}`;
  const f = [`label=${LAB_LABEL}`, ...filters].flatMap((x) => ['--filter', x]);
  const args = kind === 'container' ? ['ps', '-a', ...f, '--format', fmt] : ['network', 'ls', ...f, '--format', fmt];
  const r = await docker(args, { timeoutMs: 30_000 });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, pid, host, run] = l.split('\t');
      return { id: id!, pid: Number(pid || 0), host: host ?? '', run: run ?? '' };
    });
}

/**
 * Which lab objects to remove:
 *  - 'leftovers': those whose owning run is dead (killed with SIGKILL, say), so a concurrent
 *    run on the same engine keeps its own;
 *  - 'run': this run's own (the end-of-run sweep after crashed workers);
 *  - 'all': every lab object except this run's (`smtp-tls-lab clean --all`; plain `clean` is 'leftovers').
 */
export type CleanupScope = 'leftovers' | 'run' | 'all';

/** Remove lab containers and networks, and only those: everything is selected by LAB_LABEL first. */
export async function removeLabObjects(scope: CleanupScope): Promise<CleanupReport> {
  const problems: string[] = [];
  const me = os.hostname();
  const stale = (o: Owned) =>
    scope === 'run' ? o.run === RUN_ID : o.run !== RUN_ID && (scope === 'all' || o.host !== me || !o.pid || (o.pid !== OWNER_PID && !processAlive(o.pid)));
  const containers = (await list('container')).filter(stale);
  if (containers.length) {
    const r = await docker(['rm', '-f', '-v', ...containers.map((c) => c.id)], { timeoutMs: 60_000 });
    if (r.code !== 0) problems.push(`docker rm: ${r.stderr.trim()}`);
  }
  const networks = (await list('network')).filter(stale);
  for (const n of networks) {
    const r = await docker(['network', 'rm', n.id], { timeoutMs: 30_000 });
    if (r.code !== 0) problems.push(`docker network rm ${n.id}: ${r.stderr.trim()}`);
  }
  return { containers: containers.length, networks: networks.length, problems };
}

/** Lab objects that exist right now, optionally only those of one scenario (for tests that prove nothing leaked). */
export async function countLabObjects(filter: { scenario?: string; run?: string } = {}): Promise<{ containers: number; networks: number }> {
  const extra = [...(filter.scenario ? [`label=${SCENARIO_LABEL}=${filter.scenario}`] : []), ...(filter.run ? [`label=${RUN_LABEL}=${filter.run}`] : [])];
  return { containers: (await list('container', extra)).length, networks: (await list('network', extra)).length };
}

/**
 * This run's objects, removed synchronously: for `process.on('exit')`, the one hook that runs
 * however the process ends (vitest, for one, answers SIGINT with process.exit() after 1 ms,
 * before any asynchronous cleanup could finish).
 */
export function removeRunObjectsSync(): { containers: number; networks: number } {
  const ids = (args: string[]) => {
    const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 20_000 });
    return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
  };
  const filter = ['--filter', `label=${LAB_LABEL}`, '--filter', `label=${RUN_LABEL}=${RUN_ID}`];
  const containers = ids(['ps', '-aq', ...filter]);
  if (containers.length) spawnSync('docker', ['rm', '-f', '-v', ...containers], { timeout: 60_000 });
  const networks = ids(['network', 'ls', '-q', ...filter]);
  if (networks.length) spawnSync('docker', ['network', 'rm', ...networks], { timeout: 30_000 });
  return { containers: containers.length, networks: networks.length };
}
