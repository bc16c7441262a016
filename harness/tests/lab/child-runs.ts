import os from 'node:os';
import path from 'node:path';
import { withFileLock } from '../../engine/file-lock.js';

/**
 * Tests that start `smtp-tls-lab run` (or `clean`) as a child take turns. Every run removes the
 * leftovers of dead runs when it starts, so a child run starting in another test file could
 * remove the very leftovers the SIGKILL and clean tests are about to count. One lock across the
 * vitest workers keeps those counts exact.
 */
const LOCK = path.join(os.tmpdir(), 'smtp-tls-lab-test-child-runs.lock');

export function childRunsInTurn<T>(work: () => Promise<T> | T): Promise<T> {
  return withFileLock(LOCK, async () => work(), 900_000);
}
