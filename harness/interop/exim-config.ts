import type { EximSpec } from './mta-spec.js';

/** Where the lab Exim image reads its files (containers/exim/lab-exim.sh). */
export const EXIM_PATHS = {
  config: '/etc/exim4/lab/exim4.conf',
  /** The run's certificates, mounted read-only; lab-exim copies them where Debian-exim may read them. */
  tlsIn: '/etc/exim4/lab/tls',
  tls: '/etc/exim4/lab-tls',
  maildir: '/var/mail/lab/Maildir',
} as const;

/**
 * The whole Exim configuration of a receiving lab MX: accept every recipient (nothing is ever
 * routed on: the only router delivers into the lab Maildir), STARTTLS with the scenario's
 * certificate when one is named, and a log that says what TLS each message arrived over
 * (X=, CV=, SNI=, DN=) and when each connection opened and closed. No DNS, no ident: the
 * container has no resolver and no route out.
 */
export function renderEximConfig(spec: EximSpec, primaryHostname: string): string {
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
    'log_selector = +smtp_connection +tls_cipher +tls_peerdn +tls_sni +tls_certificate_verified +incoming_port +received_recipients +smtp_protocol_error +smtp_syntax_error',
    'acl_smtp_rcpt = acl_rcpt',
    ...tls,
    '',
    'begin acl',
    'acl_rcpt:',
    '  accept',
    '',
    'begin routers',
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
    'begin retry',
    '* * F,1h,15m',
    '',
  ].join('\n');
}
