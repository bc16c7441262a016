import fs from 'node:fs';
import path from 'node:path';
import { run } from '../core/exec.js';
import { LabError } from '../core/errors.js';
import type { Recipe } from '../engine/images.js';

/** The offline base build (debootstrap + docker import) under another tag, for timing only. */
export async function debootstrapBaseForBench(recipe: Recipe, tag: string): Promise<void> {
  const root = fs.mkdtempSync(path.join('/var/tmp', 'smtp-tls-lab-bench-rootfs-'));
  try {
    const r = await run('debootstrap', [`--variant=${recipe.base.variant}`, `--include=${recipe.base.packages.join(',')}`, recipe.base.suite, root, process.env.LAB_DEBIAN_MIRROR ?? recipe.base.mirror], { timeoutMs: 900_000 });
    if (r.code !== 0) throw new LabError('EIMAGE', `debootstrap failed: ${r.stderr.slice(-500)}`);
    const imp = await run('bash', ['-c', 'set -o pipefail; tar -C "$1" -c . | docker import - "$2"', '_', root, tag], { timeoutMs: 300_000 });
    if (imp.code !== 0) throw new LabError('EIMAGE', `docker import failed: ${imp.stderr}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
