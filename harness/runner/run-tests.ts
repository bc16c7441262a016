import path from 'node:path';
import type { TestCase } from 'vitest/node';
import { forTerminal } from '../core/escape.js';
import { PROJECT_ROOT } from '../engine/paths.js';
import { inCi, judgeSkip, type SkipVerdict } from '../vitest/ci-accepted-skips.js';
import { RunRecorder } from './run-recorder.js';
import { runVitest } from './vitest-session.js';

export interface TestRunOptions {
  /** Only test files whose path contains this. */
  readonly filter?: string;
  /** Replaces the config's include globs (for the runner's own tests, on fixture files). */
  readonly include?: readonly string[];
  /** Skips fail the run unless CI_ACCEPTED_SKIPS accepts their reason (default: CI=true in the environment). */
  readonly ci?: boolean;
  readonly out: (line: string) => void;
}

/**
 * `smtp-tls-lab test` (npm test): every test file with vitest's own reporter, the catalogue
 * whole (nothing is provided, so it runs every scenario). After vitest's summary, every
 * skipped test is listed with its reason; in CI a skip whose reason CI does not accept fails
 * the run.
 */
export async function runTests(o: TestRunOptions): Promise<number> {
  const ci = o.ci ?? inCi();
  const recorder = new RunRecorder();
  const { interrupted } = await runVitest({
    files: o.filter ? [o.filter] : [],
    reporters: ['default', recorder],
    ...(o.include ? { include: o.include } : {}),
  });
  if (interrupted) return 2;
  const modules = recorder.modules ?? [];
  const tests = modules.flatMap((m) => [...m.children.allTests()]);
  const n = (s: string) => tests.filter((t) => t.result().state === s).length;
  // A file that failed to load has no tests but is a failure all the same.
  const failed = n('failed') + modules.filter((m) => !m.ok() && [...m.children.allTests()].length === 0).length;
  const skips = tests.filter((t) => t.result().state === 'skipped').map((t) => judgeSkip(skipped(t)));
  const refused = skips.filter((s) => s.acceptedBecause === null);
  for (const s of skips) o.out(skipLine(s, ci));
  // A plain closing line that any CI log reader understands, after vitest's own summary.
  o.out(`${n('passed')} passed, ${failed} failed, ${skips.length} skipped${ci ? ` (${refused.length} not accepted in CI)` : ''}`);
  if (tests.length === 0) return 2;
  // vitest sets a non-zero exit code for trouble outside any test (unhandled errors, a failed global setup).
  if (failed > 0 || recorder.unhandled.length > 0 || (process.exitCode !== undefined && process.exitCode !== 0)) return 1;
  if (ci && refused.length > 0) {
    o.out(`CI: ${refused.length} skipped test(s) with a reason CI does not accept (harness/vitest/ci-accepted-skips.ts): the run fails`);
    return 1;
  }
  return 0;
}

function skipped(t: TestCase): { file: string; name: string; reason: string | null } {
  const result = t.result();
  const note = result.state === 'skipped' ? result.note : undefined;
  return { file: path.relative(PROJECT_ROOT, t.module.moduleId), name: t.fullName, reason: note ?? null };
}

function skipLine(s: SkipVerdict, ci: boolean): string {
  const verdict = s.acceptedBecause !== null ? `accepted in CI: ${s.acceptedBecause}` : ci ? 'NOT accepted in CI' : 'would fail in CI';
  return `skipped: ${forTerminal(s.file)} > ${forTerminal(s.name)}: ${s.reason === null ? 'no reason given' : forTerminal(s.reason, 400)} [${verdict}]`;
}
