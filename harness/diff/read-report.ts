import fs from 'node:fs';
import { LabError } from '../core/errors.js';
import { validateReportJson } from '../report/schema.js';
import { REPORT_SCHEMA, type Report } from '../report/types.js';

/**
 * A report.json file as `diff` and `merge` take it: read, parsed, and checked to be a lab
 * report before anything compares or joins it. A file that is not one is refused (EUSAGE,
 * exit 2) naming the file and why: no comparison is ever made on a guess.
 */
export interface LoadedReport {
  readonly file: string;
  readonly report: Report;
}

/**
 * Why `value` is not a report of this lab's schema, or [] when it is one: another schema is
 * said as such (the most likely mistake: a probe JSON, a report of another version), then the
 * report's JSON Schema decides (harness/report/schema.ts), each error naming its path.
 */
export function reportErrors(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return ['the top level is not a JSON object'];
  const schema = (value as Record<string, unknown>).schema;
  if (schema !== REPORT_SCHEMA) return [`its schema is ${JSON.stringify(schema ?? null)}, not "${REPORT_SCHEMA}"`];
  const v = validateReportJson(value);
  return v.valid ? [] : v.errors.map((e) => `it does not match the report schema: ${e}`);
}

/** Read `file` as a report, or throw EUSAGE naming the file and the reason (not there, not JSON, another schema, a wrong shape). */
export function readReport(file: string): LoadedReport {
  const refuse = (why: string, detail?: string): never => {
    throw new LabError('EUSAGE', `${file} is not a smtp-tls-lab report: ${why}`, detail ? { detail } : {});
  };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    return refuse(`it cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, 'remedy: give the path of a report.json a run wrote (reports/latest/report.json)');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return refuse(`it is not JSON (${(err as Error).message})`);
  }
  const errors = reportErrors(value);
  if (errors.length) refuse(errors.length > 1 ? `${errors[0]!} (and ${errors.length - 1} more)` : errors[0]!, errors.length > 1 ? errors.join('\n') : undefined);
  return { file, report: value as Report };
}
