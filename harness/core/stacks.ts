import { LabError } from './errors.js';

/**
 * The stacks the lab can run a scenario on: one Debian suite each, so one Postfix and one
 * OpenSSL each, built from the same image recipe with the suite as its parameter
 * (containers/postfix/recipe.json, `stacks`). The versions a stack really has are read from
 * its container at run time (lab/stack-versions.ts), never taken from this table.
 */
export const STACK_NAMES = ['bullseye', 'bookworm', 'trixie', 'sid'] as const;
export type StackName = (typeof STACK_NAMES)[number];

/** The stack a scenario runs on when neither the run nor the scenario names one. */
export const DEFAULT_STACK: StackName = 'bookworm';

export function isStackName(s: string): s is StackName {
  return (STACK_NAMES as readonly string[]).includes(s);
}

/** A stack name from user input (a flag, a scenario file): an unknown one is refused with the known ones. */
export function stackName(s: string, where: string, code: 'EUSAGE' | 'ESCENARIO' = 'EUSAGE'): StackName {
  if (isStackName(s)) return s;
  throw new LabError(code, `${where}: unknown stack '${s}'; the known stacks are ${STACK_NAMES.join(', ')}`);
}

/** `--stack NAME[,NAME…]` (repeatable) or `--stack all`: the stacks in the order of STACK_NAMES, each once. */
export function parseStackList(values: readonly string[]): StackName[] {
  const names = values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (names.includes('all')) return [...STACK_NAMES];
  const asked = new Set(names.map((n) => stackName(n, '--stack')));
  return STACK_NAMES.filter((s) => asked.has(s));
}
