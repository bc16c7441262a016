import { AwaitableLines } from '../core/awaitable-lines.js';
import { parseLogLine, type PostfixLogEvent } from './log-parser.js';

/** Most log lines kept per container; a flood of lines cannot grow memory without bound. */
const MAX_EVENTS = 20_000;

/**
 * The parsed, awaitable log of one Postfix container. Lines arrive from the container's
 * output stream; each becomes an event. `waitFor` resolves on the first event (already seen
 * or still to come, after an optional marker) that matches, and rejects with the wait's name
 * when its bound expires.
 */
export class PostfixLog extends AwaitableLines<PostfixLogEvent> {
  constructor() {
    super(parseLogLine, { maxRecords: MAX_EVENTS, codes: { ended: 'ETIMEOUT', timeout: 'ETIMEOUT' }, what: 'Postfix log' });
  }

  /** smtpd pids whose last TLS write was a 334 challenge: their next read is a credential. */
  private readonly challenged = new Set<number>();

  /**
   * At smtpd_tls_loglevel 4 Postfix logs the SMTP session in clear, AUTH included. Credentials
   * are replaced before the event is stored, so no report or excerpt can hold them.
   */
  private redact(event: PostfixLogEvent): PostfixLogEvent {
    if (event.type !== 'tls-data' || event.pid === null) return event;
    const pid = event.pid;
    if (event.direction === 'write') {
      if (/^334[ -]/.test(event.text)) this.challenged.add(pid);
      else this.challenged.delete(pid);
      return event;
    }
    const auth = /^(AUTH\s+\S+)\s+\S/i.exec(event.text);
    if (!auth && !this.challenged.has(pid)) return event;
    this.challenged.delete(pid);
    const text = auth ? `${auth[1]} <redacted>` : '<redacted>';
    return { ...event, text, raw: `${event.raw.slice(0, event.raw.indexOf(' chars: ') + 8)}${text}` };
  }

  protected override add(parsed: PostfixLogEvent): void {
    super.add(this.redact(parsed));
  }
}
