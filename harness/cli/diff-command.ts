import { readReport } from '../diff/read-report.js';
import { diffReports } from '../diff/report-diff.js';
import { renderDiffMarkdown } from '../diff/render-md.js';
import { renderDiffText } from '../diff/render-text.js';

/** The renderers of a diff, by --format name. */
const DIFF_FORMATS = { text: renderDiffText, md: renderDiffMarkdown } as const;

/**
 * `smtp-tls-lab diff BASE.json HEAD.json`: exit 1 when HEAD has a regression, else 0; a file
 * that is not a report throws EUSAGE (exit 2) naming it before anything is printed.
 */
export function diffCommand(o: { readonly base: string; readonly head: string; readonly format: keyof typeof DIFF_FORMATS; readonly out: (text: string) => void }): number {
  const base = readReport(o.base);
  const head = readReport(o.head);
  const d = diffReports(base, head);
  o.out(DIFF_FORMATS[o.format](d).replace(/\n$/, ''));
  return d.exitCode;
}
