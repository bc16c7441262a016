import { run, type ExecResult } from '../core/exec.js';

/** The docker CLI, used for engine checks and image builds (Testcontainers runs the containers). */
export function docker(args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<ExecResult> {
  return run('docker', args, { timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

export async function engineReachable(): Promise<boolean> {
  const r = await docker(['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 10_000 });
  return r.code === 0 && r.stdout.trim().length > 0;
}
