import type { ProbeVersion } from '../../../enum/cipher-suites.js';
import { buildClientHello } from '../../../enum/client-hello.js';
import { DEFAULT_PROBE_TIMEOUTS, exchangeHello, openForTls } from '../../../enum/starttls-transport.js';
import { inboundSmtpd } from '../../log-correlation.js';
import { expectationAssertions, serverLogAssertions } from '../../server-log.js';
import { suiteName } from '../enumeration/run.js';
import { addEvents, type CheckRunner } from '../runner.js';
import type { HelloAnswerView, OfferOnlyCheck } from './spec.js';

/**
 * One hand-built ClientHello offering exactly the check's suites (the way testssl.sh's sockets
 * mode tests families OpenSSL clients can no longer offer), then the check's `expect` applied
 * to the server's answer.
 */
export const runOfferOnly: CheckRunner<OfferOnlyCheck> = async (session, check, out) => {
  const o = check.offerOnly;
  const ep = session.postfix.endpoint(check.service);
  const log = session.postfix.log;
  const since = log.size;
  const opened = await openForTls({ host: ep.host, port: ep.port, mode: session.serviceMode(check.service) }, { ehloName: 'client.lab.test', timeouts: DEFAULT_PROBE_TIMEOUTS });
  const address = opened.socket.localAddress ?? null;
  let answer: HelloAnswerView;
  try {
    const hello = buildClientHello({ maxVersion: o.version as ProbeVersion, minVersion: o.version as ProbeVersion, ciphers: o.ciphers });
    const a = await exchangeHello(opened.socket, hello, DEFAULT_PROBE_TIMEOUTS.serverAnswer);
    answer = {
      kind: a.kind,
      version: a.kind === 'server-hello' ? a.version : null,
      cipher: a.kind === 'server-hello' ? suiteName(a.cipher) : null,
      alert: a.kind === 'alert' ? a.name : null,
      description: a.kind === 'alert' ? a.description : null,
    };
  } finally {
    opened.socket.destroy();
  }
  out.tlsSurface.hello = { ...answer, localPort: opened.localPort };
  out.assertions.push(...expectationAssertions('hello', check.expect, answer));
  if (opened.localPort !== null) {
    const conn = { address, port: opened.localPort, since };
    await inboundSmtpd.waitForEnd(log, conn);
    const own = inboundSmtpd.events(log, conn);
    addEvents(out, own);
    if (check.serverLog || check.serverLogCounts) out.assertions.push(...serverLogAssertions(check, own, answer));
  }
};
