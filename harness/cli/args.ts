import { LabError } from '../core/errors.js';
import type { StackName } from '../core/stacks.js';

export interface FlagSpec {
  readonly name: string;
  readonly value: string | null;
  readonly repeat?: boolean;
  readonly help: string;
}

export type Parsed = Record<string, string | string[] | boolean>;

/** A command's operands (arguments that are not flags): how its usage line names them, and how many it takes. */
export interface OperandSpec {
  readonly usage: string;
  readonly min: number;
  readonly max: number;
}

/** A strict flag parser: unknown flags and missing values are usage errors (exit 2). */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], command: string): Parsed {
  return parseCommandLine(argv, specs, command, null).flags;
}

/**
 * Flags and operands of one command. Operands are refused unless the command takes them, and
 * their count is checked (a usage error names what the command wants). `--help` anywhere wins
 * over a missing operand, so `diff --help` answers.
 */
export function parseCommandLine(argv: readonly string[], specs: readonly FlagSpec[], command: string, operands: OperandSpec | null): { flags: Parsed; operands: string[] } {
  const out: Parsed = {};
  const given: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (operands && !arg.startsWith('--')) {
      given.push(arg);
      continue;
    }
    const [name, inline] = arg.startsWith('--') ? arg.slice(2).split(/=(.*)/s, 2) : [undefined, undefined];
    const spec = specs.find((s) => s.name === name);
    if (!spec) throw new LabError('EUSAGE', `${command}: unknown argument '${arg}' (see: smtp-tls-lab help ${command})`);
    if (spec.value === null) {
      out[spec.name] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') throw new LabError('EUSAGE', `${command}: --${spec.name} needs a value (${spec.value})`);
    if (spec.repeat) out[spec.name] = [...((out[spec.name] as string[] | undefined) ?? []), ...value.split(',').filter(Boolean)];
    else out[spec.name] = value;
  }
  if (operands && !out.help && (given.length < operands.min || given.length > operands.max)) {
    const wants = operands.min === operands.max ? `${operands.min}` : operands.max === Infinity ? `at least ${operands.min}` : `${operands.min} to ${operands.max}`;
    throw new LabError('EUSAGE', `${command}: takes ${wants} operand(s) (${operands.usage}), got ${given.length}${given.length ? `: ${given.join(' ')}` : ''} (usage: smtp-tls-lab ${command} ${operands.usage} [flags]; see: smtp-tls-lab help ${command})`);
  }
  return { flags: out, operands: given };
}

/** A flag that takes one of a few words. */
export function oneOf<T extends string>(v: string | undefined, choices: readonly T[], flag: string, command: string): T | undefined {
  if (v === undefined) return undefined;
  if (!(choices as readonly string[]).includes(v)) throw new LabError('EUSAGE', `${command}: --${flag} must be one of ${choices.join(', ')} (e.g. --${flag} ${choices[0]}), not '${v}'`);
  return v as T;
}

export function positiveInt(v: string | undefined, flag: string, command: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new LabError('EUSAGE', `${command}: --${flag} must be a whole number of at least 1, not '${v}'`);
  return Number(v);
}

/** `--shard i/n`: this job is shard i of n (1 ≤ i ≤ n). */
export function shardFlag(v: string | undefined, command: string): { readonly index: number; readonly count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(v);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new LabError('EUSAGE', `${command}: --shard must be i/n with 1 ≤ i ≤ n (this job's shard of n CI jobs, e.g. --shard 1/2), not '${v}'`);
  }
  return { index, count };
}

/**
 * `--stack NAME` of a command that runs one lab (up, check): run --stack's own parsing
 * (core/stacks.ts parseStackList: an unknown name is refused with the known ones), then exactly
 * one stack; undefined when the flag is absent.
 */
export async function oneStackFlag(values: readonly string[] | undefined, command: string): Promise<StackName | undefined> {
  if (values === undefined || values.length === 0) return undefined;
  const { parseStackList, STACK_NAMES } = await import('../core/stacks.js');
  const stacks = parseStackList(values);
  if (stacks.length !== 1) throw new LabError('EUSAGE', `${command}: --stack takes one stack (${STACK_NAMES.join(', ')}), not '${values.join(',')}': ${command} starts one lab`);
  return stacks[0];
}
