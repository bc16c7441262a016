import { Found, OverlayReader, ScenarioFileError, type Reader } from '../../scenario/validate.js';
import { STACK_NAMES, isStackName, type StackName } from '../../core/stacks.js';
import { COMMON_KEYS, type CheckCommon, type CheckKindName, type CheckKindSpec, type SpecContext, type StackExpectation } from './spec-common.js';
import { clientHandshakeSpec, type ClientHandshakeCheck } from './client-handshake/spec.js';
import { enumerationSpec, type EnumerationCheck } from './enumeration/spec.js';
import { offerOnlySpec, type OfferOnlyCheck } from './offer-only/spec.js';
import { startupLogSpec, type StartupLogCheck } from './startup-log/spec.js';
import { deliverySpec, type DeliveryCheck } from './delivery/spec.js';
import { mtaSendSpec, type MtaSendCheck } from './mta-send/spec.js';

/** Every check a scenario can hold, by kind. */
export type CheckSpec = ClientHandshakeCheck | EnumerationCheck | OfferOnlyCheck | StartupLogCheck | DeliveryCheck | MtaSendCheck;

/**
 * The kinds' schemas, found by name. Data only: loading a scenario reads these and never the
 * runners (which load clients and the probe engine). The client handshake comes last: it is
 * the kind of a check that names no other kind's key.
 */
export const CHECK_KIND_SPECS: { readonly [K in CheckKindName]: CheckKindSpec<Extract<CheckSpec, { kind: K }>> } = {
  enumeration: enumerationSpec,
  'offer-only': offerOnlySpec,
  'startup-log': startupLogSpec,
  delivery: deliverySpec,
  'mta-send': mtaSendSpec,
  'client-handshake': clientHandshakeSpec,
};

const KIND_NAMES = Object.keys(CHECK_KIND_SPECS) as CheckKindName[];
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A check as its kind reads it: the common fields first, then the kind's own keys, nothing else. */
export function readCheck(r: Reader, ctx: SpecContext): CheckSpec {
  // byStack is read apart (readByStack), so the known keys a misspelt key is shown are the check's own.
  const own = new OverlayReader(r, r, [], ['byStack']);
  own.object([...COMMON_KEYS, ...new Set(KIND_NAMES.flatMap((k) => CHECK_KIND_SPECS[k].keys))]);
  const kind: CheckKindName = r.has('kind') ? r.field('kind').oneOf(KIND_NAMES) : (KIND_NAMES.find((k) => CHECK_KIND_SPECS[k].inferredFrom.some((key) => r.has(key))) ?? 'client-handshake');
  const spec = CHECK_KIND_SPECS[kind] as CheckKindSpec<CheckSpec>;
  own.object([...COMMON_KEYS, ...spec.keys]);
  const common: CheckCommon = {
    kind,
    id: r.field('id').string(ID, 'a check id (lowercase letters, digits, -)'),
    title: r.field('title').string(),
    why: r.optString('why') ?? '',
    configSays: r.optString('configSays') ?? '',
    service: r.optString('service') ?? 'smtp',
  };
  // A service Postfix will not listen on would end as an error at run time; say so now.
  if (!ctx.services.some((s) => s.service === common.service || String(s.port) === common.service)) {
    (r.has('service') ? r.field('service') : r).fail(
      `a service of this scenario's master.cf (${ctx.services.map((s) => `${s.service}${String(s.port) === s.service ? '' : `/${s.port}`}`).join(', ')})`,
      r.has('service') ? 'fix the name, or add the service to master.cf' : 'this check has no "service", so it talks to smtp, which master.cf does not define: name one',
    );
  }
  const check = spec.read(r, common, ctx);
  return r.has('byStack') ? { ...check, byStack: readByStack(r, spec, common, ctx) } : check;
}

/**
 * `"byStack": { "bullseye": { "why": "…", "expect": { … } } }`: per known stack, why the server
 * differs there (required) and the kind's own keys that replace the check's on that stack. A
 * key set to null removes the check's key on that stack. Each
 * variant is read by the kind exactly as the check is (paths, clients' blind spots, "expects
 * something"), so a mistake in it is the same ESCENARIO, naming its place under byStack.
 */
function readByStack(r: Reader, spec: CheckKindSpec<CheckSpec>, common: CheckCommon, ctx: SpecContext): Partial<Record<StackName, StackExpectation>> {
  const b = r.field('byStack');
  const entries = b.entries();
  if (entries.length === 0) b.fail(`at least one stack (${STACK_NAMES.join(', ')}) with what differs there`, 'remove "byStack" when every stack behaves alike');
  return Object.fromEntries(
    entries.map(([stack, e]) => {
      if (!isStackName(stack)) throw new ScenarioFileError(r.file, e.path, `a known stack (${STACK_NAMES.join(', ')})`, new Found(`'${stack}' in check '${common.id}'`), 'fix the stack name');
      e.object(['why', ...spec.keys]);
      const why = e.has('why') ? e.field('why').string(/\S/, 'why this stack differs (a sentence naming the server difference)') : e.fail(`"why": the server difference that makes ${stack}'s expectation differ`, 'say what this stack does differently, as observed');
      const keys = spec.keys.filter((k) => e.has(k));
      if (keys.length === 0) e.fail(`at least one of the ${spec.kind} check's own keys to replace on ${stack} (${spec.keys.join(', ')})`, 'an entry that changes nothing is not a difference');
      // A key set to null is removed on this stack (a log line the stack never writes), the others replace the check's.
      const removed = keys.filter((k) => e.field(k).raw() === null);
      const replaced = keys.filter((k) => !removed.includes(k));
      const check = spec.read(new OverlayReader(r, e, replaced, ['byStack', ...removed]), common, ctx);
      return [stack, { why, keys, check }];
    }),
  );
}
