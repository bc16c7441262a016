import type { Reader } from '../scenario/validate.js';
import { DEFAULT_EXIM_SPEC, DEFAULT_OPENSMTPD_SPEC, OPENSMTPD_SCHEMES, type EximSenderSpec, type EximSpec, type OpensmtpdSenderSpec, type OpensmtpdSpec } from './mta-spec.js';

/**
 * The "exim" and "opensmtpd" blocks of a scenario node, read by the scenario loader (data only).
 * Both are optional: without one the MTA offers no STARTTLS. A certificate must be one of the
 * scenario's; the TLS strings are passed to the MTA as written, and a value the MTA refuses is
 * the node's start error, quoting it (exim -bV, smtpd -n).
 */
const certificate = (r: Reader, certNames: readonly string[]) => (r.has('certificate') ? r.field('certificate').oneOf(certNames.length ? certNames : ['(no certificate in this scenario)']) : null);

export function readEximSpec(r: Reader | null, certNames: readonly string[], saslUsers: readonly string[] = []): EximSpec {
  if (!r) return DEFAULT_EXIM_SPEC;
  r.object(['certificate', 'priority', 'sender']);
  return {
    certificate: certificate(r, certNames),
    priority: r.has('priority') ? r.field('priority').string(/^[A-Za-z0-9%+:._-]+$/, 'a GnuTLS priority string ("NORMAL:-VERS-TLS1.3")') : null,
    sender: r.has('sender') ? readEximSender(r.field('sender'), saslUsers) : null,
  };
}

/**
 * Options the lab sets on every sending transport itself: the port comes from the check's
 * service, and one message per connection keeps one check's message off another check's
 * connection (Exim would otherwise send a waiting message down a connection to another port).
 */
export const EXIM_SENDER_RESERVED_OPTIONS = ['driver', 'port', 'connection_max_messages', 'hosts', 'hosts_override'] as const;

/**
 * What both MTAs' "sender" blocks share: an optional login (one of the scenario's SASL users)
 * and a non-empty table of named entries (Exim transports, OpenSMTPD relays) whose names are
 * lowercase letters, digits and _.
 */
function senderBlock(r: Reader, saslUsers: readonly string[], key: string, say: { readonly what: string; readonly example: string; readonly names: string }): { login: string | null; entries: [string, Reader][] } {
  r.object(['login', key]);
  const login = r.has('login') ? r.field('login').oneOf(saslUsers.length ? saslUsers : ['(no sasl.users in this scenario)']) : null;
  const t = r.field(key);
  const entries = t.entries();
  if (entries.length === 0) t.fail(`at least one ${say.what}`, say.example);
  for (const [name] of entries) if (!/^[a-z][a-z0-9_]{0,30}$/.test(name)) t.fail(`${say.names}; '${name}' is not one`);
  return { login, entries };
}

function readEximSender(r: Reader, saslUsers: readonly string[]): EximSenderSpec {
  const { login, entries } = senderBlock(r, saslUsers, 'transports', {
    what: 'transport ("name": { exim smtp transport options })',
    example: 'add e.g. "starttls": { "hosts_require_tls": "*" }',
    names: 'transport names of lowercase letters, digits and _ (Exim names)',
  });
  const transports: Record<string, Record<string, string>> = {};
  for (const [name, opts] of entries) {
    const options: Record<string, string> = {};
    for (const [option, v] of opts.entries()) {
      if (!/^[a-z][a-z0-9_]*$/.test(option)) opts.fail(`Exim smtp transport option names (lowercase letters, digits, _); '${option}' is not one`);
      if ((EXIM_SENDER_RESERVED_OPTIONS as readonly string[]).includes(option)) v.fail(`an option the lab does not set itself (${EXIM_SENDER_RESERVED_OPTIONS.join(', ')} are the lab's: the port is the check's service)`, `remove "${option}"`);
      options[option] = v.string(/^[^\n\r]*$/, 'an Exim option value on one line');
    }
    transports[name] = options;
  }
  return { login, transports };
}

export function readOpensmtpdSpec(r: Reader | null, certNames: readonly string[], saslUsers: readonly string[] = []): OpensmtpdSpec {
  if (!r) return DEFAULT_OPENSMTPD_SPEC;
  r.object(['certificate', 'ciphers', 'protocols', 'sender']);
  return {
    certificate: certificate(r, certNames),
    ciphers: r.has('ciphers') ? r.field('ciphers').string(/^[A-Za-z0-9:+!@=._-]+$/, 'a libtls cipher string ("secure", "compat" or an OpenSSL list)') : null,
    protocols: r.has('protocols') ? r.field('protocols').string(/^[a-z0-9.,!:-]+$/, 'libtls protocols ("tlsv1.2,tlsv1.3", "all")') : null,
    sender: r.has('sender') ? readOpensmtpdSender(r.field('sender'), saslUsers) : null,
  };
}

function readOpensmtpdSender(r: Reader, saslUsers: readonly string[]): OpensmtpdSenderSpec {
  const { login, entries } = senderBlock(r, saslUsers, 'relays', {
    what: 'relay ("name": { "scheme": "smtp+tls", "auth": true })',
    example: 'add e.g. "starttls": { "scheme": "smtp+tls" }',
    names: 'relay names of lowercase letters, digits and _',
  });
  const relays: Record<string, OpensmtpdSenderSpec['relays'][string]> = {};
  for (const [name, e] of entries) {
    e.object(['scheme', 'auth', 'options']);
    const scheme = e.field('scheme').oneOf(OPENSMTPD_SCHEMES);
    const auth = e.has('auth') ? e.field('auth').boolean() : false;
    // OpenSMTPD's own rule, which `smtpd -n` does not check: the relay then fails at run time ("Failed to parse smarthost").
    if (auth && scheme !== 'smtp+tls' && scheme !== 'smtps') e.field('auth').fail(`a relay that authenticates over TLS (scheme smtp+tls or smtps; OpenSMTPD refuses AUTH over ${scheme}:// when it sends, "Failed to parse smarthost")`, 'use scheme "smtp+tls", or drop "auth"');
    if (auth && !login) e.field('auth').fail('a sender with a "login" (one of the scenario\'s sasl.users) for a relay with "auth"', 'add "login" to the sender');
    relays[name] = { scheme, auth, options: e.has('options') ? e.field('options').string(/^[a-z][a-z0-9 _-]*$/, 'OpenSMTPD relay options as written after the host ("tls no-verify")') : null };
  }
  return { login, relays };
}
