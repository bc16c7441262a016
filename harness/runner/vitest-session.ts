import path from 'node:path';
import { startVitest, type Reporter, type Vitest } from 'vitest/node';
import type { ProvidedContext } from 'vitest';
import { PROJECT_ROOT } from '../engine/paths.js';
import { removeLabObjects, removeRunObjectsSync } from '../engine/cleanup.js';

export const VITEST_CONFIG = path.join(PROJECT_ROOT, 'harness/vitest/vitest.config.ts');

export interface VitestRunSpec {
  /** Test file filters (paths or parts of paths); empty for every file the config includes. */
  readonly files: readonly string[];
  readonly reporters: readonly (Reporter | 'default')[];
  readonly provide?: Partial<ProvidedContext>;
  readonly maxConcurrency?: number;
  /** Replaces the config's include globs (the runner's own tests run fixture files with it). */
  readonly include?: readonly string[];
}

export interface VitestRunEnd {
  readonly vitest: Vitest | undefined;
  /** The signal that cancelled the run, if one did. */
  readonly interrupted: NodeJS.Signals | null;
}

/**
 * One vitest run in this process, as both `run` and `test` use it. SIGINT/SIGTERM cancel the
 * run and sweep this run's containers; whatever the outcome, the run's containers and
 * networks are removed before this returns.
 */
export async function runVitest(spec: VitestRunSpec): Promise<VitestRunEnd> {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  let interrupted: NodeJS.Signals | null = null;
  let vitest: Vitest | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    process.stderr.write(`\nlab: ${sig}: cancelling the run and removing its containers\n`);
    // vitest exits the process 1 ms after a signal (exit code 128 + signal), so the sweep that
    // must happen runs synchronously on exit; the cancel below is a courtesy to the workers.
    process.once('exit', () => {
      const r = removeRunObjectsSync();
      process.stderr.write(`lab: ${sig}: removed ${r.containers} container(s) and ${r.networks} network(s) of this run\n`);
    });
    void vitest?.cancelCurrentRun('keyboard-input');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    vitest = await startVitest('test', [...spec.files], {
      config: VITEST_CONFIG,
      watch: false,
      reporters: [...spec.reporters],
      ...(spec.provide ? { provide: spec.provide } : {}),
      ...(spec.maxConcurrency ? { maxConcurrency: spec.maxConcurrency } : {}),
      ...(spec.include ? { include: [...spec.include] } : {}),
    });
    await vitest?.close();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const swept = await removeLabObjects('run');
    if (swept.containers || swept.networks) process.stderr.write(`lab: removed ${swept.containers} container(s) and ${swept.networks} network(s) of this run\n`);
  }
  return { vitest, interrupted };
}
