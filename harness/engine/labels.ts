import os from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * Every container, network and image the lab makes carries LAB_LABEL. Cleanup removes only
 * objects with it, so the lab never touches anything else on the engine. The owner labels
 * let a run tell its own live objects from the leftovers of a killed run.
 */
export const LAB_LABEL = 'org.smtp-tls-lab';
export const OWNER_PID_LABEL = 'org.smtp-tls-lab.pid';
export const OWNER_HOST_LABEL = 'org.smtp-tls-lab.host';
export const RUN_LABEL = 'org.smtp-tls-lab.run';
export const SCENARIO_LABEL = 'org.smtp-tls-lab.scenario';

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

/**
 * The environment for a child `run` of its own (soak rounds, the bench's catalogue, tests that
 * start the CLI): everything of this process except its run id, owner and scenario selection,
 * which the child must choose itself. `extra` is added on top.
 */
export function childRunEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { SMTP_TLS_LAB_RUN_ID: _r, SMTP_TLS_LAB_OWNER_PID: _o, SMTP_TLS_LAB_SCENARIOS: _s, SMTP_TLS_LAB_SCENARIOS_DIR: _d, ...env } = process.env;
  return { ...env, ...extra };
}

export function labLabels(extra: Record<string, string> = {}): Record<string, string> {
  return {
    [LAB_LABEL]: 'true',
    [RUN_LABEL]: RUN_ID,
    [OWNER_PID_LABEL]: String(OWNER_PID),
    [OWNER_HOST_LABEL]: os.hostname(),
    ...extra,
  };
}
