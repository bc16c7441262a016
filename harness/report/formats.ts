import { renderHtml } from './render-html.js';
import { renderJson } from './render-json.js';
import { renderJunit } from './render-junit.js';
import { renderMarkdown } from './render-markdown.js';
import type { Report } from './types.js';

/** A report format: the file it is written to and a pure renderer of the model. */
export interface ReportFormat {
  readonly file: string;
  readonly render: (report: Report) => string;
}

/**
 * Every format a run writes, by name. A new format is a new module with a renderer of the
 * report model and one row here; nothing else changes.
 */
export const REPORT_FORMATS = {
  json: { file: 'report.json', render: renderJson },
  junit: { file: 'junit.xml', render: renderJunit },
  markdown: { file: 'summary.md', render: renderMarkdown },
  html: { file: 'index.html', render: renderHtml },
} as const satisfies Record<string, ReportFormat>;

export type ReportFormatName = keyof typeof REPORT_FORMATS;
export const REPORT_FORMAT_NAMES = Object.keys(REPORT_FORMATS) as ReportFormatName[];
