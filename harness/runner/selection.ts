import { SCENARIOS_DIR } from '../engine/paths.js';

/**
 * Which scenarios the catalogue runs. The runner hands it to the catalogue test file through
 * vitest's `provide` (never through environment variables, which a user's or CI's shell could
 * hold by accident and silently narrow the run); the file reads it with `inject('labCatalogue')`.
 */
export interface CatalogueSelection {
  readonly scenariosDir: string;
  /** Scenario ids to run; empty for all of them. */
  readonly scenarios: readonly string[];
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
