import { spawn } from 'node:child_process';

export interface ExecResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Run a command without a shell, with a bound on time and output. Never throws for a non-zero exit. */
export function run(
  cmd: string,
  args: readonly string[],
  /**
   * killGroup: run the command in a process group of its own and kill the whole group on
   * timeout, for tools that start children of their own (testssl.sh runs many openssl).
   */
  opts: { input?: string | Buffer; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; maxOutput?: number; killGroup?: boolean } = {},
): Promise<ExecResult> {
  const maxOutput = opts.maxOutput ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: opts.killGroup === true });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          stderr += `\n[killed: timeout after ${opts.timeoutMs} ms]`;
          try {
            if (opts.killGroup && child.pid) process.kill(-child.pid, 'SIGKILL');
            else child.kill('SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, opts.timeoutMs)
      : undefined;
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < maxOutput) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < maxOutput) stderr += d.toString('utf8');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}
