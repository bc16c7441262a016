import fs from 'node:fs';
import path from 'node:path';
import type { Report } from './types.js';

/** Write report.json into <dir>/latest, keeping the run before it as <dir>/previous. */
export function writeReport(dir: string, report: Report): string {
  const latest = path.join(dir, 'latest');
  const previous = path.join(dir, 'previous');
  fs.mkdirSync(dir, { recursive: true });
  if (fs.existsSync(latest)) {
    fs.rmSync(previous, { recursive: true, force: true });
    fs.renameSync(latest, previous);
  }
  fs.mkdirSync(latest, { recursive: true });
  const file = path.join(latest, 'report.json');
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
