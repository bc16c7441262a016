import type { LabErrorRecord } from '../core/errors.js';
import type { CheckResult, CheckStatus } from '../checks/result.js';
import type { PostfixLogEvent } from '../postfix/log-parser.js';

export const REPORT_SCHEMA = 'smtp-tls-lab/report@1';

/** A scenario is inconclusive only when none of its checks could give a verdict. */
export type ScenarioStatus = 'pass' | 'fail' | 'error' | 'inconclusive';

export interface ScenarioReport {
  readonly id: string;
  readonly title: string;
  readonly summary: string;
  readonly seeds: readonly string[];
  readonly status: ScenarioStatus;
  readonly startupMs: number | null;
  readonly error: LabErrorRecord | null;
  readonly checks: readonly CheckResult[];
  /** Every parsed event of the scenario's Postfix, in order. */
  readonly logEvents: readonly PostfixLogEvent[];
  readonly mainCf: string | null;
  readonly cleanupProblems: readonly string[];
}

export interface Counts {
  readonly pass: number;
  readonly fail: number;
  readonly inconclusive: number;
  readonly error: number;
}

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly run: {
    readonly id: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly durationMs: number;
    readonly postfixImage: string | null;
    readonly node: string;
  };
  readonly summary: { readonly scenarios: Counts; readonly checks: Counts; readonly exitCode: 0 | 1 | 2 };
  readonly scenarios: readonly ScenarioReport[];
  /** Errors outside any scenario (the engine, the image, a crashed worker). */
  readonly infrastructureErrors: readonly string[];
}

export type { CheckStatus };
