import { LabError } from '../core/errors.js';
import type { EximSenderSpec, EximSpec } from './mta-spec.js';

/** Where the lab Exim image reads its files (containers/exim/lab-exim.sh). */
export const EXIM_PATHS = {
  config: '/etc/exim4/lab/exim4.conf',
  /** The run's certificates, mounted read-only; lab-exim copies them where Debian-exim may read them. */
  tlsIn: '/etc/exim4/lab/tls',
  tls: '/etc/exim4/lab-tls',
  maildir: '/var/mail/lab/Maildir',
  /** The run's SASL secrets file ("user:password" lines), copied with the certificates; the client authenticator looks its user up here, so no password is in the configuration. */
  saslUsers: '/etc/exim4/lab-tls/sasl-users',
} as const;

/** The headers a message carries to pick its sending transport and the port (mta-send checks; harness/interop/exim-container.ts send()). */
export const EXIM_SEND_HEADERS = { transport: 'X-Lab-Transport', port: 'X-Lab-Port' } as const;

/** Exim's name of a scenario's sending transport (its router is send_NAME). */
export const eximSendTransport = (name: string): string => `lab_send_${name}`;

/**
 * The whole Exim configuration of a receiving lab MX: accept every recipient (nothing is ever
 * routed on: the only router delivers into the lab Maildir), STARTTLS with the scenario's
 * certificate when one is named, and a log that says what TLS each message arrived over
 * (X=, CV=, SNI=, DN=) and when each connection opened and closed. No DNS, no ident: the
 * container has no resolver and no route out.
 */
export function renderEximConfig(spec: EximSpec, primaryHostname: string, sendTo: string | null = null): string {
  if (spec.sender && !sendTo) throw new LabError('EINTERNAL', 'an Exim sender needs the host name of the Postfix under test');
  const sender = spec.sender && sendTo ? senderParts(spec.sender, sendTo) : { routers: [], transports: [], authenticators: [] };
  const tls = spec.certificate
    ? [
        'tls_advertise_hosts = *',
        `tls_certificate = ${EXIM_PATHS.tls}/${spec.certificate}.crt`,
        `tls_privatekey = ${EXIM_PATHS.tls}/${spec.certificate}.key`,
        ...(spec.priority ? [`tls_require_ciphers = ${spec.priority}`] : []),
      ]
    : ['tls_advertise_hosts ='];
  return [
    '# smtp-tls-lab: a receiving MX (harness/interop/exim-config.ts); generated per run.',
    `primary_hostname = ${primaryHostname}`,
    'daemon_smtp_ports = 25',
    'local_interfaces = <; 0.0.0.0',
    'disable_ipv6 = true',
    'never_users = root',
    'keep_environment =',
    'host_lookup =',
    'rfc1413_hosts =',
    'rfc1413_query_timeout = 0s',
    'log_file_path = /var/log/exim4/%slog',
    'log_selector = +smtp_connection +tls_cipher +tls_peerdn +tls_sni +tls_certificate_verified +incoming_port +outgoing_port +outgoing_interface +received_recipients +smtp_protocol_error +smtp_syntax_error',
    'acl_smtp_rcpt = acl_rcpt',
    ...tls,
    '',
    'begin acl',
    'acl_rcpt:',
    '  accept',
    '',
    'begin routers',
    ...sender.routers,
    'lab_mailbox:',
    '  driver = accept',
    '  transport = lab_maildir',
    '',
    'begin transports',
    'lab_maildir:',
    '  driver = appendfile',
    `  directory = ${EXIM_PATHS.maildir}`,
    '  maildir_format',
    '  create_directory',
    '  user = Debian-exim',
    '  group = Debian-exim',
    '  mode = 0640',
    '  envelope_to_add',
    '  return_path_add',
    '',
    ...sender.transports,
    'begin retry',
    '* * F,1h,15m',
    '',
    ...(sender.authenticators.length ? ['begin authenticators', ...sender.authenticators] : []),
  ].join('\n');
}

/**
 * The sending side: per transport a router that takes only messages whose X-Lab-Transport
 * header names it (a router per transport, because Exim refuses a transport name expanded from
 * a header: it is tainted) and routes them to the Postfix under test by its lab host name
 * (/etc/hosts), and an smtp transport with the scenario's options. The port is the message's
 * X-Lab-Port header (the check's service). With a login, a PLAIN client authenticator whose
 * password is looked up in the run's secrets file; Exim uses it where a transport's
 * hosts_require_auth or hosts_try_auth says so.
 */
function senderParts(sender: EximSenderSpec, sendTo: string): { routers: string[]; transports: string[]; authenticators: string[] } {
  const routers: string[] = [];
  const transports: string[] = [];
  for (const [name, options] of Object.entries(sender.transports)) {
    routers.push(
      `send_${name}:`,
      '  driver = manualroute',
      `  condition = \${if eq{$h_${EXIM_SEND_HEADERS.transport.toLowerCase()}:}{${name}}}`,
      `  route_list = * ${sendTo} byname`,
      `  transport = ${eximSendTransport(name)}`,
      '  self = send',
      '',
    );
    transports.push(
      `${eximSendTransport(name)}:`,
      '  driver = smtp',
      `  port = $h_${EXIM_SEND_HEADERS.port.toLowerCase()}:`,
      '  connection_max_messages = 1',
      ...Object.entries(options).map(([k, v]) => `  ${k} = ${v}`),
      '',
    );
  }
  const authenticators = sender.login
    ? ['lab_plain:', '  driver = plaintext', '  public_name = PLAIN', `  client_send = ^${sender.login}^\${lookup{${sender.login}}lsearch{${EXIM_PATHS.saslUsers}}}`, '']
    : [];
  return { routers, transports, authenticators };
}
