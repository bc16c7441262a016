import type { LabErrorRecord } from '../core/errors.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { SCENARIOS_DIR } from '../engine/paths.js';
import type { CatalogueEntry } from '../scenario/load.js';

/**
 * Which scenarios the catalogue runs. The runner hands it to the catalogue test file through
 * vitest's `provide` (never through environment variables, which a user's or CI's shell could
 * hold by accident and silently narrow the run); the file reads it with `inject('labCatalogue')`.
 */
export interface CatalogueSelection {
  readonly scenariosDir: string;
  /** Scenario ids to run; empty for all of them. */
  readonly scenarios: readonly string[];
  /** `--stack`: the stacks to run on; empty or absent: each scenario on its default stack (catalogueRuns). */
  readonly stacks?: readonly StackName[];
  /**
   * The image of each stack the run needs, as the runner had it before vitest started, or why
   * it could not be built. Absent under `npm test`: then the default stack's image is the
   * global setup's (`inject('postfixImage')`).
   */
  readonly images?: Readonly<Partial<Record<StackName, StackImage>>>;
  /** `--profile`: also judge each scenario's smtpd services by this profile's rules (harness/profiles/NAME.json). */
  readonly profile?: string;
}

/** A stack's image, or the error that kept it from being built (its scenarios end as that error). */
export type StackImage = { readonly tag: string; readonly error?: undefined } | { readonly tag?: undefined; readonly error: LabErrorRecord };

/** One entry of a run: a scenario on a stack. */
export interface CatalogueRun {
  readonly entry: CatalogueEntry;
  readonly stack: StackName;
}

/**
 * The (scenario, stack) pairs of a run. Without `--stack`, each scenario runs once: on the
 * first stack it names, else on the default (bookworm), so the default run still covers the
 * whole catalogue. With `--stack`, each scenario runs on every run stack it accepts (all of
 * them when it names none); a scenario that accepts none of them does not run.
 */
export function catalogueRuns(entries: readonly CatalogueEntry[], stacks: readonly StackName[] = []): CatalogueRun[] {
  return entries.flatMap((entry) => {
    const needs = entry.scenario?.stacks ?? [];
    if (stacks.length === 0) return [{ entry, stack: needs[0] ?? DEFAULT_STACK }];
    return stacks.filter((s) => needs.length === 0 || needs.includes(s)).map((stack) => ({ entry, stack }));
  });
}

/** The stacks a run's pairs use, each once, in the order they first appear. */
export function runStacks(runs: readonly CatalogueRun[]): StackName[] {
  return [...new Set(runs.map((r) => r.stack))];
}

/**
 * The stacks the runs' checks start a client container of (`clientStack`, also inside a
 * byStack entry) beyond the runs' own stacks: their images are built up front with the rest,
 * so that no check builds one inside its scenario's budget.
 */
export function clientStacks(runs: readonly CatalogueRun[]): StackName[] {
  const found = new Set<StackName>();
  const visit = (v: unknown): void => {
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (k === 'clientStack' && typeof x === 'string') found.add(x as StackName);
      else visit(x);
    }
  };
  for (const r of runs) visit(r.entry.scenario?.checks);
  const own = new Set(runStacks(runs));
  return [...found].filter((s) => !own.has(s));
}

/** The name of a pair's suite (and its key in the run): the scenario id, with the stack when the run has several. */
export function runName(run: CatalogueRun, severalStacks: boolean): string {
  return severalStacks ? `${run.entry.id} [${run.stack}]` : run.entry.id;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Absent when the catalogue runs as part of `npm test`: then it is the whole catalogue. */
    labCatalogue: CatalogueSelection | undefined;
  }
}

export const WHOLE_CATALOGUE: CatalogueSelection = { scenariosDir: SCENARIOS_DIR, scenarios: [] };

/** Scenarios running at once unless --concurrency says otherwise (fits a 2-core machine). */
export const DEFAULT_CONCURRENCY = 3;

/**
 * `run --shard i/n`: the scenario ids of shard i of n. The selected ids are sorted (code-unit
 * order, as loadCatalogue lists them) and dealt round-robin: shard i gets the ids at positions
 * i-1, i-1+n, i-1+2n … So every job of a CI matrix computes the same split from the same
 * checkout, every id lands in exactly one shard, and shard sizes differ by at most one. A
 * scenario added to the catalogue can move others to another shard; that is harmless, since
 * `merge` only needs the shards of one run to be disjoint.
 */
export function shardIds(ids: readonly string[], shard: { readonly index: number; readonly count: number }): string[] {
  return [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).filter((_, k) => k % shard.count === shard.index - 1);
}
