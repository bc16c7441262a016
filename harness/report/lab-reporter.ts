import type { Reporter, SerializedError, TestModule, Vitest } from 'vitest/node';
import { buildReport } from './build-report.js';
import { scenarioRecords } from './vitest-records.js';
import { writeReport } from './write-report.js';
import type { Report } from './types.js';
import '../lab/meta.js';

/** Vitest reporter: builds report.json from the lab's task meta when the run ends. */
export default class LabReporter implements Reporter {
  private started = new Date();
  private image: string | null = null;
  report: Report | null = null;
  file: string | null = null;

  constructor(private readonly opts: { dir: string; onReport?: (r: Report, file: string) => void }) {}

  onInit(vitest: Vitest): void {
    this.started = new Date();
    this.image = null;
    void vitest;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    const scenarios = scenarioRecords(modules);
    const infra = [
      ...unhandled.map((e) => `unhandled: ${e.message}`),
      ...modules.flatMap((m) => (m.errors?.() ?? []).map((e) => `${m.moduleId}: ${e.message}`)),
    ];
    this.image = modules.flatMap((m) => [...m.children.allSuites()].map((s) => s.meta().labScenario?.image)).find((i) => i) ?? null;
    this.report = buildReport({ runId: process.env.SMTP_TLS_LAB_RUN_ID ?? 'unknown', startedAt: this.started, finishedAt: new Date(), postfixImage: this.image, scenarios, infrastructureErrors: infra });
    this.file = writeReport(this.opts.dir, this.report);
    this.opts.onReport?.(this.report, this.file);
  }
}
