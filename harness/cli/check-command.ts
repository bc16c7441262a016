import path from 'node:path';
import { LabError } from '../core/errors.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
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
 * (harness/check/run-config-check.ts) builds bookworm's image only so far: another stack is
 * refused as a usage error rather than silently run on bookworm.
 */
export async function checkCommand(o: CheckCommandOptions): Promise<number> {
  const profile = loadProfile(o.profile ?? DEFAULT_PROFILE);
  if (o.stack && o.stack !== DEFAULT_STACK) {
    throw new LabError('EUSAGE', `check: --stack ${o.stack} is not supported yet: the config check runs on ${DEFAULT_STACK} only`, { detail: `remedy: run without --stack (or --stack ${DEFAULT_STACK}); to see a scenario on ${o.stack}, use run --stack ${o.stack} or up --stack ${o.stack}` });
  }
  return runConfigCheck({ dir: path.resolve(o.dir), profile, outDir: path.resolve(o.outDir), out: o.out, say: o.say });
}
