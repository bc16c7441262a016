import { type ProbeVersion, suitesFor } from '../cipher-suites.js';
import type { ClientHelloSpec } from '../client-hello.js';
import { describeAnswer, EC_GROUPS, type Prober } from '../prober.js';

/** A hello one version below the highest with TLS_FALLBACK_SCSV: inappropriate_fallback (86) means the server honours it. */
export async function fallbackScsv(p: Prober, below: ProbeVersion): Promise<boolean | null> {
  const spec: ClientHelloSpec = { maxVersion: below, ciphers: suitesFor(below), groups: EC_GROUPS, fallbackScsv: true, ...p.sni() };
  const a = await p.hello(spec, `${below} with TLS_FALLBACK_SCSV`);
  if (a.kind === 'alert' && a.description === 86) return true;
  if (a.kind === 'server-hello') return false;
  p.warnings.push(`fallback SCSV: a ${below} hello with TLS_FALLBACK_SCSV got ${describeAnswer(a, below)}, neither inappropriate_fallback nor a ServerHello`);
  return null;
}
