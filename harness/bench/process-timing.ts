import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../engine/paths.js';
import { formatMs, median } from './stats.js';

/** The CLI as a user starts it: `node harness/bin/bootstrap.mjs ARGS` (npm run and the bin end there). */
export const CLI_ENTRY = path.join(PROJECT_ROOT, 'harness/bin/bootstrap.mjs');

export interface ProcessRun {
  /** Spawn to exit, output drained: what a user waits for, start-up included. */
  readonly ms: number;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One whole child process, timed from spawn to its close (exit and both streams ended). */
export function wholeProcess(command: string, args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, code, stdout, stderr });
    });
  });
}

/** The CLI as one whole process. */
export const cliProcess = (args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<ProcessRun> => wholeProcess(process.execPath, [CLI_ENTRY, ...args], opts);

/** The CLI's start-up goal: help and any usage error answer within this, whole process. */
export const CLI_START_GOAL_MS = 150;

/**
 * `smtp-tls-lab help` and a usage error as whole processes beside `node -e 0` (the floor: Node's
 * own start), taken in turn in each round so that a noisy moment hits all three. Printed, never
 * asserted. A first unmeasured run (re)builds the CLI if a source changed.
 */
export async function printCliStartFigures(rounds: number, out: (l: string) => void): Promise<void> {
  const warm = await cliProcess(['help']);
  if (warm.code !== 0) out(`  note: smtp-tls-lab help exited ${warm.code}: ${warm.stderr.trim().slice(-300)}`);
  if (/building the CLI/.test(warm.stderr)) out(`  (the first, unmeasured start rebuilt the CLI: ${formatMs(warm.ms)})`);
  const floor: number[] = [];
  const help: number[] = [];
  const usageError: number[] = [];
  for (let i = 0; i < rounds; i++) {
    floor.push((await wholeProcess(process.execPath, ['-e', '0'])).ms);
    help.push((await cliProcess(['help'])).ms);
    usageError.push((await cliProcess(['run', '--concurrency', 'none'])).ms);
  }
  const line = (name: string, xs: number[], note = '') => out(`    ${name.padEnd(42)} median ${formatMs(median(xs)).padStart(9)}  (n=${xs.length}${note ? `, ${note}` : ''})`);
  const over = (xs: number[]) => `${formatMs(median(xs) - median(floor))} over the floor; goal <= ${CLI_START_GOAL_MS} ms: ${median(xs) <= CLI_START_GOAL_MS ? 'met' : 'NOT met'}`;
  out('  CLI start, whole processes as a user runs them (in turn each round):');
  line('floor: node -e 0', floor);
  line('smtp-tls-lab help', help, over(help));
  line('usage error: run --concurrency none', usageError, over(usageError));
}
