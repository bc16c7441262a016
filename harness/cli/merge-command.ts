import { forTerminal } from '../core/escape.js';
import { mergeReports } from '../diff/merge-reports.js';
import { readReport } from '../diff/read-report.js';
import { summaryLines } from '../report/render-terminal.js';
import { writeReport } from '../report/write-report.js';

/**
 * `smtp-tls-lab merge REPORT.json… [--out DIR]`: every file is read and checked first (a file
 * that is not a report, or scenarios in two files, exit 2 with nothing written), then the merged
 * report is written with the run's own machinery. The exit code is the merged report's, as if
 * one run had run every shard.
 */
export function mergeCommand(o: { readonly files: readonly string[]; readonly outDir: string; readonly out: (line: string) => void }): number {
  const inputs = o.files.map(readReport);
  const report = mergeReports(inputs, `merged-${inputs.map((i) => i.report.run.id).join('_')}`);
  const files = writeReport(o.outDir, report);
  o.out(`merge: ${inputs.length} report(s): ${inputs.map((i) => `${forTerminal(i.file, 1000)} (${i.report.scenarios.length} scenario(s))`).join(', ')}`);
  for (const line of summaryLines(report, Object.values(files))) o.out(line);
  return report.summary.exitCode;
}
