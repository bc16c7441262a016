import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLog, parseLogLine } from '../../postfix/log-parser.js';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { expectGolden } from '../golden-file.js';

const dir = path.join(PROJECT_ROOT, 'harness/tests/golden/postfix-log');
const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));

describe('Postfix log parser, on captured real log lines (golden files)', () => {
  it('has golden files to test', () => expect(logs.length).toBeGreaterThanOrEqual(5));
  for (const file of logs) {
    it(file, () => {
      const events = parseLog(fs.readFileSync(path.join(dir, file), 'utf8'));
      expectGolden(path.join(dir, file.replace(/\.log$/, '.json')), events);
    });
  }
});

describe('TLS summary line, field by field (tls_log_summary format)', () => {
  it('reads trust, direction, peer, protocol, cipher, bits, key exchange and signature', () => {
    const e = parseLogLine(
      'Nov 22 05:20:53 mx postfix/smtpd[175]: Anonymous TLS connection established from unknown[172.17.0.1]:35436: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest SHA256',
    );
    expect(e).toMatchObject({
      type: 'tls-established',
      trust: 'Anonymous',
      direction: 'from',
      peer: { name: 'unknown', addr: '172.17.0.1', port: 35436 },
      protocol: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      cipherBits: { used: 256, algorithm: 256 },
      keyExchange: { name: 'X25519', curve: null, bits: null },
      serverSignature: { name: 'RSA-PSS', bits: 2048, digest: 'SHA256' },
      clientSignature: null,
    });
  });

  it('reads the client-side form with a curve (the form in the lab notes)', () => {
    const e = parseLogLine(
      'Nov 22 06:00:00 relay postfix/smtp[90]: Verified TLS connection established to mx.lab.test[172.30.53.25]:25: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (prime256v1) server-digest SHA256',
    );
    expect(e).toMatchObject({ trust: 'Verified', direction: 'to', peer: { name: 'mx.lab.test', port: 25 }, serverSignature: { name: 'ECDSA', curve: 'prime256v1', bits: null } });
  });

  it('reads the SNI detail Postfix adds on the server side', () => {
    const e = parseLogLine('Nov 22 06:00:00 mx postfix/smtpd[9]: Trusted TLS connection established from c[10.0.0.2]:4000 to mail.lab.test: TLSv1.2 with cipher ECDHE-ECDSA-AES256-GCM-SHA384 (256/256 bits)');
    expect(e).toMatchObject({ trust: 'Trusted', sni: 'mail.lab.test', protocol: 'TLSv1.2', keyExchange: null });
  });

  it('keeps an unknown line as "other" with its raw text', () => {
    const e = parseLogLine('Nov 22 06:00:00 mx postfix/anvil[9]: statistics: max connection rate 1/60s');
    expect(e).toMatchObject({ type: 'other', program: 'postfix/anvil', pid: 9 });
  });
});

describe('credentials in level-4 logs', () => {
  it('are redacted by the log stream before they are stored', async () => {
    const { PostfixLog } = await import('../../postfix/log-stream.js');
    const log = new PostfixLog();
    // The shapes of real level-4 lines (see loglevel-4-excerpt.log), carrying an AUTH exchange.
    log.push(
      [
        'Nov 22 06:05:01 mx postfix/smtpd[181]: Read 34 chars: AUTH PLAIN AGFsaWNlQGxhYi50ZXN0AHNlY3JldA==\r\n',
        'Nov 22 06:05:01 mx postfix/smtpd[181]: Write 18 chars: 334 VXNlcm5hbWU6\r\n',
        'Nov 22 06:05:01 mx postfix/smtpd[181]: Read 22 chars: YWxpY2VAbGFiLnRlc3Q=\r\n',
        'Nov 22 06:05:01 mx postfix/smtpd[181]: Write 8 chars: 235 ok\r\n',
        'Nov 22 06:05:01 mx postfix/smtpd[181]: Read 10 chars: NOOP\r\n',
        '',
      ].join('\n'),
    );
    const texts = log.all().map((e) => e.raw).join('\n');
    expect(texts).not.toMatch(/AGFsaWNl|YWxpY2VA/);
    expect(texts).toContain('AUTH PLAIN <redacted>');
    expect(texts).toContain('NOOP');
  });
});
