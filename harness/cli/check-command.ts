import path from 'node:path';
import { DEFAULT_PROFILE, loadProfile } from '../check/profiles.js';
import { runConfigCheck } from '../check/run-config-check.js';

export interface CheckCommandOptions {
  readonly dir: string;
  readonly profile: string | undefined;
  readonly outDir: string;
  readonly out: (line: string) => void;
  readonly say: (line: string) => void;
}

/**
 * `smtp-tls-lab check --postfix-config DIR [--profile NAME] [--out DIR]`: the user's own
 * config in the lab (harness/check/). The profile is loaded first, so an unknown name is a
 * usage error (listing the known ones) before anything starts.
 */
export async function checkCommand(o: CheckCommandOptions): Promise<number> {
  const profile = loadProfile(o.profile ?? DEFAULT_PROFILE);
  return runConfigCheck({ dir: path.resolve(o.dir), profile, outDir: path.resolve(o.outDir), out: o.out, say: o.say });
}
