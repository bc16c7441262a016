import type { Stage } from '../core/errors.js';
import type { AdvertiseOptions, LogPattern, NegotiationExpectation } from './lab-matchers.js';

/**
 * The types of the lab's matchers on vitest's `expect`, once a test has run
 * `expect.extend(labMatchers)`. Type-only: this file loads nothing at runtime (vitest included),
 * so `import … from 'smtp-tls-lab'` works outside a test too.
 */
export interface LabMatchers<R = unknown> {
  /** A TlsObservation negotiated this protocol and/or suite; on a Postfix log: some TLS summary line shows them. */
  toNegotiate(expected?: NegotiationExpectation): R;
  /** A TlsObservation's EHLO reply listed this capability (keyword, or a whole line such as 'AUTH PLAIN LOGIN'). */
  toAdvertise(capability: string, options?: AdvertiseOptions): R;
  /** A Postfix log (or a started Postfix container, or a list of events) has an event matching every field of the pattern. */
  toHaveLogged(pattern: LogPattern): R;
  /** A TlsObservation ended in an error at this stage ('tcp', 'banner', 'ehlo', 'starttls', 'handshake', 'auth', 'mail', 'quit'). */
  toFailAt(stage: Stage): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Matchers<T = any> extends LabMatchers<T> {}
}
