import { describe, expect, it } from 'vitest';
import { overlayMainCf, paramValue, parseMainCf, renderMainCf } from '../../postfix/main-cf.js';
import { listeningPorts, overlayMasterCf, parseMasterCf } from '../../postfix/master-cf.js';
import { effectiveConfig, GUARD_PARAMETERS } from '../../postfix/effective-config.js';

describe('main.cf', () => {
  it('joins continuation lines, skips comments, keeps non-parameter lines verbatim', () => {
    const items = parseMainCf('# c\nsmtpd_tls_exclude_ciphers = aNULL,\n    eNULL, RC4\n\nthis line is broken\n  # not a continuation target\nx=1\n', 'main.cf');
    expect(items).toEqual([
      { kind: 'param', name: 'smtpd_tls_exclude_ciphers', value: 'aNULL, eNULL, RC4', line: 2, source: 'main.cf' },
      { kind: 'verbatim', text: 'this line is broken', line: 5, source: 'main.cf' },
      { kind: 'param', name: 'x', value: '1', line: 7, source: 'main.cf' },
    ]);
  });

  it('lays a scenario over the base: replace in place, append new', () => {
    const merged = overlayMainCf(parseMainCf('a = 1\nb = 2\n', 'base'), parseMainCf('b = 3\nc = 4\n', 'scenario'));
    expect(renderMainCf(merged, 'h')).toBe('# h\na = 1\nb = 3\nc = 4\n');
    expect(paramValue(merged, 'b')).toBe('3');
  });

  it('puts the lab guard last, so no scenario setting can route mail out of the lab', () => {
    const cfg = effectiveConfig({ mainCf: { text: 'smtpd_tls_security_level = may\n', file: 's/main.cf' }, masterCf: null }, 'test');
    expect(GUARD_PARAMETERS).toEqual(expect.arrayContaining(['maillog_file', 'default_transport', 'relay_transport', 'relayhost']));
    expect(paramValue(cfg.items, 'default_transport')).toMatch(/^error:/);
    expect(paramValue(cfg.items, 'maillog_file')).toBe('/dev/stdout');
    expect(cfg.mainCf).toContain('smtpd_tls_security_level = may');
  });
});

describe('master.cf', () => {
  it('keys entries by service and type, and replaces them', () => {
    const base = parseMasterCf('smtp inet n - n - - smtpd\nsmtp unix - - n - - smtp\n', 'base');
    const over = parseMasterCf('smtp inet n - n - - smtpd\n  -o smtpd_tls_wrappermode=no\nsubmission inet n - n - - smtpd\n  -o smtpd_tls_security_level=encrypt\n', 's');
    const merged = overlayMasterCf(base, over);
    expect(merged.map((e) => `${e.service}/${e.type}`)).toEqual(['smtp/inet', 'smtp/unix', 'submission/inet']);
    expect(merged[0]!.text).toContain('-o smtpd_tls_wrappermode=no');
    expect(listeningPorts(merged)).toEqual([
      { service: 'smtp', port: 25 },
      { service: 'submission', port: 587 },
    ]);
  });

  it('reads host:port and numeric services', () => {
    expect(listeningPorts(parseMasterCf('127.0.0.1:10025 inet n - n - - smtpd\n2525 inet n - n - - smtpd\n', 'm'))).toEqual([
      { service: '127.0.0.1:10025', port: 10025 },
      { service: '2525', port: 2525 },
    ]);
  });
});
