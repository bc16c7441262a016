import { describe, expect, it } from 'vitest';
import { NO_STARTTLS, parseSClient } from '../../clients/openssl-output.js';
import { parseGnutlsCli } from '../../clients/gnutls-output.js';

/**
 * A server without STARTTLS (Postfix 3.7.11, smtpd_tls_security_level = none), met by both
 * container clients on bookworm, 3 Dec 2026: the lines each printed (from the observations'
 * transcripts). Both go on after the missing offer and fail a handshake; both must be read as
 * "no STARTTLS". The openssl client matched s_client's words case-sensitively and missed them.
 */
const sClient = [
  'CONNECTED(00000003)',
  "Didn't find STARTTLS in server response, trying anyway...",
  '809B51114C7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:350:',
].join('\n');

const gnutls = [
  'lab-exit=1',
  'lab-local=10.213.21.20:40000',
  "Connecting to '10.213.21.10:25'...",
  '',
  '- Simple Client Mode:',
  '',
  '220 mx.lab.test ESMTP Postfix (smtp-tls-lab)',
  '250-mx.lab.test',
  '250-PIPELINING',
  '250 CHUNKING',
  '502 5.5.1 Error: command not implemented',
  '*** Fatal error: An unexpected TLS packet was received.',
].join('\n');

describe('no STARTTLS offered: gnutls-cli and s_client say so in their own words', () => {
  it("s_client 3.0.20: \"Didn't find STARTTLS in server response\" (capital D) is the missing offer, kept among the errors", () => {
    expect(NO_STARTTLS.test(sClient)).toBe(true);
    expect(parseSClient(sClient).errors[0]).toBe("Didn't find STARTTLS in server response, trying anyway...");
  });

  it('gnutls-cli: an EHLO reply without STARTTLS, then 502 to STARTTLS and no session', () => {
    const p = parseGnutlsCli(gnutls);
    expect(p.handshakeCompleted).toBe(false);
    expect(p.beforeTls).toBeNull();
    expect(p.replies.map((r) => r.code)).toEqual([220, 250, 502]);
    expect(p.replies[1]!.lines.some((l) => /^250[ -]STARTTLS\b/.test(l))).toBe(false);
  });
});
