import type { ProbeVersion } from '../enum/cipher-suites.js';
import type { ProbeFeatureName, ProbeResult } from '../enum/probe-result.js';

/** One measured thing a rule rates: a label for people, and the fields a rule's match reads. */
export interface Item {
  readonly label: string;
  readonly fields: Readonly<Record<string, string | number | boolean | null>>;
}

export type Measurement =
  | { readonly kind: 'items'; readonly describes: string; readonly items: readonly Item[]; readonly emptyMeans: string; readonly undetermined: string | null }
  | { readonly kind: 'value'; readonly describes: string; readonly value: string | number | boolean | null; readonly emptyMeans: string; readonly undetermined: string | null };

export const PROBE_VERSIONS_IN_ORDER: readonly ProbeVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** Why a feature's finding cannot be judged, or null when probe determined it. */
function undetermined(r: ProbeResult, ...features: ProbeFeatureName[]): string | null {
  for (const f of features) {
    const s = r.featureStatus[f];
    if (s.status === 'failed') return `probe could not determine ${f}: ${s.errors.map((e) => `${e.code}${e.version ? ` (${e.version})` : ''}: ${e.message}`).join('; ')}`;
    if (s.status === 'not-run' && r.scope !== 'full') return `probe did not measure ${f} (scope ${r.scope}${s.note ? `: ${s.note}` : ''})`;
  }
  return null;
}

const accepted = (r: ProbeResult) => PROBE_VERSIONS_IN_ORDER.filter((v) => r.protocols[v] === true);
const leaf = (r: ProbeResult) => r.certificate;

/**
 * What a rule can measure, by name: each reads one part of a ProbeResult (harness/enum/probe-result.ts).
 * Rules for other targets add rows here (an outbound rule reads a delivery observation).
 */
