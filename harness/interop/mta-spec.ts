/**
 * How a scenario configures an interop MTA node (kinds "exim" and "opensmtpd"): a receiving MX
 * built from another MTA and another TLS library than the Postfix under test. Data only, read
 * by the scenario loader (no Docker, no client library), used by harness/interop/*-container.ts.
 */

export const INTEROP_MTA_KINDS = ['exim', 'opensmtpd'] as const;
export type InteropMtaKind = (typeof INTEROP_MTA_KINDS)[number];

/** Exim 4 (Debian's exim4-daemon-light, GnuTLS) as a receiving MX on port 25. */
export interface EximSpec {
  /** Scenario certificate Exim presents (tls_certificate / tls_privatekey); null: no STARTTLS offered. */
  readonly certificate: string | null;
  /** GnuTLS priority string for tls_require_ciphers (e.g. "NORMAL:-VERS-TLS1.3"); null: Exim's default. */
  readonly priority: string | null;
}

/** OpenSMTPD (Debian's opensmtpd, OpenSSL through libtls) as a receiving MX on port 25. */
export interface OpensmtpdSpec {
  /** Scenario certificate OpenSMTPD presents (pki); null: no STARTTLS offered. */
  readonly certificate: string | null;
  /** libtls cipher string for the listener ("secure", "compat", or an OpenSSL list); null: libtls's default. */
  readonly ciphers: string | null;
  /** libtls protocols for the listener ("tlsv1.2,tlsv1.3", "all"); null: libtls's default. */
  readonly protocols: string | null;
}

export const DEFAULT_EXIM_SPEC: EximSpec = { certificate: null, priority: null };
export const DEFAULT_OPENSMTPD_SPEC: OpensmtpdSpec = { certificate: null, ciphers: null, protocols: null };

/** Every interop MTA listens here, on its own container address. */
export const INTEROP_MTA_PORT = 25;
