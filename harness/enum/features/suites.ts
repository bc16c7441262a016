import { asLabError, LabError } from '../../core/errors.js';
import { byCode, type ProbeVersion, suitesFor } from '../cipher-suites.js';
import type { ClientHelloSpec } from '../client-hello.js';
import type { SuiteEntry } from '../probe-result.js';
import { ALL_GROUPS, EC_GROUPS, groupName, type Prober, suiteLabel, TLS13_CODES } from '../prober.js';
import type { FinishedAnswer, ServerHelloAnswer } from '../server-answer.js';

/**
 * Suites per version: the choose-and-remove chain. Offer every suite the version can carry,
 * the server picks one, remove it, offer the rest, until the server refuses. With server
 * preference the chain's picks are the server's order. Step 0 is also the version's first
 * answer (does the server speak it at all), step 1 shows the session id (no session_ticket).
 * The chain never rejects: an attempt that fails ends it with the error, keeping the picks so far.
 */

export interface Pick {
  readonly code: number;
  readonly answer: ServerHelloAnswer;
}

export type FirstAnswer = { readonly answer: FinishedAnswer; readonly error: null } | { readonly answer: null; readonly error: LabError };

export interface ChainOutcome {
  readonly version: ProbeVersion;
  readonly first: FirstAnswer;
  readonly picks: readonly Pick[];
  /** The candidate list of the first step, in offer order. */
  readonly offered: readonly number[];
  /** The attempt after step 0 that failed, cutting the list short; null when the chain ran to the server's refusal. */
  readonly error: LabError | null;
}

export interface SuiteChain {
  /** Step 0's answer (or its error), as soon as it is known: which versions exist decides what runs next. */
  readonly first: Promise<FirstAnswer>;
  /** TLS <= 1.2: the session id length answered to step 1 (a hello without session_ticket); null when there was no such answer. */
  readonly sessionIdWithoutTicket: Promise<number | null>;
  readonly done: Promise<ChainOutcome>;
}

export function acceptedAt(a: FinishedAnswer | null, v: ProbeVersion): a is ServerHelloAnswer {
  return a !== null && a.kind === 'server-hello' && a.version === v;
}

export function startSuiteChain(p: Prober, v: ProbeVersion): SuiteChain {
  let resolveFirst!: (f: FirstAnswer) => void;
  let resolveSid!: (n: number | null) => void;
  const first = new Promise<FirstAnswer>((r) => (resolveFirst = r));
  const sessionIdWithoutTicket = new Promise<number | null>((r) => (resolveSid = r));
  const done = (async (): Promise<ChainOutcome> => {
    const tls13 = v === 'TLSv1.3';
    const offered = tls13 ? TLS13_CODES : suitesFor(v);
    let remaining = [...offered];
    const picks: Pick[] = [];
    let firstAnswer: FinishedAnswer | null = null;
    try {
      for (let step = 0; remaining.length > 0 && step <= offered.length; step++) {
        const spec: ClientHelloSpec = tls13
          ? { maxVersion: v, ciphers: remaining, groups: ALL_GROUPS, keyShareGroups: [], ...p.sni() }
          : {
              maxVersion: v,
              ciphers: remaining,
              groups: EC_GROUPS,
              // Step 0 also offers DEFLATE (CRIME); step 1 leaves out session_ticket so the session id shows.
              ...(step === 0 ? { compressionMethods: [1, 0] } : {}),
              ...(step === 1 ? { sessionTicket: false } : {}),
              ...p.sni(),
            };
        const a = await p.hello(spec, `${v} suites, step ${step}`);
        if (step === 0) {
          firstAnswer = a;
          resolveFirst({ answer: a, error: null });
        }
        if (!acceptedAt(a, v)) break;
        if (step === 1 && !tls13) resolveSid(a.sessionIdLength);
        if (!remaining.includes(a.cipher)) {
          p.warnings.push(`${v}: the server picked ${suiteLabel(a.cipher)}, which was not offered; the suite list for ${v} stops there`);
          break;
        }
        picks.push({ code: a.cipher, answer: a });
        remaining = remaining.filter((c) => c !== a.cipher);
      }
      resolveSid(null);
      if (!firstAnswer) throw new LabError('EINTERNAL', `${v}: the chain made no attempt`);
      return { version: v, first: { answer: firstAnswer, error: null }, picks, offered, error: null };
    } catch (e) {
      const err = asLabError(e);
      const f: FirstAnswer = firstAnswer ? { answer: firstAnswer, error: null } : { answer: null, error: err };
      resolveFirst(f);
      resolveSid(null);
      return { version: v, first: f, picks, offered, error: firstAnswer ? err : null };
    }
  })();
  return { first, sessionIdWithoutTicket, done };
}

export function suiteEntry(p: Pick): SuiteEntry {
  const s = byCode(p.code);
  const a = p.answer;
  let keyExchange: SuiteEntry['keyExchange'] = null;
  if (a.version === 'TLSv1.3' && a.selectedGroup !== null) keyExchange = { kind: 'tls13', group: groupName(a.selectedGroup) };
  else if (a.serverKeyExchange?.kind === 'ecdhe') keyExchange = { kind: 'ecdhe', group: groupName(a.serverKeyExchange.group) };
  else if (a.serverKeyExchange?.kind === 'dhe') keyExchange = { kind: 'dhe', bits: a.serverKeyExchange.primeBits };
  const hex = `0x${(p.code >> 8).toString(16).toUpperCase().padStart(2, '0')},0x${(p.code & 0xff).toString(16).toUpperCase().padStart(2, '0')}`;
  return {
    code: p.code,
    hex: s?.hex ?? hex,
    openssl: s?.openssl ?? null,
    iana: s?.iana ?? `unknown-${hex}`,
    kx: s?.kx ?? 'unknown',
    au: s?.au ?? 'unknown',
    enc: s?.enc ?? 'unknown',
    mac: s?.mac ?? 'unknown',
    bits: s?.bits ?? 0,
    keyExchange,
  };
}
