import { describe, expect, it } from 'vitest';
import { overlayConfig } from '../../check/overlay.js';
import { checkedServices } from '../../check/services.js';
import { parseMainCf } from '../../postfix/main-cf.js';
import { parseMasterCf } from '../../postfix/master-cf.js';

/** The overlay check lays over a user's files (pure: the folder's files are given in memory). */
const overlay = (main: string, master: string | null = null, files: Record<string, string> = {}) =>
  overlayConfig({ mainCf: { file: '/u/main.cf', text: main }, masterCf: master === null ? null : { file: '/u/master.cf', text: master }, files: new Map(Object.entries(files)) }, '/u');
const value = (text: string, name: string) => parseMainCf(text, 'x').flatMap((i) => (i.kind === 'param' && i.name === name ? [i.value] : [])).pop();

describe('the overlay', () => {
  it("maps Let's Encrypt paths to one lab RSA certificate with the user's host name, and says so", () => {
    const o = overlay('myhostname = mx.example.org\nsmtpd_tls_cert_file = /etc/letsencrypt/live/mx.example.org/fullchain.pem\nsmtpd_tls_key_file = /etc/letsencrypt/live/mx.example.org/privkey.pem\nsmtpd_tls_CAfile = /etc/ssl/my-ca.pem\n');
    expect(o.certificates).toEqual([{ name: 'fullchain', commonName: 'mx.example.org', sans: ['mx.example.org', 'mx.lab.test'], key: 'rsa-2048' }]);
    expect(value(o.mainCf.text, 'smtpd_tls_cert_file')).toBe('/etc/postfix/lab/tls/fullchain.crt');
    expect(value(o.mainCf.text, 'smtpd_tls_key_file')).toBe('/etc/postfix/lab/tls/fullchain.key');
    expect(value(o.mainCf.text, 'smtpd_tls_CAfile')).toBe('/etc/postfix/lab/tls/lab-ca.crt');
    expect(o.overlay.map((e) => `${e.where}: ${e.parameter}`)).toEqual(['main.cf, line 2: smtpd_tls_cert_file', 'main.cf, line 3: smtpd_tls_key_file', 'main.cf, line 4: smtpd_tls_CAfile']);
    expect(o.problems).toEqual([]);
  });

  it('key types follow the parameter or the file name; a certificate without a key file gets the lab key added', () => {
    const o = overlay('smtpd_tls_cert_file = /etc/ssl/mx-ecdsa.pem\nsmtpd_tls_eccert_file = /etc/ssl/other.pem\nsmtpd_tls_eckey_file = /etc/ssl/other.key\n');
    expect(o.certificates.map((c) => [c.name, c.key])).toEqual([['mx-ecdsa', 'ec-p256'], ['other', 'ec-p256']]);
    expect(value(o.mainCf.text, 'smtpd_tls_key_file')).toBe('/etc/postfix/lab/tls/mx-ecdsa.key');
    expect(o.overlay.find((e) => e.parameter === 'smtpd_tls_key_file')?.where).toBe('main.cf (added)');
  });

  it('chain_files with two files becomes an RSA and an ECDSA pair', () => {
    const o = overlay('smtpd_tls_chain_files = /etc/ssl/a.pem, /etc/ssl/b.pem\n');
    expect(o.certificates.map((c) => [c.name, c.key])).toEqual([['a', 'rsa-2048'], ['b', 'ec-p256']]);
    expect(value(o.mainCf.text, 'smtpd_tls_chain_files')).toBeUndefined();
    expect(value(o.mainCf.text, 'smtpd_tls_eccert_file')).toBe('/etc/postfix/lab/tls/b.crt');
  });

  it('the guard, addresses and SASL backend are the lab\'s; -o certificate overrides and host addresses in master.cf are rewritten', () => {
    const o = overlay(
      'maillog_file = /var/log/mail.log\ninet_interfaces = 192.0.2.1\nsmtpd_sasl_type = dovecot\nsmtpd_sasl_auth_enable = yes\n',
      '192.0.2.1:smtp inet n - y - - smtpd\nsubmission inet n - n - - smtpd\n  -o smtpd_tls_cert_file=$config_directory/sub.pem\n  -o smtpd_tls_key_file=/etc/postfix/sub.key\n',
    );
    expect(value(o.mainCf.text, 'maillog_file')).toBeUndefined();
    expect(value(o.mainCf.text, 'inet_interfaces')).toBe('all');
    expect(value(o.mainCf.text, 'smtpd_sasl_type')).toBe('cyrus');
    expect(o.saslUsers).toEqual(['check@lab.test']);
    const master = parseMasterCf(o.masterCf!.text, 'm');
    expect(master.map((e) => e.service)).toEqual(['smtp', 'submission']);
    expect(master[0]!.fields[4]).toBe('n');
    expect(master[1]!.text).toMatch(/-o smtpd_tls_cert_file=\/etc\/postfix\/lab\/tls\/sub\.crt/);
    expect(master[1]!.text).toMatch(/-o smtpd_tls_key_file=\/etc\/postfix\/lab\/tls\/sub\.key/);
    expect(o.overlay.map((e) => e.parameter)).toEqual(expect.arrayContaining(['maillog_file', 'inet_interfaces', '(service address)', '(chroot)', 'smtpd_tls_cert_file', '(sasldb)']));
  });

  it('maps come from the folder by base name; one it lacks is a problem naming the parameter, with an empty stand-in', () => {
    const o = overlay('smtpd_client_restrictions = check_client_access cidr:/etc/postfix/clients.cidr, check_sender_access hash:/etc/postfix/senders\n', null, { 'clients.cidr': '192.0.2.0/24 REJECT\n' });
    expect(value(o.mainCf.text, 'smtpd_client_restrictions')).toBe('check_client_access cidr:/etc/postfix/lab/maps/clients.cidr, check_sender_access hash:/etc/postfix/lab/maps/senders');
    expect(o.maps.map((m) => [m.name, m.postmap, m.text])).toEqual([['clients.cidr', null, '192.0.2.0/24 REJECT\n'], ['senders', 'hash', '']]);
    expect(o.problems).toEqual([{ parameter: 'smtpd_client_restrictions', where: 'main.cf, line 1', message: expect.stringMatching(/names hash:\/etc\/postfix\/senders, but \/u\/senders does not exist/) }]);
  });
});

describe('the services check judges', () => {
  it('25/587/465 and custom ports, by role and TLS mode, with -o overrides', () => {
    const master = parseMasterCf(
      'smtp inet n - n - - smtpd\nsubmission inet n - n - - smtpd\n  -o syslog_name=postfix/$service_name\nsmtps inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=yes\n2525 inet n - n - - smtpd\n  -o smtpd_sasl_auth_enable=yes\n2626 inet n - n - - smtpd\npickup unix n - n 60 1 pickup\n',
      'm',
    );
    expect(checkedServices(master, []).map((s) => [s.port, s.mode, s.role, s.syslogName])).toEqual([
      [25, 'starttls', 'relay', null],
      [587, 'starttls', 'submission', 'postfix/submission'],
      [465, 'implicit', 'submission', null],
      [2525, 'starttls', 'submission', null],
      [2626, 'starttls', 'relay', null],
    ]);
  });
});