export const MEASURES = {
  /** Accepted protocol versions. */
  protocols: (r) => ({
    kind: 'items',
    describes: 'accepted protocol versions (probe: one hello per version)',
    items: accepted(r).map((v) => ({ label: v, fields: { version: v } })),
    emptyMeans: 'no version accepted',
    undetermined: PROBE_VERSIONS_IN_ORDER.some((v) => r.protocols[v] === null) ? undetermined(r, 'protocols') ?? `probe could not determine ${PROBE_VERSIONS_IN_ORDER.filter((v) => r.protocols[v] === null).join(', ')}` : null,
  }),
  /** Every accepted suite of every accepted version. */
  suites: (r) => ({
    kind: 'items',
    describes: 'accepted cipher suites per version (probe: choose-and-remove chain)',
    items: accepted(r).flatMap((v) =>
      r.ciphersByProtocol[v].map((s) => ({ label: `${v} ${s.iana}`, fields: { version: v, name: s.iana, openssl: s.openssl ?? '', kx: s.kx, au: s.au, enc: s.enc, mac: s.mac, bits: s.bits } })),
    ),
    emptyMeans: 'no suite accepted',
    undetermined: undetermined(r, 'protocols', 'suites'),
  }),
  /** Accepted key exchange groups (ECDHE curves and FFDHE groups). */
  groups: (r) => ({
    kind: 'items',
    describes: 'accepted key exchange groups (probe: groups offered one by one)',
    items: r.groups.map((g) => ({ label: `${g.name}`, fields: { name: g.name, iana: g.iana, kind: g.kind, bits: g.bits } })),
    emptyMeans: 'no group accepted',
    undetermined: undetermined(r, 'groups'),
  }),
  /** The smallest DHE prime the server sent in a ServerKeyExchange. */
  'dhe-bits': (r) => ({ kind: 'value', describes: 'smallest DHE prime size in bits over every accepted DHE suite', value: r.dhe?.bits ?? null, emptyMeans: 'no DHE suite accepted', undetermined: undetermined(r, 'suites') }),
  /** The key exchange each accepted suite got (ECDHE group, DHE size, TLS 1.3 group). */
  'key-exchange': (r) => ({
    kind: 'items',
    describes: 'key exchange each accepted suite got (group or DHE size)',
    items: accepted(r).flatMap((v) =>
      r.ciphersByProtocol[v].map((s) => {
        const k = s.keyExchange;
        const label = `${v} ${s.iana}: ${k === null ? (s.kx === 'RSA' ? 'static RSA' : 'none') : k.kind === 'dhe' ? `DHE ${k.bits}` : k.group}`;
        return { label, fields: { version: v, suite: s.iana, kx: s.kx, kind: k?.kind ?? (s.kx === 'RSA' ? 'rsa' : 'none'), group: k && k.kind !== 'dhe' ? k.group : null, bits: k && k.kind === 'dhe' ? k.bits : null } };
      }),
    ),
    emptyMeans: 'no suite accepted',
    undetermined: undetermined(r, 'suites'),
  }),
  /** The leaf certificate's public key. */
  'certificate-key': (r) => ({
    kind: 'items',
    describes: "the leaf certificate's public key (type, bits, curve)",
    items: leaf(r) ? [{ label: `${leaf(r)!.keyType ?? '?'} ${leaf(r)!.keyBits ?? '?'}${leaf(r)!.curve ? ` ${leaf(r)!.curve}` : ''}`, fields: { type: leaf(r)!.keyType, bits: leaf(r)!.keyBits, curve: leaf(r)!.curve } }] : [],
    emptyMeans: 'no certificate',
    undetermined: undetermined(r, 'certificate'),
  }),
  /** The signature algorithm of each certificate the server sent. */
  'certificate-signature': (r) => ({
    kind: 'items',
    describes: 'signature algorithm of each certificate the server sent',
    items: (r.certificate?.chain ?? []).map((c, i) => ({ label: `${i === 0 ? 'leaf' : `chain[${i}]`} ${c.signatureAlgorithm}`, fields: { position: i, algorithm: c.signatureAlgorithm, selfIssued: c.selfIssued } })),
    emptyMeans: 'no certificate',
    undetermined: undetermined(r, 'certificate'),
  }),
  /** Whether the server chose DEFLATE when offered. */
  compression: (r) => ({ kind: 'value', describes: 'TLS compression chosen when DEFLATE was offered (CRIME)', value: r.features.compression, emptyMeans: 'only TLS 1.3 spoken (no compression)', undetermined: undetermined(r, 'compression') }),
  /** RFC 5746 renegotiation_info. */
  'secure-renegotiation': (r) => ({ kind: 'value', describes: 'RFC 5746 secure renegotiation in the ServerHello', value: r.features.secureRenegotiation, emptyMeans: 'only TLS 1.3 spoken (no renegotiation)', undetermined: undetermined(r, 'renegotiation') }),
  /** A client-initiated renegotiation on a finished TLS <= 1.2 handshake. */
  'client-renegotiation': (r) => ({
    kind: 'value',
    describes: 'client-initiated renegotiation accepted (a real node:tls handshake, then renegotiate)',
    value: r.features.clientRenegotiation?.accepted ?? null,
    emptyMeans: 'only TLS 1.3 spoken (no renegotiation)',
    undetermined: undetermined(r, 'renegotiation'),
  }),
  /** Who chooses the suite, per accepted version with two suites or more. */
  'suite-order': (r) => ({
    kind: 'items',
    describes: 'who chooses the suite, per accepted version with two or more suites',
    items: accepted(r)
      .filter((v) => r.ciphersByProtocol[v].length >= 2)
      .map((v) => ({ label: `${v}: ${r.order[v] ?? 'not determined'}`, fields: { version: v, order: r.order[v] } })),
    emptyMeans: 'no version with two suites',
    undetermined: undetermined(r, 'order'),
  }),
} as const satisfies Record<string, (r: ProbeResult) => Measurement>;

export type MeasureName = keyof typeof MEASURES;
export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

export function measurementOf(name: MeasureName, r: ProbeResult): Measurement {
  return MEASURES[name](r);
}
