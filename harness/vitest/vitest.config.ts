import { defineConfig } from 'vitest/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * One config for both suites: unit tests of parsers (captured real output, no containers)
 * and the lab tests (real Postfix). `npm test` runs both; `npm run lab` runs the catalogue
 * through harness/runner/ with the lab's reporters and the selection it provides.
 * Concurrency fits a 2-core machine: scenarios run 3 at a time.
 */
export default defineConfig({
  root,
  test: {
    include: ['harness/tests/**/*.test.ts'],
    globalSetup: [path.join(root, 'harness/vitest/global-setup.ts')],
    // Scenarios at once; `run --concurrency N` overrides it (harness/runner/), never the environment.
    maxConcurrency: 3,
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    // Transformed modules kept on disk (node_modules/.experimental-vitest-cache, keyed by file
    // content and config): a later `run` or `test` skips transpiling the harness again, about
    // 0.6 s of wall and 0.7 s of CPU per process on this machine (one-scenario run, 3.4 s -> 2.8 s).
    experimental: { fsModuleCache: true },
    env: { TESTCONTAINERS_RYUK_DISABLED: process.env.TESTCONTAINERS_RYUK_DISABLED ?? 'true' },
  },
});
