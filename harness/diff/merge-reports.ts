import { LabError } from '../core/errors.js';
import { buildReport } from '../report/build-report.js';
import type { Report, ScenarioRecord } from '../report/types.js';
import type { LoadedReport } from './read-report.js';
import { byIdThenStack, entryKey } from './report-diff.js';

/**
 * Join the reports of `run --shard i/n` jobs into one report, as if one run had run them all:
 * scenarios sorted by id, statuses, counts and exit code recomputed by buildReport (never
 * copied from a shard), the run spanning the earliest start to the latest finish. Refused
 * (EUSAGE, naming the file and why) when a scenario appears in two reports, or when the
 * shards ran different lab images: one report must describe one lab.
 */
export function mergeReports(inputs: readonly LoadedReport[], runId: string): Report {
  if (inputs.length === 0) throw new LabError('EUSAGE', 'merge: no report given', { detail: 'remedy: smtp-tls-lab merge SHARD1/report.json SHARD2/report.json … [--out DIR]' });
  // An entry is a (scenario, stack): a multi-stack shard holds each of its ids once per stack.
  const owner = new Map<string, string>();
  for (const { file, report } of inputs) {
    for (const s of report.scenarios) {
      const first = owner.get(entryKey(s));
      const what = s.stack ? `scenario '${s.id}' on stack ${s.stack.name}` : `scenario '${s.id}'`;
      if (first !== undefined) throw new LabError('EUSAGE', `merge: ${file} and ${first} both hold ${what}`, { detail: 'remedy: merge the reports of one sharded run (run --shard i/n with the same n and the same selection), each shard once' });
      owner.set(entryKey(s), file);
    }
  }
  const images = [...new Set(inputs.map((i) => i.report.run.postfixImage).filter((x): x is string => x !== null))];
  if (images.length > 1) {
    const which = images.map((img) => `${img} (${inputs.filter((i) => i.report.run.postfixImage === img).map((i) => i.file).join(', ')})`);
    throw new LabError('EUSAGE', `merge: the reports ran different lab images: ${which.join('; ')}`, { detail: 'remedy: merge shards of one run of one checkout' });
  }
  const nodes = [...new Set(inputs.map((i) => i.report.run.node))];
  const records: ScenarioRecord[] = inputs
    .flatMap((i) => i.report.scenarios)
    .map(({ status: _status, ...record }) => record)
    // By id, then by stack in the order of the stacks (bullseye … sid), as one run lists them.
    .sort(byIdThenStack);
  const times = (k: 'startedAt' | 'finishedAt') => inputs.map((i) => Date.parse(i.report.run[k]));
  return buildReport({
    runId,
    startedAt: new Date(Math.min(...times('startedAt'))),
    finishedAt: new Date(Math.max(...times('finishedAt'))),
    postfixImage: images[0] ?? null,
    node: nodes.join(', '),
    scenarios: records,
    // A shard's errors outside any scenario stay errors of the whole run, saying which shard.
    infrastructureErrors: inputs.flatMap((i) => i.report.infrastructureErrors.map((e) => `${i.report.run.id}: ${e}`)),
  });
}
