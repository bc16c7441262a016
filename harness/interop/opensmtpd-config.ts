import type { OpensmtpdSpec } from './mta-spec.js';

/** Where the lab OpenSMTPD image reads its files (containers/opensmtpd/lab-opensmtpd.sh). */
export const OPENSMTPD_PATHS = {
  config: '/etc/smtpd/lab/smtpd.conf',
  virtual: '/etc/smtpd/lab/virtual',
  tlsIn: '/etc/smtpd/lab/tls',
  tls: '/etc/smtpd/lab-tls',
  maildir: '/var/mail/lab/Maildir',
} as const;

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/**
 * The whole smtpd.conf of a receiving lab MX: STARTTLS on port 25 with the scenario's
 * certificate when one is named (libtls ciphers and protocols when the node names them), every
 * recipient accepted and delivered into the lab Maildir as one local user (a catch-all virtual
 * table), nothing relayed. The virtual table is the second file returned.
 */
export function renderOpensmtpdConfig(spec: OpensmtpdSpec, hostname: string): { readonly config: string; readonly virtual: string } {
  const tlsOpts = [...(spec.ciphers ? [`ciphers ${quote(spec.ciphers)}`] : []), ...(spec.protocols ? [`protocols ${quote(spec.protocols)}`] : [])].join(' ');
  const listen = spec.certificate
    ? [`pki lab cert ${quote(`${OPENSMTPD_PATHS.tls}/${spec.certificate}.crt`)}`, `pki lab key ${quote(`${OPENSMTPD_PATHS.tls}/${spec.certificate}.key`)}`, `listen on 0.0.0.0 port 25 tls pki lab hostname ${quote(hostname)}${tlsOpts ? ` ${tlsOpts}` : ''}`]
    : [`listen on 0.0.0.0 port 25 hostname ${quote(hostname)}`];
  return {
    config: [
      '# smtp-tls-lab: a receiving MX (harness/interop/opensmtpd-config.ts); generated per run.',
      ...listen,
      `table labusers file:${OPENSMTPD_PATHS.virtual}`,
      `action "lab" maildir ${quote(OPENSMTPD_PATHS.maildir)} virtual <labusers>`,
      'match from any for any action "lab"',
      '',
    ].join('\n'),
    virtual: '@ labmail\n',
  };
}
