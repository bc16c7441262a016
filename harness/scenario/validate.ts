import { LabError } from '../core/errors.js';

/**
 * A small validator for scenario files: every problem names the file, the path to the field,
 * what was expected, and what was found. Unknown keys are errors too, since a misspelt key
 * would otherwise silently do nothing.
 */
export class ScenarioFileError extends LabError {
  constructor(
    readonly file: string,
    readonly fieldPath: string,
    expected: string,
    found: unknown,
    remedy?: string,
  ) {
    super('ESCENARIO', `${file}: ${fieldPath || '(top level)'}: expected ${expected}, found ${describe(found)}`, remedy ? { detail: `remedy: ${remedy}` } : {});
  }
}

/** A finding already put in words (e.g. "unknown key 'x'"), shown as is. */
export class Found {
  constructor(readonly text: string) {}
}

function describe(v: unknown): string {
  if (v instanceof Found) return v.text;
  if (v === undefined) return 'nothing (the field is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 60 ? `${s.slice(0, 60)}…` : s}`;
}

export class Reader {
  constructor(
    readonly file: string,
    readonly value: unknown,
    readonly path: string = '',
  ) {}

  private at(key: string | number): string {
    return typeof key === 'number' ? `${this.path}[${key}]` : this.path ? `${this.path}.${key}` : key;
  }

  fail(expected: string, remedy?: string): never {
    throw new ScenarioFileError(this.file, this.path, expected, this.value, remedy);
  }

  object(allowed: readonly string[]): Reader {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('an object');
    for (const k of Object.keys(this.value)) {
      if (!allowed.includes(k)) {
        throw new ScenarioFileError(this.file, this.at(k), `one of the known keys (${allowed.join(', ')})`, new Found(`unknown key '${k}'`), 'remove the key or fix its spelling');
      }
    }
    return this;
  }

  field(key: string): Reader {
    return new Reader(this.file, (this.value as Record<string, unknown>)[key], this.at(key));
  }

  has(key: string): boolean {
    return (this.value as Record<string, unknown>)[key] !== undefined;
  }

  string(pattern?: RegExp, what = 'a string'): string {
    if (typeof this.value !== 'string' || this.value === '' || (pattern && !pattern.test(this.value))) this.fail(pattern ? `${what} matching ${pattern}` : what);
    return this.value;
  }

  optString(key: string, pattern?: RegExp, what?: string): string | undefined {
    return this.has(key) ? this.field(key).string(pattern, what) : undefined;
  }

  number(min = -Infinity, max = Infinity): number {
    if (typeof this.value !== 'number' || !Number.isFinite(this.value) || this.value < min || this.value > max) this.fail(`a number from ${min} to ${max}`);
    return this.value;
  }

  boolean(): boolean {
    if (typeof this.value !== 'boolean') this.fail('true or false');
    return this.value;
  }

  oneOf<T extends string>(choices: readonly T[]): T {
    if (typeof this.value !== 'string' || !choices.includes(this.value as T)) this.fail(`one of ${choices.map((c) => `'${c}'`).join(', ')}`);
    return this.value as T;
  }

  list(): Reader[] {
    if (!Array.isArray(this.value)) this.fail('a list');
    return this.value.map((v, i) => new Reader(this.file, v, this.at(i)));
  }

  entries(): [string, Reader][] {
    if (typeof this.value !== 'object' || this.value === null || Array.isArray(this.value)) this.fail('an object');
    return Object.keys(this.value).map((k) => [k, this.field(k)]);
  }

  raw(): unknown {
    return this.value;
  }
}

/**
 * A record read with some of its keys taken from another record (`over`), for a variant of it:
 * a check as one stack's byStack entry changes it. A replaced key's problems name its path in
 * `over` (checks[2].byStack.trixie.expect…), the others their path in `base`.
 */
export class OverlayReader extends Reader {
  constructor(
    private readonly base: Reader,
    private readonly over: Reader,
    private readonly keys: readonly string[],
    drop: readonly string[] = [],
  ) {
    const merged = { ...(base.value as Record<string, unknown>) };
    for (const k of drop) delete merged[k];
    for (const k of keys) merged[k] = (over.value as Record<string, unknown>)[k];
    super(base.file, merged, over.path);
  }

  override field(key: string): Reader {
    return this.keys.includes(key) ? this.over.field(key) : this.base.field(key);
  }
}
