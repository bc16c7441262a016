import type { Report } from './types.js';

/** report.json: the whole model, exactly (server text stored as received; JSON escapes it). */
export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}
