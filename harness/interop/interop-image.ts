import { DEFAULT_STACK, STACK_NAMES, type StackName } from '../core/stacks.js';
import { ensureImage, imageTags, loadRecipe, recipeForStack, recipeStacks } from '../engine/images.js';
import type { InteropMtaKind } from './mta-spec.js';

/**
 * The stack of a scenario's Postfix image, found by its tag (the session knows the image, not
 * its stack), so that an interop MTA comes from the same Debian suite as the Postfix it meets.
 * An image no stack's recipe gives (a test's own) is the default stack.
 */
export function stackOfPostfixImage(image: string): StackName {
  const recipe = loadRecipe('postfix');
  for (const stack of recipeStacks(recipe)) if (imageTags('postfix', recipeForStack(recipe, stack)).tag === image) return stack;
  return STACK_NAMES.includes(DEFAULT_STACK) ? DEFAULT_STACK : STACK_NAMES[0]!;
}

/** The interop MTA's image (containers/exim or containers/opensmtpd) on the Postfix image's stack, built if missing. */
export async function interopImage(kind: InteropMtaKind, postfixImage: string): Promise<string> {
  return (await ensureImage(kind, () => {}, stackOfPostfixImage(postfixImage))).tag;
}
