import { LabError } from '../core/errors.js';

export interface FlagSpec {
  readonly name: string;
  readonly value: string | null;
  readonly repeat?: boolean;
  readonly help: string;
}

export type Parsed = Record<string, string | string[] | boolean>;

/** A strict flag parser: unknown flags and missing values are usage errors (exit 2). */
export function parseFlags(argv: readonly string[], specs: readonly FlagSpec[], command: string): Parsed {
  const out: Parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
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
  return out;
}

export function positiveInt(v: string | undefined, flag: string, command: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new LabError('EUSAGE', `${command}: --${flag} must be a whole number of at least 1, not '${v}'`);
  return Number(v);
}
