import fs from 'node:fs';
import path from 'node:path';
import { REPORT_FORMAT_NAMES, REPORT_FORMATS, type ReportFormatName } from './formats.js';
import type { Report } from './types.js';

/**
 * Write one run's report into <dir>/latest, once per format, after moving the run before it
 * to <dir>/previous (once: every format of a run lives in the same folder). Renders every
 * format before touching the disk, so a renderer that throws leaves latest/ as it was.
 * Returns the file written per format.
 */
export function writeReport(dir: string, report: Report, formats: readonly ReportFormatName[] = REPORT_FORMAT_NAMES): Record<ReportFormatName, string> {
  const rendered = formats.map((name) => [name, REPORT_FORMATS[name].file, REPORT_FORMATS[name].render(report)] as const);
  const latest = path.join(dir, 'latest');
  const previous = path.join(dir, 'previous');
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(latest)) {
    fs.rmSync(previous, { recursive: true, force: true });
    fs.renameSync(latest, previous);
  }
  fs.mkdirSync(latest, { recursive: true });
  const files = {} as Record<ReportFormatName, string>;
  for (const [name, file, text] of rendered) {
    files[name] = path.join(latest, file);
    fs.writeFileSync(files[name], text);
  }
  return files;
}
