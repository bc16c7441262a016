import type { ProbeVersion } from '../cipher-suites.js';
import type { ClientHelloSpec } from '../client-hello.js';
import { ALL_GROUPS, describeAnswer, EC_GROUPS, type Prober, suiteLabel } from '../prober.js';
import type { ChainOutcome } from './suites.js';

/**
 * Server or client order, per version: from the chain where possible (the server picked a
 * suite offered after another it accepts), else with one hello offering the first two picks
 * reversed.
 */

export interface OrderFinding {
  readonly order: 'server' | 'client' | null;
  readonly evidence: string | null;
}

export async function decideOrder(p: Prober, chain: ChainOutcome): Promise<OrderFinding> {
  const { picks, offered, version: v } = chain;
  if (picks.length < 2) return { order: null, evidence: picks.length === 1 ? 'only one suite accepted' : null };
  const a = picks[0]!.code;
  const idx = (c: number) => offered.indexOf(c);
  const earlier = picks.find((x) => idx(x.code) < idx(a));
  if (earlier) {
    return { order: 'server', evidence: `offered all suites with ${suiteLabel(earlier.code)} before ${suiteLabel(a)}; the server picked ${suiteLabel(a)}` };
  }
  const b = picks[1]!.code;
  const spec: ClientHelloSpec =
    v === 'TLSv1.3' ? { maxVersion: v, ciphers: [b, a], groups: ALL_GROUPS, keyShareGroups: [], ...p.sni() } : { maxVersion: v, ciphers: [b, a], groups: EC_GROUPS, ...p.sni() };
  const r = await p.hello(spec, `${v} order`);
  if (r.kind === 'server-hello' && r.version === v && r.cipher === a) {
    return { order: 'server', evidence: `offered ${suiteLabel(a)} first, then ${suiteLabel(b)} first: the server picked ${suiteLabel(a)} both times` };
  }
  if (r.kind === 'server-hello' && r.version === v && r.cipher === b) {
    return { order: 'client', evidence: `offered ${suiteLabel(a)} first, then ${suiteLabel(b)} first: the server picked the client's first choice both times` };
  }
  p.warnings.push(`${v}: the order test offering ${suiteLabel(b)}, ${suiteLabel(a)} got ${describeAnswer(r, v)}`);
  return { order: null, evidence: `order test answered: ${describeAnswer(r, v)}` };
}
