import { describe, expect, it } from 'vitest';
import { deliveryConversations, postfixWords, refusedBy } from '../../checks/conversation.js';
import { parseLogLine } from '../../postfix/log-parser.js';
import { conversationLine, conversationsOf } from '../../report/conversation-view.js';

/** "Who failed to talk to whom": the rule that names the side, on words the lab really logged (interop scenarios, 3 Dec 2026). */
describe('who refused whom', () => {
  it('the side whose own words say it ended the attempt', () => {
    expect(refusedBy('sent', '250 2.0.0 Ok', true)).toBeNull();
    expect(refusedBy('deferred', 'Connection refused', false)).toBe('network');
    // Exim quoting Postfix's reply; Postfix quoting an alert it received from the peer.
    expect(refusedBy('failed', '530 5.7.0 Must issue a STARTTLS command first', true)).toBe('receiver');
    expect(refusedBy('failed', 'SMTP error from remote mail server after pipelined end of data: 530 5.7.0 Must issue a STARTTLS command first', true)).toBe('receiver');
    expect(refusedBy('deferred', 'Cannot start TLS: handshake failure | warning: TLS library problem: error:0A000438:SSL routines::tlsv1 alert internal error:../ssl/record/rec_layer_s3.c:1605:SSL alert number 80:', true)).toBe('receiver');
    // The sender's own policy.
    expect(refusedBy('deferred', 'authentication required but server did not advertise AUTH support', true)).toBe('sender');
    expect(refusedBy('deferred', 'TLS session: (certificate verification failed): certificate invalid', true)).toBe('sender');
    expect(refusedBy('deferred', 'Cannot start TLS: handshake failure | warning: mx-tls12.exim.lab.test[10.213.247.31]:25: Invalid TLS protocol list ">=TLSv1.3": aborting TLS session', true)).toBe('sender');
    // Neither side's words say who: the handshake.
    expect(refusedBy('deferred', 'Cannot start TLS: handshake failure', true)).toBe('handshake');
  });

  it("Postfix's words on a connection: the telling line, else its disconnect line", () => {
    const lines = [
      'Dec 03 16:31:37 mx postfix/submission/smtpd[37]: connect from sender.exim.lab.test[10.213.3.30]:49318',
      'Dec 03 16:31:37 mx postfix/submission/smtpd[37]: warning: TLS library problem: error:0A000412:SSL routines::sslv3 alert bad certificate:../ssl/record/rec_layer_s3.c:1601:SSL alert number 42:',
      'Dec 03 16:31:37 mx postfix/submission/smtpd[37]: disconnect from sender.exim.lab.test[10.213.3.30]:49318 ehlo=1 starttls=1 commands=2',
    ].map(parseLogLine);
    expect(postfixWords(lines)).toMatch(/^warning: TLS library problem: .*SSL alert number 42:$/);
    expect(postfixWords([lines[0]!, lines[2]!])).toBe('disconnect from sender.exim.lab.test[10.213.3.30]:49318 ehlo=1 starttls=1 commands=2');
  });

  it('a delivery check: one conversation per receiving node the relay names, with the node\'s own words', () => {
    const peers = {
      osmtpd: { node: 'osmtpd', kind: 'opensmtpd', messages: [], connections: [{ index: 0, remoteAddress: '10.0.0.10', remotePort: null, greeting: null, ehlo: null, starttls: true, tls: null, handshakeError: 'io-error: error:0A080006:SSL routines::EVP lib', clientHello: null, helloProblem: null, messages: [], closed: true }] },
    } as never;
    const [v] = deliveryConversations({ node: 'sender', software: 'Postfix 3.7.11' }, [{ recipient: 'u@x', status: 'deferred', dsn: '4.7.5', relay: 'mx.opensmtpd.lab.test[10.0.0.31]:25', reason: 'Cannot start TLS: handshake failure', delay: 0, tls: null, verifyFailure: null, starttlsOfferNoted: false }], peers, () => ['mx.opensmtpd.lab.test'], []);
    expect(v).toMatchObject({ receiver: { node: 'osmtpd', kind: 'opensmtpd', port: 25 }, outcome: 'deferred', refusedBy: 'handshake', receiverSays: 'TLS handshake failed: io-error: error:0A080006:SSL routines::EVP lib' });
    expect(conversationLine(v!)).toBe('sender (Postfix 3.7.11) → osmtpd (opensmtpd, port 25): deferred, the TLS handshake failed (each side\'s words say how). sender: "Cannot start TLS: handshake failure"; osmtpd: "TLS handshake failed: io-error: error:0A080006:SSL routines::EVP lib"');
    expect(conversationsOf({ tlsSurface: { conversations: [v] } })).toHaveLength(1);
    expect(conversationsOf({ tlsSurface: { conversation: 'not one' } })).toEqual([]);
  });
});
