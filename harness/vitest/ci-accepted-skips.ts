/**
 * In CI (`CI=true`) a skipped test fails the run: a skip there is a verdict nobody gave, and a
 * green run must be earned. A test may still skip in CI when its reason (the note it passes to
 * `skip(note)`) starts with one of the prefixes below. Each row says why CI can accept it.
 *
 * Kept empty on purpose. Not accepted, in particular: `inconclusive:` (a catalogue check whose
 * tool is missing) and `oracle-unavailable:` (probe-truth without sslscan or testssl.sh), because
 * CI installs every tool; a skip without a reason is never accepted.
 */
export const CI_ACCEPTED_SKIPS: Readonly<Record<string, string>> = {};

export interface SkippedTest {
  /** Test file, relative to the project. */
  readonly file: string;
  /** Suite names and test name, joined with " > ". */
  readonly name: string;
  /** The reason the test gave, or null (it.skip, skipIf, todo, or skip() without a note). */
  readonly reason: string | null;
}

export interface SkipVerdict extends SkippedTest {
  /** Why CI accepts this skip (from the table), or null when it does not. */
  readonly acceptedBecause: string | null;
}

export function judgeSkip(skip: SkippedTest, accepted: Readonly<Record<string, string>> = CI_ACCEPTED_SKIPS): SkipVerdict {
  const prefix = skip.reason === null ? undefined : Object.keys(accepted).find((p) => skip.reason!.startsWith(p));
  return { ...skip, acceptedBecause: prefix === undefined ? null : accepted[prefix]! };
}

/** True when the process runs in CI, as CI services and .ci/run say: CI=true (or 1). */
export function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  return ['true', '1'].includes((env.CI ?? '').toLowerCase());
}
