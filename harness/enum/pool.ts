import { LabError } from '../core/errors.js';

/**
 * A bounded pool of connection slots for the probe. At most `limit` attempts hold a slot at
 * once. The limit adapts like TCP congestion control: a throttle signal from the server
 * (SMTP 421, a refused or reset connection) halves it, and every `growAfter` clean attempts
 * in a row give one slot back, never above the configured maximum. Waiters are served in
 * order. After abort() every waiting and future acquire() rejects with the abort reason.
 */
export class AdaptivePool {
  private active = 0;
  private current: number;
  private streak = 0;
  private readonly waiters: { resolve: (release: () => void) => void; reject: (e: Error) => void }[] = [];
  private abortReason: LabError | null = null;
  /** The highest number of slots held at the same time (for the report). */
  peak = 0;

  constructor(
    readonly max: number,
    private readonly growAfter = 4,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new LabError('EINTERNAL', `pool size must be a whole number of at least 1, not ${max}`);
    this.current = max;
  }

  /** The limit in force now (lower than max after throttling). */
  get limit(): number {
    return this.current;
  }

  acquire(): Promise<() => void> {
    if (this.abortReason) return Promise.reject(this.abortReason);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  /** Run `work` holding one slot. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** The server pushed back: halve the limit (at least one slot stays). */
  throttled(): void {
    this.streak = 0;
    this.current = Math.max(1, Math.floor(this.current / 2));
  }

  /** An attempt went through without pushback. */
  succeeded(): void {
    if (this.current >= this.max) return;
    if (++this.streak >= this.growAfter) {
      this.streak = 0;
      this.current++;
      this.pump();
    }
  }

  abort(reason: LabError): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    for (const w of this.waiters.splice(0)) w.reject(reason);
  }

  get aborted(): LabError | null {
    return this.abortReason;
  }

  private pump(): void {
    while (this.active < this.current && this.waiters.length > 0) {
      const w = this.waiters.shift()!;
      this.active++;
      this.peak = Math.max(this.peak, this.active);
      let released = false;
      w.resolve(() => {
        if (released) return;
        released = true;
        this.active--;
        this.pump();
      });
    }
  }
}
