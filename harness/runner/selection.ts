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
