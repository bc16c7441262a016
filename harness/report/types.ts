/**
 * The report model: what one run found, built once from the run's records
 * (harness/runner/) and handed to the renderers (harness/report/formats.ts). Renderers read
 * this model and nothing else; the only types it takes from outside report/ and core/ are the
 * records it holds, the checks' results (type-only, so nothing of checks/ loads with it).
 */
import type { LabErrorRecord } from '../core/errors.js';
import type { CheckResult, CheckStatus, Conversation, Finding } from '../checks/result.js';

export const REPORT_SCHEMA = 'smtp-tls-lab/report@1';
/**
 * The version of report.json's layout, as a number readers can compare (`diff` refuses another
 * one). Bumped with the @N of REPORT_SCHEMA whenever harness/report/report.schema.json changes
 * in a way a reader must know about.
 */
export const REPORT_SCHEMA_VERSION = 1;

/** A scenario is inconclusive only when none of its checks could give a verdict. */
export type ScenarioStatus = 'pass' | 'fail' | 'error' | 'inconclusive';

/** One parsed Postfix log event, as the checks' results hold them. */
export type LogEvent = CheckResult['logEvents'][number];

/** The Postfix and OpenSSL versions read from the scenario's container; null when the container never ran (or did not say). */
export interface StackVersions {
  /** `postconf -d -h mail_version`, e.g. 3.7.11. */
  readonly postfix: string | null;
  /** `openssl version`, e.g. "OpenSSL 3.0.17 1 Jul 2025 (Library: OpenSSL 3.0.17 1 Jul 2025)". */
  readonly openssl: string | null;
}

/** The stack a scenario entry ran on: its name (a Debian suite) and what its container really had. */
export interface ScenarioStack extends StackVersions {
  readonly name: string;
}

export interface ScenarioReport {
  readonly id: string;
  /**
   * The stack this entry ran on. A run over several stacks has one entry per (scenario, stack),
   * so (id, stack.name) is an entry's key. Absent in reports written before stacks existed.
   */
  readonly stack?: ScenarioStack;
  readonly title: string;
  readonly summary: string;
  readonly seeds: readonly string[];
  readonly status: ScenarioStatus;
  readonly startupMs: number | null;
  readonly error: LabErrorRecord | null;
  /** What Postfix said while it started (warnings), each marked as expected by the scenario or not. */
  readonly findings: readonly Finding[];
  readonly checks: readonly CheckResult[];
  /** Every parsed event of the scenario's Postfix, in order. */
  readonly logEvents: readonly LogEvent[];
  readonly mainCf: string | null;
  readonly cleanupProblems: readonly string[];
}

/** What the runner records of a scenario; the report adds its status. */
export type ScenarioRecord = Omit<ScenarioReport, 'status'>;

export interface Counts {
  readonly pass: number;
  readonly fail: number;
  readonly inconclusive: number;
  readonly error: number;
}

export type ExitCode = 0 | 1 | 2;

export interface Report {
  readonly schema: typeof REPORT_SCHEMA;
  readonly schemaVersion: typeof REPORT_SCHEMA_VERSION;
  readonly run: {
    readonly id: string;
    readonly startedAt: string;
    readonly finishedAt: string;
    readonly durationMs: number;
    readonly postfixImage: string | null;
    readonly node: string;
  };
  readonly summary: { readonly scenarios: Counts; readonly checks: Counts; readonly exitCode: ExitCode };
  readonly scenarios: readonly ScenarioReport[];
  /** Errors outside any scenario (the engine, the image, a crashed worker). */
  readonly infrastructureErrors: readonly string[];
}

export type { CheckResult, CheckStatus, Conversation, Finding };
