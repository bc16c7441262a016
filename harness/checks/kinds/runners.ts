import { LabError } from '../../core/errors.js';
import { STACK_NAMES } from '../../core/stacks.js';
import type { ScenarioSession } from '../../lab/scenario-session.js';
import { checkForStack, type CheckKindName } from './spec-common.js';
import type { CheckSpec } from './specs.js';
import type { CheckRunner } from './runner.js';
import { runClientHandshake } from './client-handshake/run.js';
import { runEnumeration } from './enumeration/run.js';
import { runOfferOnly } from './offer-only/run.js';
import { runStartupLog } from './startup-log/run.js';
import { runDelivery } from './delivery/run.js';
import { runMtaSend } from './mta-send/run.js';

/**
 * A kind's runner, judging the check by the expectation of the session's stack (byStack) and
 * recording which one applied in the result's tlsSurface.expectation. A check without byStack
 * runs as written. A stack that cannot be told is a lab error, never a verdict by the wrong
 * stack's expectation.
 */
function onItsStack<S extends CheckSpec>(run: CheckRunner<S>): CheckRunner<S> {
  return async (session: ScenarioSession, check, out) => {
    if (!check.byStack) return run(session, check, out);
    const stack = session.stack;
    if (!stack) throw new LabError('EINTERNAL', `check ${check.id} has a byStack expectation, but image ${session.image} is none of the stacks' images (${STACK_NAMES.join(', ')}) as containers/postfix/recipe.json gives them now`);
    const { check: applied, expectation } = checkForStack(check, stack);
    out.tlsSurface.expectation = expectation;
    return run(session, applied, out);
  };
}

/** The kinds' runners, found by name (the loader reads only the schemas in specs.ts). */
export const CHECK_RUNNERS: { readonly [K in CheckKindName]: CheckRunner<Extract<CheckSpec, { kind: K }>> } = {
  'client-handshake': onItsStack(runClientHandshake),
  enumeration: onItsStack(runEnumeration),
  'offer-only': onItsStack(runOfferOnly),
  'startup-log': onItsStack(runStartupLog),
  delivery: onItsStack(runDelivery),
  'mta-send': onItsStack(runMtaSend),
};
