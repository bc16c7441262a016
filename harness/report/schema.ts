/**
 * report.json against its JSON Schema (harness/report/report.schema.json, draft 2020-12).
 *
 * The validator is ajv's own code for that schema, generated ahead by ajv's standalone mode
 * (report-schema-validator.generated.ts) rather than compiled here: report/ depends on its
 * model and core only (layers.test.ts), so ajv itself never loads with a renderer or with
 * `diff`, and nothing is compiled at run time. report-schema.test.ts regenerates it with ajv
 * from the schema and fails when the checked-in code differs (UPDATE_GOLDEN=1 rewrites it).
 */
import generated from './report-schema-validator.generated.js';

/** One error as ajv reports it (the fields of ajv's ErrorObject this module reads). */
interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

interface GeneratedValidator {
  (data: unknown): boolean;
  errors?: readonly SchemaError[] | null;
}

const validate = generated as unknown as GeneratedValidator;

export type ReportValidation = { readonly valid: true } | { readonly valid: false; readonly errors: readonly string[] };

/** At most this many errors are spelled out; a report that is wrong everywhere says how many more. */
const MAX_ERRORS = 50;

/**
 * Whether `value` (a parsed report.json) is a report of this schema. Each error names the
 * place in the document as a path (`scenarios[0].checks[2].status`, `report` for the whole)
 * and says what was expected and what was found.
 */
export function validateReportJson(value: unknown): ReportValidation {
  if (validate(value)) return { valid: true };
  const errors = describeErrors(value, validate.errors ?? []);
  return { valid: false, errors: errors.length > MAX_ERRORS ? [...errors.slice(0, MAX_ERRORS), `… and ${errors.length - MAX_ERRORS} more`] : errors };
}

function describeErrors(root: unknown, raw: readonly SchemaError[]): string[] {
  // A nullable field is `anyOf: [X, null]`: its "must be null" and "must match a schema in
  // anyOf" say nothing the branch's own error does not; they only add "or null" to it.
  const nullable = new Set(raw.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const out: string[] = [];
  for (const e of raw) {
    if (nullable.has(e.instancePath) && (e.keyword === 'anyOf' || (e.keyword === 'type' && e.params.type === 'null'))) continue;
    // The log event's `type` enum says it; the discriminator's own error would repeat it.
    if (e.keyword === 'discriminator' && e.params.error === 'mapping') continue;
    const line = describe(e, root, nullable.has(e.instancePath));
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

function describe(e: SchemaError, root: unknown, orNull: boolean): string {
  const where = readablePath(e.instancePath);
  const found = describeValue(valueAt(root, e.instancePath));
  const p = e.params;
  const also = orNull ? ' or null' : '';
  switch (e.keyword) {
    case 'required':
      return `${where}: expected property '${String(p.missingProperty)}', found none`;
    case 'additionalProperties':
      return `${where}: unexpected property '${String(p.additionalProperty)}' (not in the schema)`;
    case 'type':
      return `${where}: expected ${String(p.type).split(',').join(' or ')}${also}, found ${found}`;
    case 'enum':
      return `${where}: expected one of ${(p.allowedValues as unknown[]).map(quote).join(', ')}${also}, found ${found}`;
    case 'const':
      return `${where}: expected ${quote(p.allowedValue)}, found ${found}`;
    case 'pattern':
      return `${where}: expected a string matching /${String(p.pattern)}/, found ${found}`;
    case 'minimum':
    case 'maximum':
      return `${where}: expected a number ${String(p.comparison)} ${String(p.limit)}, found ${found}`;
    case 'discriminator':
      return `${where}: expected property '${String(p.tag)}' naming one of the log event types, found ${found}`;
    default:
      return `${where}: ${e.message ?? e.keyword}${also}, found ${found}`;
  }
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** "/scenarios/0/checks/1/status" as "scenarios[0].checks[1].status" (JSON Pointer unescaped). */
export function readablePath(pointer: string): string {
  if (pointer === '') return 'report';
  let out = '';
  for (const token of pointerTokens(pointer)) {
    if (/^\d+$/.test(token)) out += `[${token}]`;
    else if (IDENTIFIER.test(token)) out += out === '' ? token : `.${token}`;
    else out += `[${JSON.stringify(token)}]`;
  }
  return out;
}

const pointerTokens = (pointer: string) => pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));

function valueAt(root: unknown, pointer: string): unknown {
  let cur = root;
  if (pointer === '') return cur;
  for (const token of pointerTokens(pointer)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[token];
  }
  return cur;
}

const quote = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return 'an object';
  const text = JSON.stringify(v);
  return `${typeof v} ${text.length > 80 ? `${text.slice(0, 80)}…` : text}`;
}
