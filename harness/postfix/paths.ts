/**
 * Where things live inside a lab Postfix container. Scenario files refer to these paths.
 * Data only, with no imports, so that loading a scenario pulls in no Docker library.
 */
export const CONTAINER_PATHS = {
  mainCf: '/etc/postfix/main.cf',
  masterCf: '/etc/postfix/master.cf',
  maps: '/etc/postfix/lab/maps',
  tls: '/etc/postfix/lab/tls',
  dh: '/usr/share/smtp-tls-lab/dh',
  maildir: '/var/mail/lab/inbox',
} as const;
