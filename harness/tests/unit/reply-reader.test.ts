import { describe, expect, it } from 'vitest';
import { ReplyReader } from '../../smtp/reply-reader.js';

const feed = (r: ReplyReader, s: string | Buffer) => r.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, 'ehlo');

describe('SMTP reply reader', () => {
  it('assembles a multiline reply across chunks', () => {
    const r = new ReplyReader();
    feed(r, '250-mx.lab.test\r\n250-PIPE');
    expect(r.shift()).toBeUndefined();
    feed(r, 'LINING\r\n250 STARTTLS\r\n');
    expect(r.shift()).toEqual({ code: 250, lines: ['mx.lab.test', 'PIPELINING', 'STARTTLS'] });
  });

  it('refuses an over-long line without buffering it all', () => {
    const r = new ReplyReader({ maxLineBytes: 100, maxLines: 10 });
    feed(r, `220 ${'x'.repeat(500)}`);
    expect(r.error?.code).toBe('EREPLY_TOO_LONG');
  });

  it('refuses a multiline reply that never ends', () => {
    const r = new ReplyReader({ maxLineBytes: 100, maxLines: 5 });
    feed(r, '250-a\r\n'.repeat(10));
    expect(r.error?.code).toBe('EREPLY_TOO_LONG');
    expect(r.error?.stage).toBe('ehlo');
  });

  it('refuses text that is not an SMTP reply', () => {
    const r = new ReplyReader();
    feed(r, 'HTTP/1.1 400 Bad Request\r\n');
    expect(r.error?.code).toBe('EPROTOCOL');
  });

  it('refuses a multiline reply that changes its code', () => {
    const r = new ReplyReader();
    feed(r, '250-a\r\n251 b\r\n');
    expect(r.error?.code).toBe('EPROTOCOL');
  });

  it('keeps invalid UTF-8 bytes as they are (latin1), and accepts a bare LF', () => {
    const r = new ReplyReader();
    feed(r, Buffer.concat([Buffer.from('220 caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\n')]));
    expect(r.shift()?.lines[0]).toBe('caf\u00e9\u00ff');
  });

  it('hands back bytes that arrived after the last complete reply (STARTTLS injection evidence)', () => {
    const r = new ReplyReader();
    feed(r, '220 2.0.0 Ready to start TLS\r\n250 injected\r\n');
    expect(r.shift()?.code).toBe(220);
    expect(r.takeLeftover().toString()).toContain('injected');
  });
});
