import type { LabErrorRecord } from '../core/errors.js';
import type { CheckResult } from '../checks/result.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';

/** What a scenario's suite records for reporters (vitest suite meta). */
export interface ScenarioMeta {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly seeds: readonly string[];
  readonly startupMs: number | null;
  /** The lab image the scenario's Postfix ran from. */
  readonly image: string | null;
  readonly error: LabErrorRecord | null;
  /** The effective main.cf the container ran ("what the config says"). */
  readonly mainCf: string | null;
  readonly logEvents: readonly PostfixLogEvent[];
  readonly cleanupProblems: readonly string[];
}

declare module '@vitest/runner' {
  interface TaskMeta {
    labCheck?: CheckResult;
    labScenario?: ScenarioMeta;
  }
}
