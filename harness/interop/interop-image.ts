import { DEFAULT_STACK, type StackName } from '../core/stacks.js';
import { ensureImage, stackOfImageTag } from '../engine/images.js';
import type { InteropMtaKind } from './mta-spec.js';

/**
 * The stack of a scenario's Postfix image, by its tag (engine/images.ts stackOfImageTag), so
 * that an interop MTA comes from the same Debian suite as the Postfix it meets. An image no
 * stack's recipe gives (a test's own) is the default stack.
 */
export function stackOfPostfixImage(image: string): StackName {
  return stackOfImageTag('postfix', image) ?? DEFAULT_STACK;
}

/** The interop MTA's image (containers/exim or containers/opensmtpd) on the Postfix image's stack, built if missing. */
export async function interopImage(kind: InteropMtaKind, postfixImage: string): Promise<string> {
  return (await ensureImage(kind, () => {}, stackOfPostfixImage(postfixImage))).tag;
}
