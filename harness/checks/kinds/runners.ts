import type { CheckKindName } from './spec-common.js';
import type { CheckSpec } from './specs.js';
import type { CheckRunner } from './runner.js';
import { runClientHandshake } from './client-handshake/run.js';
import { runEnumeration } from './enumeration/run.js';
import { runOfferOnly } from './offer-only/run.js';
import { runStartupLog } from './startup-log/run.js';
import { runDelivery } from './delivery/run.js';

/** The kinds' runners, found by name (the loader reads only the schemas in specs.ts). */
export const CHECK_RUNNERS: { readonly [K in CheckKindName]: CheckRunner<Extract<CheckSpec, { kind: K }>> } = {
  'client-handshake': runClientHandshake,
  enumeration: runEnumeration,
  'offer-only': runOfferOnly,
  'startup-log': runStartupLog,
  delivery: runDelivery,
};
