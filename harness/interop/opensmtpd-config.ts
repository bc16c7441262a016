import type { OpensmtpdSenderSpec, OpensmtpdSpec } from './mta-spec.js';

/** Where the lab OpenSMTPD image reads its files (containers/opensmtpd/lab-opensmtpd.sh). */
export const OPENSMTPD_PATHS = {
  config: '/etc/smtpd/lab/smtpd.conf',
  virtual: '/etc/smtpd/lab/virtual',
  tlsIn: '/etc/smtpd/lab/tls',
  tls: '/etc/smtpd/lab-tls',
  maildir: '/var/mail/lab/Maildir',
  /** The SASL user a sender's relays log in as; lab-opensmtpd builds the credentials table from it and the run's secrets. */
  senderLogin: '/etc/smtpd/lab/sender-login',
  /** "lab USER:PASSWORD", made at start by lab-opensmtpd (root-only), never by the harness. */
  secrets: '/etc/smtpd/lab-tls/lab-secrets',
} as const;

/** The envelope sender that selects a relay and a port (one action per pair): send-RELAY-PORT@lab.test. */
export const opensmtpdSendFrom = (relay: string, port: number): string => `send-${relay}-${port}@lab.test`;

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/**
 * The whole smtpd.conf of a receiving lab MX: STARTTLS on port 25 with the scenario's
 * certificate when one is named (libtls ciphers and protocols when the node names them), every
 * recipient accepted and delivered into the lab Maildir as one local user (a catch-all virtual
 * table), nothing relayed. The virtual table is the second file returned.
 */
export function renderOpensmtpdConfig(spec: OpensmtpdSpec, hostname: string, sendTo: { readonly host: string; readonly ports: readonly number[] } | null = null): { readonly config: string; readonly virtual: string; readonly senderLogin: string | null } {
  const sending = spec.sender && sendTo ? senderLines(spec.sender, sendTo) : [];
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
      // The sending matches come first: OpenSMTPD takes the first rule that matches.
      ...sending,
      'match from any for any action "lab"',
      '',
    ].join('\n'),
    virtual: '@ labmail\n',
    senderLogin: spec.sender?.login ? `${spec.sender.login}\n` : null,
  };
}

/**
 * The sending side: per relay and per inet port of the Postfix under test, a relay action to
 * it by its lab host name, chosen by the envelope sender (opensmtpdSendFrom). A relay with
 * `auth` logs in with the credentials table lab-opensmtpd makes from the run's secrets.
 */
function senderLines(sender: OpensmtpdSenderSpec, sendTo: { readonly host: string; readonly ports: readonly number[] }): string[] {
  const out = sender.login && Object.values(sender.relays).some((r) => r.auth) ? [`table labsecrets file:${OPENSMTPD_PATHS.secrets}`] : [];
  for (const [name, r] of Object.entries(sender.relays)) {
    for (const port of sendTo.ports) {
      const action = `send_${name}_${port}`;
      out.push(
        `action "${action}" relay host ${r.scheme}://${r.auth ? 'lab@' : ''}${sendTo.host}:${port}${r.auth ? ' auth <labsecrets>' : ''}${r.options ? ` ${r.options}` : ''}`,
        `match from local mail-from ${quote(opensmtpdSendFrom(name, port))} for any action "${action}"`,
      );
    }
  }
  return out;
}
