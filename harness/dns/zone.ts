import { LabError } from '../core/errors.js';
import type { CertPair } from '../certs/lab-pki.js';
import type { DnsSpec, DnsZoneSpec } from './dns-spec.js';
import { tlsaData } from './tlsa.js';

/** `{{address:NODE}}`, `{{tlsa:U S M:CERT}}`, `{{tlsa:U S M:CERT@issuer}}` in a zone's records. */
export const ZONE_PLACEHOLDER = /\{\{(address|tlsa):([^}]*)\}\}/g;

export interface ZoneContext {
  /** A node's address by name (a capturing peer's is the network's gateway). */
  address(node: string): string;
  readonly dnsAddress: string;
  readonly certs: ReadonlyMap<string, CertPair>;
}

/** The zone a child belongs under: the longest other zone that is a suffix of it. */
export function parentZone(zone: string, all: readonly string[]): string | null {
  return all.filter((z) => z !== zone && zone.endsWith(`.${z}`)).sort((a, b) => b.length - a.length)[0] ?? null;
}

/** Fills one record's placeholders; a wrong one is ESCENARIO naming it. */
export function fillRecord(record: string, ctx: ZoneContext, where: string): string {
  return record.replace(ZONE_PLACEHOLDER, (_, kind: string, arg: string) => {
    if (kind === 'address') return ctx.address(arg);
    const m = /^([0-3]) ([01]) ([0-2]):([A-Za-z0-9_-]+)(@issuer)?$/.exec(arg);
    if (!m) throw new LabError('ESCENARIO', `${where}: {{tlsa:${arg}}} is not {{tlsa:USAGE SELECTOR MTYPE:CERT}} or {{tlsa:…:CERT@issuer}}`);
    const pair = ctx.certs.get(m[4]!);
    if (!pair) throw new LabError('ESCENARIO', `${where}: {{tlsa:${arg}}} names no certificate of the scenario (${[...ctx.certs.keys()].join(', ')})`);
    const pem = m[5] ? pair.chain.split(/(?<=-----END CERTIFICATE-----)/)[0]!.trim() : pair.cert;
    if (m[5] && !pem) throw new LabError('ESCENARIO', `${where}: certificate ${m[4]} is self-signed: it has no issuer for {{tlsa:…@issuer}}`);
    return tlsaData(pem, Number(m[1]), Number(m[2]), Number(m[3]));
  });
}

/**
 * The zone files and the signing plan for the dns node: the anchor zone last, every zone
 * after its children (so each child's DS can go into its parent before the parent is signed).
 * The lab adds each zone's SOA and NS, the name server's address in the anchor, and the
 * delegation of each child in its parent.
 */
export function renderZones(spec: DnsSpec, ctx: ZoneContext): { plan: string; files: Record<string, string> } {
  const names = spec.zones.map((z) => z.name);
  const anchor = names[0]!;
  const files: Record<string, string> = {};
  for (const z of spec.zones) {
    const lines = [`$ORIGIN ${z.name}.`, '$TTL 60', `@ IN SOA ns.${anchor}. hostmaster.${anchor}. 1 3600 600 86400 60`, `@ IN NS ns.${anchor}.`];
    if (z.name === anchor) lines.push(`ns IN A ${ctx.dnsAddress}`);
    for (const child of spec.zones.filter((c) => parentZone(c.name, names) === z.name)) lines.push(`${child.name}. IN NS ns.${anchor}.`);
    for (const r of z.records) lines.push(fillRecord(r, ctx, `dns zone ${z.name}`));
    files[z.name] = `${lines.join('\n')}\n`;
  }
  const depth = (z: DnsZoneSpec) => z.name.split('.').length;
  const plan = [...spec.zones]
    .sort((a, b) => depth(b) - depth(a))
    .map((z) => `${z.name} ${z.dnssec === 'corrupt' ? `corrupt:${z.corruptType}` : z.dnssec} ${parentZone(z.name, names) ?? '-'}`)
    .join('\n');
  return { plan: `${plan}\n`, files };
}
