import type { Duplex } from 'node:stream';
import { LabError, type ErrorCode, type Stage } from '../core/errors.js';
import type { SmtpReply } from '../tls/observation.js';
import { capabilitiesOf, type SmtpSession } from './smtp-session.js';

/**
 * The one STARTTLS dialogue of the lab's clients: banner → EHLO → STARTTLS → 220 → the stream
 * handed to TLS. The raw client runs the steps one by one (it may stop after any of them,
 * send a probe command in between, or inject one with STARTTLS); the probe's transport runs
 * them all at once (starttlsDialogue). Both apply the same rule to plaintext that arrives
 * after "220 Ready to start TLS": see refusePlaintextAfterStarttls.
 */

/** A reply other than the one the dialogue needs; it carries the reply (a 421 tells the probe to back off). */
export class UnexpectedReplyError extends LabError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly reply: SmtpReply,
    stage: Stage,
  ) {
    super(code, message, { stage });
    this.name = 'UnexpectedReplyError';
  }
}

export function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' / ')}`;
}

export function expectReply(r: SmtpReply, codes: readonly number[], code: ErrorCode, what: string, stage: Stage): void {
  if (!codes.includes(r.code)) throw new UnexpectedReplyError(code, `${what}: ${replyText(r)}`, r, stage);
}

export function advertisesStarttls(capabilities: readonly string[]): boolean {
  return capabilities.some((c) => c.toUpperCase() === 'STARTTLS');
}

/** Names of the dialogue's waits, as they appear in timeout errors and transcripts. */
export interface DialogueWaitNames {
  readonly banner: string;
  readonly ehlo: string;
  readonly starttls: string;
}

export const DEFAULT_WAIT_NAMES: DialogueWaitNames = Object.freeze({ banner: 'banner', ehlo: 'ehlo-reply', starttls: 'starttls-reply' });

/** What a step needs besides the session: its bound, and (optionally) the wait's name and a look at the reply before it is judged. */
export interface StepOptions {
  readonly ms: number;
  readonly name?: string;
  /** Called with the reply before it is checked, so a client can record a refusal it observed (a 554 greeting, a 454 to STARTTLS). */
  readonly seen?: (reply: SmtpReply) => void;
}

/** The greeting; anything but 220 is EBANNER. */
export async function readGreeting(s: SmtpSession, o: StepOptions & { readonly what?: string }): Promise<SmtpReply> {
  s.stage = 'banner';
  const banner = await s.reply(o.name ?? DEFAULT_WAIT_NAMES.banner, o.ms);
  o.seen?.(banner);
  expectReply(banner, [220], 'EBANNER', `${o.what ?? 'the greeting'} was not 220`, 'banner');
  return banner;
}

/** EHLO and its capabilities; anything but 250 is EEHLO. */
export async function sayEhlo(s: SmtpSession, o: StepOptions & { readonly ehloName: string; readonly what?: string }): Promise<{ readonly reply: SmtpReply; readonly capabilities: string[] }> {
  s.stage = 'ehlo';
  const reply = await s.command(`EHLO ${o.ehloName}`, o.name ?? DEFAULT_WAIT_NAMES.ehlo, o.ms);
  o.seen?.(reply);
  expectReply(reply, [250], 'EEHLO', `${o.what ?? 'EHLO'} was refused`, 'ehlo');
  return { reply, capabilities: capabilitiesOf(reply) };
}

export interface StarttlsRequest extends StepOptions {
  /** The EHLO capabilities before TLS: STARTTLS must be among them unless `force`. */
  readonly capabilities: readonly string[];
  /** Send STARTTLS even when it was not advertised. */
  readonly force?: boolean;
  /** A command written in the same packet as STARTTLS (the CVE-2011-0411 class; a safe server discards it). */
  readonly inject?: string;
}

/**
 * STARTTLS, its 220, and the stream detached for TLS. Plaintext after the 220 ends the
 * dialogue (refusePlaintextAfterStarttls), so the stream returned is positioned exactly where
 * the first TLS byte goes.
 */
export async function requestStarttls(s: SmtpSession, r: StarttlsRequest): Promise<{ readonly reply: SmtpReply; readonly stream: Duplex }> {
  s.stage = 'starttls';
  if (!r.force && !advertisesStarttls(r.capabilities)) {
    throw new LabError('ENOSTARTTLS', 'the server did not advertise STARTTLS in its EHLO reply', { stage: 'starttls', detail: r.capabilities.join(', ') });
  }
  const name = r.name ?? DEFAULT_WAIT_NAMES.starttls;
  let reply: SmtpReply;
  if (r.inject !== undefined) {
    // One write: both commands reach the server in the same segment, before TLS starts.
    s.write(`STARTTLS\r\n${r.inject}\r\n`, ['STARTTLS', `${r.inject}   (sent in the same packet as STARTTLS)`]);
    reply = await s.reply(name, r.ms);
  } else {
    reply = await s.command('STARTTLS', name, r.ms);
  }
  r.seen?.(reply);
  expectReply(reply, [220], 'ESTARTTLS', 'STARTTLS was refused', 'starttls');
  const { stream, leftover } = s.detach();
  refusePlaintextAfterStarttls(leftover, s);
  if (!stream) throw new LabError('EINTERNAL', 'STARTTLS: no stream was attached', { stage: 'starttls' });
  return { reply, stream };
}

/**
 * The one rule for bytes after "220 Ready to start TLS" and before the handshake: they can
 * only be an injection (CVE-2011-0411 class, server side, or a man in the middle), and the
 * client that read them as SMTP would be fooled. A careful client discards them and stops:
 * EINJECTION at stage starttls, for every client of the lab.
 */
export function refusePlaintextAfterStarttls(leftover: Buffer, s?: SmtpSession): void {
  if (leftover.length === 0) return;
  s?.note('*', `discarded ${leftover.length} plaintext bytes received after the STARTTLS reply`);
  throw new LabError('EINJECTION', `the server sent ${leftover.length} bytes of plaintext after its STARTTLS reply`, {
    stage: 'starttls',
    detail: JSON.stringify(leftover.toString('latin1').slice(0, 200)),
  });
}

export interface PlaintextDialogue {
  readonly banner: SmtpReply;
  readonly ehlo: SmtpReply;
  readonly capabilities: readonly string[];
  readonly starttls: SmtpReply;
  /** The stream, detached from the session, where the first TLS byte goes. */
  readonly stream: Duplex;
}

/** The whole dialogue in one call: attach, banner, EHLO, STARTTLS, 220, detach. */
export async function starttlsDialogue(
  s: SmtpSession,
  stream: Duplex,
  o: { readonly ehloName: string; readonly timeouts: { readonly banner: number; readonly reply: number }; readonly names?: DialogueWaitNames },
): Promise<PlaintextDialogue> {
  const names = o.names ?? DEFAULT_WAIT_NAMES;
  s.attach(stream);
  try {
    const banner = await readGreeting(s, { ms: o.timeouts.banner, name: names.banner });
    const ehlo = await sayEhlo(s, { ehloName: o.ehloName, ms: o.timeouts.reply, name: names.ehlo });
    const starttls = await requestStarttls(s, { capabilities: ehlo.capabilities, ms: o.timeouts.reply, name: names.starttls });
    return { banner, ehlo: ehlo.reply, capabilities: ehlo.capabilities, starttls: starttls.reply, stream: starttls.stream };
  } finally {
    s.detach();
  }
}
