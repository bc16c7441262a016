import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from '../core/errors.js';
import { processAlive } from '../core/process-alive.js';


/**
 * A lock between processes (parallel test workers building the same image). The lock file
 * holds the owner's pid; a lock whose owner is dead is taken over. Polling is the only way
 * to wait on a file lock portably; the wait itself is bounded and named.
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
      await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    fs.rmSync(file, { force: true });
  }
}
