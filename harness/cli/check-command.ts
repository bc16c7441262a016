import path from 'node:path';
import type { StackName } from '../core/stacks.js';
import { DEFAULT_PROFILE, loadProfile } from '../check/profiles.js';
import { runConfigCheck } from '../check/run-config-check.js';

export interface CheckCommandOptions {
  readonly dir: string;
  readonly profile: string | undefined;
  /** `--stack` (args.ts oneStackFlag): the stack to run the config on; default bookworm. */
  readonly stack?: StackName;
  readonly outDir: string;
  readonly out: (line: string) => void;
  readonly say: (line: string) => void;
}

/**
 * `smtp-tls-lab check --postfix-config DIR [--profile NAME] [--stack NAME] [--out DIR]`: the
 * user's own config in the lab (harness/check/). The profile is loaded first, so an unknown
 * name is a usage error (listing the known ones) before anything starts. The config check
 * (harness/check/run-config-check.ts) runs on the stack asked for (its image built if missing),
 * and the report records that stack's versions as its container says them.
 */
export async function checkCommand(o: CheckCommandOptions): Promise<number> {
  const profile = loadProfile(o.profile ?? DEFAULT_PROFILE);
  return runConfigCheck({ dir: path.resolve(o.dir), profile, ...(o.stack ? { stack: o.stack } : {}), outDir: path.resolve(o.outDir), out: o.out, say: o.say });
}
