import type { CheckResult, Conversation } from './types.js';

/**
 * A check's conversations as the reporters show them: mta-send checks keep one in
 * tlsSurface.conversation, delivery checks one per receiving node in tlsSurface.conversations.
 * Read defensively: the surface is free-form, and older reports have neither.
 */
export function conversationsOf(c: Pick<CheckResult, 'tlsSurface'>): Conversation[] {
  const t = c.tlsSurface as { conversation?: unknown; conversations?: unknown } | undefined;
  const list = [...(t?.conversation ? [t.conversation] : []), ...(Array.isArray(t?.conversations) ? t.conversations : [])];
  return list.filter((x): x is Conversation => typeof x === 'object' && x !== null && 'sender' in x && 'receiver' in x && 'outcome' in x);
}

const BY: Record<NonNullable<Conversation['refusedBy']>, string> = {
  sender: 'refused by the sender',
  receiver: 'refused by the receiver',
  handshake: "the TLS handshake failed (each side's words say how)",
  network: 'the receiver saw no connection',
};

/** "exim-sender (Exim 4.96) → mx (postfix, port 587)". */
export function conversationParties(v: Conversation): string {
  const software = v.sender.software ? v.sender.software.replace(/^Exim version (\S+).*$/, 'Exim $1') : v.sender.kind;
  return `${v.sender.node} (${software}) → ${v.receiver.node} (${v.receiver.kind}${v.receiver.port === null ? '' : `, port ${v.receiver.port}`})`;
}

/** The outcome and who ended it: "deferred, refused by the sender", or "sent". */
export function conversationOutcome(v: Conversation): string {
  return v.refusedBy ? `${v.outcome}, ${BY[v.refusedBy]}` : v.outcome;
}

/** One line for a terminal or a table cell: parties, outcome, and each side's own words. */
export function conversationLine(v: Conversation, max = 160): string {
  const cut = (s: string) => ([...s].length > max ? `${[...s].slice(0, max).join('')}…` : s);
  const says = [v.senderSays ? `${v.sender.node}: "${cut(v.senderSays)}"` : null, v.receiverSays ? `${v.receiver.node}: "${cut(v.receiverSays)}"` : null].filter(Boolean).join('; ');
  return `${conversationParties(v)}: ${conversationOutcome(v)}${says ? `. ${says}` : ''}`;
}
