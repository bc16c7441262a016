import type { TestProject } from 'vitest/node';
import { ensureEngine } from '../engine/engine.js';
import { ensureImage } from '../engine/images.js';
import { removeLabObjects } from '../engine/cleanup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postfixImage: string;
    labRunId: string;
  }
}

/**
 * Once per test run, before any worker: an engine that answers, the lab image, and no
 * leftovers of killed runs. Workers get the image tag through `inject('postfixImage')`.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const say = (l: string) => process.stderr.write(`lab: ${l}\n`);
  await ensureEngine(say);
  const left = await removeLabObjects('leftovers');
  if (left.containers || left.networks) say(`removed leftovers of an earlier, killed run: ${left.containers} container(s), ${left.networks} network(s)`);
  const image = await ensureImage('postfix', say);
  project.provide('postfixImage', image.tag);
  project.provide('labRunId', process.env.SMTP_TLS_LAB_RUN_ID ?? '');
  return async () => {
    // Anything a crashed worker could not remove is removed here, by this run's label.
    const r = await removeLabObjects('run');
    if (r.containers || r.networks) say(`removed ${r.containers} container(s) and ${r.networks} network(s) left by crashed workers`);
  };
}
