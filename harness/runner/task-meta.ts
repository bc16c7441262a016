import type { LabErrorRecord } from '../core/errors.js';
import type { CheckResult, Finding } from '../checks/result.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';
import type { ScenarioStack } from '../report/types.js';

/**
 * What the catalogue records in vitest's task meta for the runner: a scenario's suite carries
 * `labScenario`, each of its tests `labCheck`. The runner turns these into report records.
 */
export interface ScenarioMeta {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly seeds: readonly string[];
  /** The stack it ran on; the versions are read from its container once it started. */
  readonly stack: ScenarioStack;
  readonly startupMs: number | null;
  readonly error: LabErrorRecord | null;
  /** Postfix's start-up warnings, each marked as expected by the scenario or not. */
  readonly findings: readonly Finding[];
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
