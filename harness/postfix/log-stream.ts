import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { LabError } from '../core/errors.js';
import { parseLogLine, type PostfixLogEvent } from './log-parser.js';

/** Most log lines kept per container; a flood of lines cannot grow memory without bound. */
const MAX_EVENTS = 20_000;

/**
 * The parsed, awaitable log of one Postfix container. Lines arrive from the container's
 * output stream; each becomes an event. `waitFor` resolves on the first event (already seen
 * or still to come) that matches, and rejects with the wait's name when its bound expires.
 */
export class PostfixLog {
  private readonly events: PostfixLogEvent[] = [];
  private readonly emitter = new EventEmitter();
  private partial = '';
  private dropped = 0;
  private ended = false;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Feed a Docker log stream (Testcontainers demultiplexes stdout/stderr into text). */
  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => this.push(chunk.toString()));
    stream.on('end', () => this.end());
    stream.on('error', () => this.end());
  }

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') this.add(parseLogLine(line));
  }

  end(): void {
    if (this.partial.trim() !== '') this.add(parseLogLine(this.partial));
    this.partial = '';
    this.ended = true;
    this.emitter.emit('end');
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

  private add(parsed: PostfixLogEvent): void {
    const event = this.redact(parsed);
    if (this.events.length >= MAX_EVENTS) {
      this.events.shift();
      this.dropped++;
    }
    this.events.push(event);
    this.emitter.emit('event', event);
  }

  /** A snapshot of the events seen so far. */
  all(): readonly PostfixLogEvent[] {
    return [...this.events];
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** How many events have been seen; use as a marker for `since`. */
  get size(): number {
    return this.events.length + this.dropped;
  }

  since(marker: number): readonly PostfixLogEvent[] {
    return this.events.slice(Math.max(0, marker - this.dropped));
  }

  /** `since`: a marker from `size`; only events after it count (older lines of another connection must not answer the wait). */
  waitFor<T extends PostfixLogEvent>(
    name: string,
    match: (e: PostfixLogEvent) => e is T,
    timeoutMs: number,
    since?: number,
  ): Promise<T>;
  waitFor(name: string, match: (e: PostfixLogEvent) => boolean, timeoutMs: number, since?: number): Promise<PostfixLogEvent>;
  waitFor(name: string, match: (e: PostfixLogEvent) => boolean, timeoutMs: number, since = 0): Promise<PostfixLogEvent> {
    const seen = this.since(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.emitter.off('event', onEvent);
        this.emitter.off('end', onEnd);
      };
      const onEvent = (e: PostfixLogEvent) => {
        if (match(e)) {
          cleanup();
          resolve(e);
        }
      };
      const onEnd = () => {
        cleanup();
        reject(new LabError('ETIMEOUT', `wait '${name}': the Postfix log ended before the event arrived`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new LabError('ETIMEOUT', `timeout '${name}' expired after ${timeoutMs} ms waiting for a Postfix log event`));
      }, timeoutMs);
      this.emitter.on('event', onEvent);
      if (this.ended) onEnd();
      else this.emitter.on('end', onEnd);
    });
  }
}
