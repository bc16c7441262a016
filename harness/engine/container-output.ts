import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import { LabError } from '../core/errors.js';

/** Most lines kept: enough to explain a failed start; a chatty container cannot grow memory. */
const MAX_LINES = 2_000;

/**
 * The output of one lab container as lines, awaitable: `waitForLine` resolves on the first
 * line (already seen or still to come) that matches, and rejects with the wait's name when
 * its bound expires or the output ends (the container exited).
 */
export class ContainerOutput {
  private readonly kept: string[] = [];
  private readonly emitter = new EventEmitter();
  private partial = '';
  private ended = false;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  attach(stream: Readable): void {
    stream.on('data', (chunk: Buffer | string) => this.push(chunk.toString()));
    stream.on('end', () => this.end());
    stream.on('error', () => this.end());
  }

  push(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') this.add(line);
  }

  end(): void {
    if (this.partial.trim() !== '') this.add(this.partial);
    this.partial = '';
    this.ended = true;
    this.emitter.emit('end');
  }

  private add(line: string): void {
    if (this.kept.length >= MAX_LINES) this.kept.shift();
    this.kept.push(line);
    this.emitter.emit('line', line);
  }

  lines(): readonly string[] {
    return [...this.kept];
  }

  waitForLine(name: string, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
    const seen = this.kept.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.emitter.off('line', onLine);
        this.emitter.off('end', onEnd);
      };
      const onLine = (l: string) => {
        if (!match(l)) return;
        cleanup();
        resolve(l);
      };
      const onEnd = () => {
        cleanup();
        reject(new LabError('ECONTAINER', `wait '${name}': the container's output ended (it exited) before the line arrived`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new LabError('ENOT_READY', `timeout '${name}' expired after ${timeoutMs} ms`));
      }, timeoutMs);
      this.emitter.on('line', onLine);
      if (this.ended) onEnd();
      else this.emitter.on('end', onEnd);
    });
  }
}
