import { byCode, type ProbeVersion } from '../enum/cipher-suites.js';
import { buildClientHello } from '../enum/client-hello.js';
import { DEFAULT_PROBE_TIMEOUTS, exchangeHello, openForTls } from '../enum/starttls-transport.js';
import type { ScenarioSession } from '../lab/scenario-session.js';
import type { CheckSpec } from '../scenario/types.js';
import type { Assertion } from './result.js';
import { evaluate, getPath } from './matchers.js';

const name = (code: number) => byCode(code)?.openssl ?? byCode(code)?.iana ?? `0x${code.toString(16).padStart(4, '0')}`;

/** Compare the accepted suite set `probe` found with the scenario's expected set. */
export async function enumerationAssertions(session: ScenarioSession, check: CheckSpec): Promise<{ assertions: Assertion[]; summary: unknown }> {
  const e = check.enumerate!;
  const result = await session.enumeration(check.service);
  const version = e.protocol as ProbeVersion;
  const accepted = new Set(result.ciphersByProtocol[version].map((s) => s.code));
  const out: Assertion[] = [];
  if (e.accepted) {
    const want = new Set(e.accepted);
    const missing = [...want].filter((c) => !accepted.has(c)).map(name);
    const extra = [...accepted].filter((c) => !want.has(c)).map(name);
    out.push({ subject: 'enumeration', path: `${version} accepted suites`, expected: [...want].map(name).sort(), observed: [...accepted].map(name).sort(), ok: missing.length === 0 && extra.length === 0 });
    if (missing.length) out.push({ subject: 'enumeration', path: `${version} expected but refused`, expected: [], observed: missing, ok: false });
    if (extra.length) out.push({ subject: 'enumeration', path: `${version} accepted but not expected`, expected: [], observed: extra, ok: false });
  }
  for (const c of e.refused) out.push({ subject: 'enumeration', path: `${version} refuses ${name(c)}`, expected: 'refused', observed: accepted.has(c) ? 'accepted' : 'refused', ok: !accepted.has(c) });
  const summary = { protocol: version, accepted: result.ciphersByProtocol[version].map((s) => s.openssl ?? s.iana), order: result.order[version], connections: result.connections };
  return { assertions: out, summary };
}

/**
 * One hand-built ClientHello offering exactly the check's suites (the way testssl.sh's sockets
 * mode tests families OpenSSL clients can no longer offer), then the check's `expect` applied
 * to the server's answer: { kind, alert, version, cipher }.
 */
export async function offerOnlyAssertions(session: ScenarioSession, check: CheckSpec): Promise<{ assertions: Assertion[]; answer: unknown }> {
  const o = check.offerOnly!;
  const ep = session.postfix.endpoint(check.service);
  const opened = await openForTls({ host: ep.host, port: ep.port, mode: ep.port === 465 ? 'implicit' : 'starttls' }, { ehloName: 'client.lab.test', timeouts: DEFAULT_PROBE_TIMEOUTS });
  let answer: Record<string, unknown>;
  try {
    const hello = buildClientHello({ maxVersion: o.version as ProbeVersion, minVersion: o.version as ProbeVersion, ciphers: o.ciphers });
    const a = await exchangeHello(opened.socket, hello, DEFAULT_PROBE_TIMEOUTS.serverAnswer);
    answer =
      a.kind === 'server-hello'
        ? { kind: 'server-hello', version: a.version, cipher: name(a.cipher), localPort: opened.localPort }
        : a.kind === 'alert'
          ? { kind: 'alert', alert: a.name, description: a.description, localPort: opened.localPort }
          : { kind: a.kind, localPort: opened.localPort };
  } finally {
    opened.socket.destroy();
  }
  const assertions = Object.entries(check.expect).map(([path, m]) => {
    const observed = getPath(answer, path);
    const r = evaluate(m, observed, answer);
    return { subject: 'hello', path, expected: r.expected, observed: observed ?? null, ok: r.ok };
  });
  return { assertions, answer };
}
