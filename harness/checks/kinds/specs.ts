import type { Reader } from '../../scenario/validate.js';
import { COMMON_KEYS, type CheckCommon, type CheckKindName, type CheckKindSpec, type SpecContext } from './spec-common.js';
import { clientHandshakeSpec, type ClientHandshakeCheck } from './client-handshake/spec.js';
import { enumerationSpec, type EnumerationCheck } from './enumeration/spec.js';
import { offerOnlySpec, type OfferOnlyCheck } from './offer-only/spec.js';
import { startupLogSpec, type StartupLogCheck } from './startup-log/spec.js';
import { deliverySpec, type DeliveryCheck } from './delivery/spec.js';

/** Every check a scenario can hold, by kind. */
export type CheckSpec = ClientHandshakeCheck | EnumerationCheck | OfferOnlyCheck | StartupLogCheck | DeliveryCheck;

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
  'client-handshake': clientHandshakeSpec,
};

const KIND_NAMES = Object.keys(CHECK_KIND_SPECS) as CheckKindName[];
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A check as its kind reads it: the common fields first, then the kind's own keys, nothing else. */
export function readCheck(r: Reader, ctx: SpecContext): CheckSpec {
  r.object([...COMMON_KEYS, ...new Set(KIND_NAMES.flatMap((k) => CHECK_KIND_SPECS[k].keys))]);
  const kind: CheckKindName = r.has('kind') ? r.field('kind').oneOf(KIND_NAMES) : (KIND_NAMES.find((k) => CHECK_KIND_SPECS[k].inferredFrom.some((key) => r.has(key))) ?? 'client-handshake');
  const spec = CHECK_KIND_SPECS[kind] as CheckKindSpec<CheckSpec>;
  r.object([...COMMON_KEYS, ...spec.keys]);
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
  return spec.read(r, common, ctx);
}
