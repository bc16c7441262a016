import type { CheckResult, Report, ScenarioReport } from './types.js';

/**
 * Scenario × stack, for a run over several stacks: one row per scenario id, one column per
 * stack (in the order the run's entries first name them), each cell the entry of that
 * (scenario, stack) or null when it did not run there. The renderers show it so that a reader
 * sees where a finding holds. Pure: read from the report only.
 */
export interface StackMatrix {
  readonly stacks: readonly string[];
  readonly rows: readonly { readonly id: string; readonly cells: readonly (StackCell | null)[] }[];
}

export interface StackCell {
  /** The entry's index in report.scenarios (its section in index.html). */
  readonly index: number;
  readonly scenario: ScenarioReport;
  /** Checks judged by their stack's own byStack expectation, with why. */
  readonly byStack: readonly { readonly check: string; readonly why: string }[];
}

/** What a check result records of the expectation it was judged by (tlsSurface.expectation, read defensively: the surface is free-form). */
export interface ExpectationRecord {
  readonly stack: string;
  readonly from: 'byStack' | 'default';
  readonly why: string;
  readonly keys: readonly string[];
  readonly byStack: readonly string[];
}

export function expectationOf(c: CheckResult): ExpectationRecord | null {
  const e = c.tlsSurface?.expectation as Partial<ExpectationRecord> | undefined;
  if (!e || typeof e !== 'object' || typeof e.stack !== 'string' || (e.from !== 'byStack' && e.from !== 'default')) return null;
  const strings = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
  return { stack: e.stack, from: e.from, why: typeof e.why === 'string' ? e.why : '', keys: strings(e.keys), byStack: strings(e.byStack) };
}

/** The name an entry's stack is keyed by: reports from before stacks ran on bookworm. */
export const stackNameOf = (s: ScenarioReport): string => s.stack?.name ?? 'bookworm';

/** The run's stacks, each once, in the order its entries first name them. */
export function reportStacks(report: Report): string[] {
  return [...new Set(report.scenarios.map(stackNameOf))];
}

/** The matrix, or null for a run on one stack (its report reads as before). */
export function stackMatrix(report: Report): StackMatrix | null {
  const stacks = reportStacks(report);
  if (stacks.length < 2) return null;
  const ids = [...new Set(report.scenarios.map((s) => s.id))];
  return {
    stacks,
    rows: ids.map((id) => ({
      id,
      cells: stacks.map((stack) => {
        const index = report.scenarios.findIndex((s) => s.id === id && stackNameOf(s) === stack);
        if (index < 0) return null;
        const scenario = report.scenarios[index]!;
        const byStack = scenario.checks.flatMap((c) => {
          const e = expectationOf(c);
          return e?.from === 'byStack' ? [{ check: c.id, why: e.why }] : [];
        });
        return { index, scenario, byStack };
      }),
    })),
  };
}

/** "5/1": checks passed / not passed of one entry. */
export function passCounts(s: ScenarioReport): { readonly pass: number; readonly notPass: number } {
  const pass = s.checks.filter((c) => c.status === 'pass').length;
  return { pass, notPass: s.checks.length - pass };
}
