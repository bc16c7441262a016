import type { AwaitableLines } from '../core/awaitable-lines.js';
import type { PeerRecord } from '../peer/peer-record.js';

/**
 * What every interop receiving MX (Exim, OpenSMTPD) offers the delivery check: a marker into its
 * log, and its record of what reached it since, in the same PeerRecord every receiving node gives
 * (harness/peer/peer-record.ts), read from its own log. The record's `kind` names the MTA.
 */
export type InteropPeerKind = 'exim' | 'opensmtpd';
export type InteropPeerRecord = Omit<PeerRecord, 'kind'> & { readonly kind: InteropPeerKind };

export interface ReceivingMta {
  /** Where this check's lines begin (the log's size now). */
  readonly recordMarker: number;
  /** Connections and messages since `marker`; with `expectMessageId`, waits (bounded) for that message's line first. */
  peerRecord(node: string, marker: number, expectMessageId: string | null): Promise<InteropPeerRecord>;
}

/** How long a receiving MTA's log may lag behind the sender's status=sent. */
export const RECORD_WAIT_MS = 10_000;

/** How long a record waits for the connections of a check to close when no message is expected (the delivery check's own peer settle). */
export const SETTLE_CLOSED_MS = 3_000;

/**
 * Waits (bounded, never throws) until the log after `marker` shows at least one connection and
 * every connection it shows has ended: the sender's "deferred" can be logged before the
 * receiver's own lines about that session reach the harness.
 */
export async function settleClosed<T>(log: AwaitableLines<T>, name: string, opened: (e: T) => string | null, ended: (e: T) => string | null, marker: number): Promise<void> {
  const done = () => {
    const open = new Set<string>();
    let seen = false;
    for (const e of log.since(marker)) {
      const o = opened(e);
      if (o !== null) (open.add(o), (seen = true));
      const c = ended(e);
      if (c !== null) open.delete(c);
    }
    return seen && open.size === 0;
  };
  if (done()) return;
  await log.waitFor(name, () => done(), SETTLE_CLOSED_MS, marker).catch(() => null);
}

/** Waits until `match` holds for a line after `marker`, or the bound passes; never throws. */
export async function settle<T>(log: AwaitableLines<T>, name: string, match: (e: T) => boolean, marker: number): Promise<void> {
  await log.waitFor(name, match, RECORD_WAIT_MS, marker).catch(() => null);
}
