import { asLabError, LabError } from '../core/errors.js';
import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { ensureImage } from '../engine/images.js';
import type { StackImage } from './selection.js';

/**
 * Builds at once at most this many stack images. debootstrap's download and dpkg's unpacking
 * and configuring are each one process on one core, so two builds share two cores instead of
 * leaving one idle; a cached image is one `docker image inspect` either way.
 */
export const IMAGE_BUILDS_AT_ONCE = 2;

/**
 * The lab image of every stack, built where missing (two at a time). A stack whose image
 * cannot be built is recorded with its error, and the other stacks still get theirs.
 * `say(stack, line)` gets each build's progress lines.
 */
export async function stackImages(stacks: readonly StackName[], say: (stack: StackName, line: string) => void, onError: (stack: StackName, e: LabError) => void = () => {}): Promise<Partial<Record<StackName, StackImage>>> {
  const images: Partial<Record<StackName, StackImage>> = {};
  const queue = [...stacks];
  const worker = async () => {
    for (let stack = queue.shift(); stack !== undefined; stack = queue.shift()) {
      const s = stack;
      try {
        images[s] = { tag: (await ensureImage('postfix', (l) => say(s, l), s)).tag };
      } catch (err) {
        const e = asLabError(err, 'EIMAGE');
        onError(s, e);
        images[s] = { error: e.toRecord() };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(IMAGE_BUILDS_AT_ONCE, stacks.length) }, worker));
  // In the run's order, whatever order the builds ended in.
  return Object.fromEntries(stacks.filter((s) => images[s]).map((s) => [s, images[s]!])) as Partial<Record<StackName, StackImage>>;
}

/** A stack's progress line prefix: none for a run of the default stack alone. */
export function stackSayPrefix(stack: StackName, stacks: readonly StackName[]): string {
  return stacks.length === 1 && stack === DEFAULT_STACK ? 'lab: ' : `lab [${stack}]: `;
}
