// Types of build.mjs (plain JavaScript, so the bootstrap needs nothing compiled) for the tests.
export interface BuildPaths {
  readonly root: string;
  readonly src: string;
  readonly out: string;
  readonly main: string;
  readonly stamp: string;
  readonly lock: string;
  readonly tsconfig: string;
  readonly tsc: string;
}
export type BuildOutcome = { readonly built: false; readonly reason: null } | { readonly built: true; readonly reason: string; readonly ms: number };
export function buildPaths(root: string): BuildPaths;
export function staleReason(p: BuildPaths): string | null;
export function ensureBuild(p: BuildPaths, say?: (line: string) => void): BuildOutcome;
