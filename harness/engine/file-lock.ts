import fs from 'node:fs';
import path from 'node:path';
import { LabError } from '../core/errors.js';
import { processAlive } from '../core/process-alive.js';

/**
 * A lock between processes (parallel test workers building the same image). The lock file
 * holds the owner's pid; a lock whose owner is dead is taken over. Waiting is event-driven:
 * the waiter watches the lock's folder and tries again when the file goes away. A killed owner
 * removes nothing, so the owner's liveness is also re-checked every few seconds. The wait is
 * bounded and named.
 */
export async function withFileLock<T>(file: string, work: () => Promise<T>, timeoutMs = 1_200_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(fs.readFileSync(file, 'utf8') || '0');
      if (!owner || !processAlive(owner)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LabError('ETIMEOUT', `timeout 'file-lock ${file}' expired; held by pid ${owner}`);
      await lockReleasedOrRecheck(file, Math.min(5_000, deadline - Date.now()));
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Resolves when the lock file is removed, or after `recheckMs` so the owner's liveness is looked at again. */
function lockReleasedOrRecheck(file: string, recheckMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      watcher.close();
      clearTimeout(timer);
      resolve();
    };
    const watcher = fs.watch(path.dirname(file), (_event, name) => {
      if (name === path.basename(file) && !fs.existsSync(file)) done();
    });
    const timer = setTimeout(done, Math.max(0, recheckMs));
    // Released between the failed attempt and the watch being set up.
    if (!fs.existsSync(file)) done();
  });
}
