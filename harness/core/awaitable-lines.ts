import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { LabError, type ErrorCode } from './errors.js';

/**
 * A container's output as an awaitable list of records, one per line: lines arrive from the
 * container's output stream, each becomes a record (`toRecord`), and `waitFor` resolves on the
 * first record (already seen or still to come, after an optional marker) that matches, or
 * rejects with the wait's name when its bound expires or the output ends (the container
 * exited). At most `maxRecords` are kept, so a flood of lines cannot grow memory without bound.
 * Postfix's parsed log and every lab container's readiness wait are built on this one piece.
 */
export class AwaitableLines<T> {
  private readonly records: T[] = [];
  private readonly emitter = new EventEmitter();
  private partial = '';
  private dropped = 0;
  private ended = false;

  constructor(
    private readonly toRecord: (line: string) => T,
    private readonly opts: { readonly maxRecords: number; readonly codes: { readonly ended: ErrorCode; readonly timeout: ErrorCode }; readonly what: string },
  ) {
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
    for (const line of lines) if (line.trim() !== '') this.add(this.toRecord(line));
  }

  end(): void {
    if (this.partial.trim() !== '') this.add(this.toRecord(this.partial));
    this.partial = '';
    this.ended = true;
    this.emitter.emit('end');
  }

  protected add(record: T): void {
    if (this.records.length >= this.opts.maxRecords) {
      this.records.shift();
      this.dropped++;
    }
    this.records.push(record);
    this.emitter.emit('record', record);
  }

  /** A snapshot of the records seen so far. */
  all(): readonly T[] {
    return [...this.records];
  }

  get droppedCount(): number {
    return this.dropped;
  }

  /** How many records have been seen; use as a marker for `since` and `waitFor`. */
  get size(): number {
    return this.records.length + this.dropped;
  }

  since(marker: number): readonly T[] {
    return this.records.slice(Math.max(0, marker - this.dropped));
  }

  /** `since`: a marker from `size`; only records after it count. */
  waitFor<S extends T>(name: string, match: (r: T) => r is S, timeoutMs: number, since?: number): Promise<S>;
  waitFor(name: string, match: (r: T) => boolean, timeoutMs: number, since?: number): Promise<T>;
  waitFor(name: string, match: (r: T) => boolean, timeoutMs: number, since = 0): Promise<T> {
    const seen = this.since(since).find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.emitter.off('record', onRecord);
        this.emitter.off('end', onEnd);
      };
      const onRecord = (r: T) => {
        if (!match(r)) return;
        cleanup();
        resolve(r);
      };
      const onEnd = () => {
        cleanup();
        reject(new LabError(this.opts.codes.ended, `wait '${name}': the ${this.opts.what} ended before the line arrived`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new LabError(this.opts.codes.timeout, `timeout '${name}' expired after ${timeoutMs} ms waiting for the ${this.opts.what}`));
      }, timeoutMs);
      this.emitter.on('record', onRecord);
      if (this.ended) onEnd();
      else this.emitter.on('end', onEnd);
    });
  }
}
