import type { Reader } from '../scenario/validate.js';
import { DEFAULT_EXIM_SPEC, DEFAULT_OPENSMTPD_SPEC, type EximSpec, type OpensmtpdSpec } from './mta-spec.js';

/**
 * The "exim" and "opensmtpd" blocks of a scenario node, read by the scenario loader (data only).
 * Both are optional: without one the MTA offers no STARTTLS. A certificate must be one of the
 * scenario's; the TLS strings are passed to the MTA as written, and a value the MTA refuses is
 * the node's start error, quoting it (exim -bV, smtpd -n).
 */
const certificate = (r: Reader, certNames: readonly string[]) => (r.has('certificate') ? r.field('certificate').oneOf(certNames.length ? certNames : ['(no certificate in this scenario)']) : null);

export function readEximSpec(r: Reader | null, certNames: readonly string[]): EximSpec {
  if (!r) return DEFAULT_EXIM_SPEC;
  r.object(['certificate', 'priority']);
  return {
    certificate: certificate(r, certNames),
    priority: r.has('priority') ? r.field('priority').string(/^[A-Za-z0-9%+:._-]+$/, 'a GnuTLS priority string ("NORMAL:-VERS-TLS1.3")') : null,
  };
}

export function readOpensmtpdSpec(r: Reader | null, certNames: readonly string[]): OpensmtpdSpec {
  if (!r) return DEFAULT_OPENSMTPD_SPEC;
  r.object(['certificate', 'ciphers', 'protocols']);
  return {
    certificate: certificate(r, certNames),
    ciphers: r.has('ciphers') ? r.field('ciphers').string(/^[A-Za-z0-9:+!@=._-]+$/, 'a libtls cipher string ("secure", "compat" or an OpenSSL list)') : null,
    protocols: r.has('protocols') ? r.field('protocols').string(/^[a-z0-9.,!:-]+$/, 'libtls protocols ("tlsv1.2,tlsv1.3", "all")') : null,
  };
}
