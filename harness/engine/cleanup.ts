import { spawnSync } from 'node:child_process';
import { docker } from './docker-cli.js';
import { processAlive } from '../core/process-alive.js';
import { hostIdentity, LAB_LABEL, OWNER_HOST_LABEL, OWNER_PID_LABEL, OWNER_PID, RUN_ID, RUN_LABEL, SCENARIO_LABEL } from './labels.js';

export interface CleanupReport {
  readonly containers: number;
  readonly networks: number;
  readonly problems: readonly string[];
}

/** A container or network the lab made: it has LAB_LABEL and a run id. */
export interface LabObject {
  readonly id: string;
  readonly pid: number;
  readonly host: string;
  readonly run: string;
}

/**
 * Only objects with LAB_LABEL *and* a run id are the lab's. Docker's label filter selects by
 * key, so a container started by hand from an older lab image (which carried LAB_LABEL) is
 * filtered out here by its missing run id.
 */
const MADE_BY_THE_LAB = [`label=${LAB_LABEL}`, `label=${RUN_LABEL}`];

async function list(kind: 'container' | 'network', filters: readonly string[] = []): Promise<LabObject[]> {
  const fmt = `{{.ID}}\t{{.Label "${OWNER_PID_LABEL}"}}\t{{.Label "${OWNER_HOST_LABEL}"}}\t{{.Label "${RUN_LABEL}"}}`;
  const f = [...MADE_BY_THE_LAB, ...filters].flatMap((x) => ['--filter', x]);
  const args = kind === 'container' ? ['ps', '-a', ...f, '--format', fmt] : ['network', 'ls', ...f, '--format', fmt];
  const r = await docker(args, { timeoutMs: 30_000 });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id, pid, host, run] = l.split('\t');
      return { id: id!, pid: Number(pid || 0), host: host ?? '', run: run ?? '' };
    })
    .filter((o) => o.run !== '');
}

/**
 * Which lab objects to remove:
 *  - 'leftovers': those of runs of THIS host whose owner process is dead (killed with
 *    SIGKILL, say); a live run, and any run of another machine on the same engine, keeps its own;
 *  - 'run': this run's own (the end-of-run sweep after crashed workers);
 *  - 'all': every lab object of this host, live runs included, except this run's
 *    (`smtp-tls-lab clean --all`; plain `clean` is 'leftovers'). Another host's runs are
 *    never touched: only that host can tell whether they are alive.
 */
export type CleanupScope = 'leftovers' | 'run' | 'all';

/** Whether a lab object is to be removed in this scope. Objects without a run id never reach here. */
export function selectedForCleanup(o: LabObject, scope: CleanupScope, me: string = hostIdentity()): boolean {
  if (o.host !== me) return false;
  if (scope === 'run') return o.run === RUN_ID;
  if (o.run === RUN_ID) return false;
  if (scope === 'all') return true;
  // An owner pid of 0 or none says nothing about liveness: such an object is not known to be dead.
  return o.pid > 0 && o.pid !== OWNER_PID && !processAlive(o.pid);
}

/** Remove lab containers and networks, and only those: objects with LAB_LABEL, a run id and this host's identity. */
export async function removeLabObjects(scope: CleanupScope): Promise<CleanupReport> {
  const problems: string[] = [];
  const containers = (await list('container')).filter((o) => selectedForCleanup(o, scope));
  if (containers.length) {
    const r = await docker(['rm', '-f', '-v', ...containers.map((c) => c.id)], { timeoutMs: 60_000 });
    if (r.code !== 0) problems.push(`docker rm: ${r.stderr.trim()}`);
  }
  const networks = (await list('network')).filter((o) => selectedForCleanup(o, scope));
  for (const n of networks) {
    const r = await docker(['network', 'rm', n.id], { timeoutMs: 30_000 });
    if (r.code !== 0) problems.push(`docker network rm ${n.id}: ${r.stderr.trim()}`);
  }
  return { containers: containers.length, networks: networks.length, problems };
}

/** Lab objects that exist right now, optionally only those of one scenario, run or host (for tests that prove nothing leaked). */
export async function countLabObjects(filter: { scenario?: string; run?: string; host?: string } = {}): Promise<{ containers: number; networks: number }> {
  const extra = [
    ...(filter.scenario ? [`label=${SCENARIO_LABEL}=${filter.scenario}`] : []),
    ...(filter.run ? [`label=${RUN_LABEL}=${filter.run}`] : []),
    ...(filter.host ? [`label=${OWNER_HOST_LABEL}=${filter.host}`] : []),
  ];
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
  const filter = ['--filter', `label=${LAB_LABEL}`, '--filter', `label=${RUN_LABEL}=${RUN_ID}`, '--filter', `label=${OWNER_HOST_LABEL}=${hostIdentity()}`];
  const containers = ids(['ps', '-aq', ...filter]);
  if (containers.length) spawnSync('docker', ['rm', '-f', '-v', ...containers], { timeout: 60_000 });
  const networks = ids(['network', 'ls', '-q', ...filter]);
  if (networks.length) spawnSync('docker', ['network', 'rm', ...networks], { timeout: 30_000 });
  return { containers: containers.length, networks: networks.length };
}
