import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { REPORT_FORMAT_NAMES, REPORT_FORMATS, type ReportFormatName } from './formats.js';
import { renderJson } from './render-json.js';
import { validateReportJson } from './schema.js';
import type { Report } from './types.js';

/** A run id as a folder name: anything but letters, digits, '.', '_' and '-' becomes '_' (an id from the environment cannot climb out of DIR). */
export function runDirName(runId: string): string {
  const name = runId.replace(/[^A-Za-z0-9._-]/g, '_');
  return name === '' || /^\.+$/.test(name) ? `run_${name}` : name;
}

/**
 * Write one run's report, every format: into <dir>/<run-id>/ (kept: one folder per run), and
 * as a copy into <dir>/latest/, after moving the latest/ before it to <dir>/previous/ (once:
 * every format of a run lives in the same folder). latest/ is a copy, not a symlink, so it
 * survives an upload as a CI artifact, a zip, a copy to another file system and Windows, and
 * index.html opens from it by file:// like from any folder.
 *
 * Renders every format before touching the disk, so a renderer that throws leaves latest/ as
 * it was. report.json is then checked against its JSON Schema (report.schema.json): a report
 * that does not match is a bug in the lab, so it is still written (it is the evidence) and
 * then refused with EINTERNAL, naming each place it differs. Returns the file written in
 * latest/ per format.
 */
export function writeReport(dir: string, report: Report, formats: readonly ReportFormatName[] = REPORT_FORMAT_NAMES): Record<ReportFormatName, string> {
  const rendered = formats.map((name) => [name, REPORT_FORMATS[name].file, REPORT_FORMATS[name].render(report)] as const);
  const jsonText = rendered.find(([name]) => name === 'json')?.[2] ?? renderJson(report);
  const validation = validateReportJson(JSON.parse(jsonText));

  const runDir = path.join(dir, runDirName(report.run.id));
  const latest = path.join(dir, 'latest');
  const previous = path.join(dir, 'previous');
  fs.mkdirSync(dir, { recursive: true });
  // The same run id written again (a test, a rerun with SMTP_TLS_LAB_RUN_ID) replaces its folder whole.
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  for (const [, file, text] of rendered) fs.writeFileSync(path.join(runDir, file), text);

  if (fs.existsSync(latest)) {
    fs.rmSync(previous, { recursive: true, force: true });
    fs.renameSync(latest, previous);
  }
  fs.cpSync(runDir, latest, { recursive: true });
  const files = {} as Record<ReportFormatName, string>;
  for (const [name, file] of rendered) files[name] = path.join(latest, file);

  if (!validation.valid) {
    throw new LabError('EINTERNAL', `the report written to ${latest} does not match its schema (harness/report/report.schema.json): ${validation.errors.length} difference(s)`, { detail: validation.errors.join('\n') });
  }
  return files;
}
