/**
 * How a scenario configures an interop MTA node (kinds "exim" and "opensmtpd"): a receiving MX
 * built from another MTA and another TLS library than the Postfix under test. Data only, read
 * by the scenario loader (no Docker, no client library), used by harness/interop/*-container.ts.
 */

export const INTEROP_MTA_KINDS = ['exim', 'opensmtpd'] as const;
export type InteropMtaKind = (typeof INTEROP_MTA_KINDS)[number];

/** Exim 4 (Debian's exim4-daemon-light, GnuTLS) as a receiving MX on port 25, and (with `sender`) as a sending client. */
export interface EximSpec {
  /** Scenario certificate Exim presents (tls_certificate / tls_privatekey); null: no STARTTLS offered. */
  readonly certificate: string | null;
  /** GnuTLS priority string for tls_require_ciphers (e.g. "NORMAL:-VERS-TLS1.3"); null: Exim's default. */
  readonly priority: string | null;
  /** Exim as a sending client of the Postfix under test (mta-send checks); null: it only receives. */
  readonly sender: EximSenderSpec | null;
}

/**
 * Exim sending to the Postfix under test: one smtp transport per entry of `transports`, each
 * with the Exim smtp-transport options as written (hosts_require_tls, hosts_avoid_tls,
 * hosts_require_auth, tls_verify_certificates …). An mta-send check names the transport, and
 * its service gives the port. Exim's own defaults hold for every option not written: it tries
 * STARTTLS when offered and does not verify the certificate.
 */
export interface EximSenderSpec {
  /** A SASL user of the scenario that Exim's PLAIN client authenticator logs in as (with the run's password); null: no authenticator. */
  readonly login: string | null;
  /** Transport name → Exim smtp transport options (name → value, as in Exim's configuration). */
  readonly transports: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** OpenSMTPD (Debian's opensmtpd, OpenSSL through libtls) as a receiving MX on port 25. */
export interface OpensmtpdSpec {
  /** Scenario certificate OpenSMTPD presents (pki); null: no STARTTLS offered. */
  readonly certificate: string | null;
  /** libtls cipher string for the listener ("secure", "compat", or an OpenSSL list); null: libtls's default. */
  readonly ciphers: string | null;
  /** libtls protocols for the listener ("tlsv1.2,tlsv1.3", "all"); null: libtls's default. */
  readonly protocols: string | null;
  /** OpenSMTPD as a sending client of the Postfix under test (mta-send checks); null: it only receives. */
  readonly sender: OpensmtpdSenderSpec | null;
}

/** The relay schemes of OpenSMTPD's `relay host` URL: STARTTLS if offered, required, never; TLS from the first byte. */
export const OPENSMTPD_SCHEMES = ['smtp', 'smtp+tls', 'smtp+notls', 'smtps'] as const;
export type OpensmtpdScheme = (typeof OPENSMTPD_SCHEMES)[number];

/**
 * OpenSMTPD sending to the Postfix under test: one relay action per entry of `relays` and per
 * inet port of the Postfix under test, chosen by the message's envelope sender. An mta-send
 * check names the relay, and its service gives the port.
 */
export interface OpensmtpdSenderSpec {
  /** A SASL user of the scenario the relays with `auth` log in as (with the run's password); null: none logs in. */
  readonly login: string | null;
  readonly relays: Readonly<Record<string, { readonly scheme: OpensmtpdScheme; readonly auth: boolean; readonly options: string | null }>>;
}

export const DEFAULT_EXIM_SPEC: EximSpec = { certificate: null, priority: null, sender: null };
export const DEFAULT_OPENSMTPD_SPEC: OpensmtpdSpec = { certificate: null, ciphers: null, protocols: null, sender: null };

/** Every interop MTA listens here, on its own container address. */
export const INTEROP_MTA_PORT = 25;
