/**
 * Outbound log pairing (log-correlation.ts outboundQueue) on captured sender logs: one smtp
 * process delivers several messages in a row, to different peers; each delivery's session
 * must hold that delivery's own TLS summary and verification lines, never a neighbour's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../engine/paths.js';
import { outboundQueue } from '../../checks/log-correlation.js';
import { PostfixLog } from '../../postfix/log-stream.js';
import type { PostfixLogEventOf } from '../../postfix/log-parser.js';

function logOf(name: string): PostfixLog {
  const log = new PostfixLog();
  log.push(fs.readFileSync(path.join(PROJECT_ROOT, 'harness/tests/golden/postfix-log', name), 'utf8'));
  log.end();
  return log;
}

const host = (relay: string) => relay.replace(/\[.*$/, '');

describe('outbound log pairing by queue id and smtp process', () => {
  for (const file of ['outbound-verify-sender.log', 'outbound-protocols-sender.log']) {
    it(`${file}: every delivery's session names its own relay and nothing of another session`, () => {
      const log = logOf(file);
      const deliveries = log.all().filter((e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery' && e.relay !== 'none');
      expect(deliveries.length).toBeGreaterThanOrEqual(8);
      for (const d of deliveries) {
        const session = outboundQueue.session(log, d, 0);
        expect(session.at(-1)).toBe(d);
        for (const e of session) {
          expect([e.program, e.pid]).toEqual([d.program, d.pid]);
          if (e.type === 'tls-established' || e.type === 'tls-verify-failed' || e.type === 'tls-handshake-error') expect(e.peer.name).toBe(host(d.relay));
        }
      }
    });
  }

  it('a deferral for a certificate fault carries the verification line of its own session', () => {
    const log = logOf('outbound-verify-sender.log');
    const byRelay = (h: string) => log.all().find((e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery' && e.relay.startsWith(`${h}[`))!;
    const reason = (h: string) => outboundQueue.session(log, byRelay(h), 0).find((e): e is PostfixLogEventOf<'tls-verify-failed'> => e.type === 'tls-verify-failed')?.reason ?? null;
    expect(reason('expired-peer.lab.test')).toBe('certificate has expired');
    expect(reason('wrongname-peer.lab.test')).toBe('num=62:hostname mismatch');
    expect(reason('good-peer.lab.test')).toBeNull();
  });

  it('events(queueId) holds the message lines and its session, and no other message', () => {
    const log = logOf('outbound-verify-sender.log');
    const d = log.all().find((e): e is PostfixLogEventOf<'delivery'> => e.type === 'delivery')!;
    const own = outboundQueue.events(log, d.queueId, 0);
    expect(own.some((e) => e.type === 'queue-message-id')).toBe(true);
    expect(own.some((e) => e.type === 'tls-established')).toBe(true);
    const others = own.filter((e) => 'queueId' in e && e.queueId !== d.queueId);
    expect(others).toEqual([]);
  });
});
