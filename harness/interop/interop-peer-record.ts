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

/** Waits until `match` holds for a line after `marker`, or the bound passes; never throws. */
export async function settle<T>(log: AwaitableLines<T>, name: string, match: (e: T) => boolean, marker: number): Promise<void> {
  await log.waitFor(name, match, RECORD_WAIT_MS, marker).catch(() => null);
}
