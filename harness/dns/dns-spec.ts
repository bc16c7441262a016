/**
 * A scenario's lab DNS as data (read by the loader; used by harness/dns/zone.ts and the dns
 * node). One anchor zone (the first, e.g. lab.test: always signed, its KSK is the resolver's
 * only trust anchor) and child zones under it, each signed, unsigned (no DS: provably
 * insecure), expired (DS present, signatures expired: bogus) or with one signature corrupted
 * (DS present, one RRset bogus).
 */

export const ZONE_MODES = ['signed', 'unsigned', 'expired', 'corrupt'] as const;
export type ZoneMode = (typeof ZONE_MODES)[number];

export interface DnsZoneSpec {
  /** The zone's name, without the trailing dot ("good.lab.test"). */
  readonly name: string;
  readonly dnssec: ZoneMode;
  /** For 'corrupt': the RR type whose signature is altered (MX, TLSA, A …). */
  readonly corruptType: string | null;
  /**
   * Records in zone-file syntax, names relative to the zone ("@ MX 10 mx", "mx A {{address:peer}}",
   * "_25._tcp.mx TLSA {{tlsa:3 1 1:peer}}"). The lab adds SOA, NS and the children's delegations.
   */
  readonly records: readonly string[];
}

export interface DnsSpec {
  readonly zones: readonly DnsZoneSpec[];
}

/** What the validating resolver answered for one name and type (dig +dnssec at the dns node). */
export interface DnsAnswer {
  readonly name: string;
  readonly type: string;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED … */
  readonly status: string | null;
  /** The ad flag: the resolver validated the answer. */
  readonly ad: boolean;
  /** Extended DNS Error (RFC 8914) code and text, e.g. 7 "Signature Expired", 6 "DNSSEC Bogus". */
  readonly ede: { readonly code: number; readonly text: string } | null;
  readonly answers: readonly string[];
}
