import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The project root, found from this file so the lab works from any working directory. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Image recipes. SMTP_TLS_LAB_CONTAINERS_DIR points elsewhere (a test breaks an image build with it). */
export const CONTAINERS_DIR = process.env.SMTP_TLS_LAB_CONTAINERS_DIR || path.join(PROJECT_ROOT, 'containers');
export const SCENARIOS_DIR = path.join(PROJECT_ROOT, 'scenarios');
export const REPORTS_DIR = path.join(PROJECT_ROOT, 'reports');

/** The lab's state on this host (build locks, debootstrap logs, the host identity): LAB_STATE_DIR or <tmp>/smtp-tls-lab. */
export function labStateDir(): string {
  const dir = process.env.LAB_STATE_DIR ?? path.join(os.tmpdir(), 'smtp-tls-lab');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
