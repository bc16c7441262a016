import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { labStateDir } from './paths.js';

/**
 * Every container and network the lab creates carries LAB_LABEL, with the run id, the owner
 * pid and the host identity. Images do not carry LAB_LABEL (a container started by hand from
 * a lab image would inherit it); they carry IMAGE_LABEL instead. Cleanup removes only objects
 * with LAB_LABEL *and* a run id, so the lab never touches anything it did not make.
 */
export const LAB_LABEL = 'org.smtp-tls-lab';
export const OWNER_PID_LABEL = 'org.smtp-tls-lab.pid';
/** The owner's host identity (hostIdentity()): a pid means something only on the host that wrote it. */
export const OWNER_HOST_LABEL = 'org.smtp-tls-lab.host';
export const RUN_LABEL = 'org.smtp-tls-lab.run';
export const SCENARIO_LABEL = 'org.smtp-tls-lab.scenario';
/** The topology node a container is (mx, client …). */
export const NODE_LABEL = 'org.smtp-tls-lab.node';
/** On lab images only: the recipe the image was built from. Never selects containers for cleanup. */
export const IMAGE_LABEL = 'org.smtp-tls-lab.image';

// Ryuk (Testcontainers' reaper) must be pulled from a registry the lab cannot reach; the lab
// removes its own objects by label instead. Set here so that any script using the harness
// (not only the CLI and vitest) starts containers without trying to pull it.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

/** One id per process, shared by every container this process starts. */
export const RUN_ID: string = process.env.SMTP_TLS_LAB_RUN_ID || `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
process.env.SMTP_TLS_LAB_RUN_ID = RUN_ID;

/**
 * The process that owns the run. Vitest workers inherit the run id and the owner pid from the
 * main process, so a worker's containers are judged by whether the run as a whole is alive.
 */
export const OWNER_PID: number = Number(process.env.SMTP_TLS_LAB_OWNER_PID || process.pid);
process.env.SMTP_TLS_LAB_OWNER_PID = String(OWNER_PID);

let hostId: string | null = null;

/**
 * Who "this host" is, for telling this host's dead runs from runs of another machine that
 * shares the same Docker engine (one remote DOCKER_HOST): `<hostname>/<random id>`. The
 * hostname alone is not enough (cloned CI machines are all called the same), and
 * /etc/machine-id is copied along with cloned images, so the id is random, made once and
 * kept in LAB_STATE_DIR/host-id. Workers and child runs inherit it (SMTP_TLS_LAB_HOST_ID).
 */
export function hostIdentity(): string {
  if (hostId) return hostId;
  const inherited = process.env.SMTP_TLS_LAB_HOST_ID;
  if (inherited) return (hostId = inherited);
  const file = path.join(labStateDir(), 'host-id');
  // Written whole under another name and linked into place, so that a concurrent first run
  // either makes the file or reads the complete one the other made, never a half-written id.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(draft, randomBytes(8).toString('hex'), { mode: 0o644 });
  try {
    fs.linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    fs.rmSync(draft, { force: true });
  }
  hostId = `${os.hostname()}/${fs.readFileSync(file, 'utf8').trim()}`;
  process.env.SMTP_TLS_LAB_HOST_ID = hostId;
  return hostId;
}

/**
 * The environment for a child `run` of its own (soak rounds, the bench's catalogue, tests that
 * start the CLI): everything of this process except its run id, owner and scenario selection,
 * which the child must choose itself. `extra` is added on top. The host identity stays: the
 * child runs on this host.
 */
export function childRunEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { SMTP_TLS_LAB_RUN_ID: _r, SMTP_TLS_LAB_OWNER_PID: _o, SMTP_TLS_LAB_SCENARIOS: _s, SMTP_TLS_LAB_SCENARIOS_DIR: _d, ...env } = process.env;
  return { ...env, ...extra };
}

/** The labels of an object this run creates. */
export function labLabels(extra: Record<string, string> = {}): Record<string, string> {
  return {
    [LAB_LABEL]: 'true',
    [RUN_LABEL]: RUN_ID,
    [OWNER_PID_LABEL]: String(OWNER_PID),
    [OWNER_HOST_LABEL]: hostIdentity(),
    ...extra,
  };
}
