import { inject } from 'vitest';
import { DEFAULT_STACK, type StackName } from '../../core/stacks.js';
import { ensureImage } from '../../engine/images.js';

const built = new Map<StackName, Promise<string>>();

/**
 * A stack's lab image for a lab test: the global setup's for the default stack; any other is
 * built here once per test file, one build after another (two cores). The image's file lock
 * (engine/images.ts) keeps two files from building the same stack at once: the second waits
 * and finds it cached.
 */
export function stackImage(stack: StackName): Promise<string> {
  if (stack === DEFAULT_STACK) return Promise.resolve(inject('postfixImage'));
  let image = built.get(stack);
  if (!image) {
    const before = [...built.values()];
    image = Promise.allSettled(before).then(() => ensureImage('postfix', () => undefined, stack).then((r) => r.tag));
    built.set(stack, image);
  }
  return image;
}
