// The README's library example, as it runs: the README shows this file whole.
// It imports the lab by its package name, as your own tests would ('smtp-tls-lab' resolves to
// the compiled build/index.js through package.json "exports"; its types come from harness/index.ts).
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEngine, ensureImage, labMatchers, loadScenario, runRawClient, ScenarioSession, type TlsObservation } from 'smtp-tls-lab';

expect.extend(labMatchers);

describe('my Postfix on port 25', () => {
  let session: ScenarioSession;
  let modern: TlsObservation; // a default client that trusts the lab CA
  let tls11: TlsObservation; // a client that offers only TLS 1.1

  beforeAll(async () => {
    await ensureEngine();
    const { tag } = await ensureImage('postfix');
    // Any scenario folder (scenario.json, main.cf, master.cf); here the lab's own opportunistic-25.
    session = await ScenarioSession.start(loadScenario(fileURLToPath(new URL('../../../scenarios/opportunistic-25', import.meta.url))), tag);
    const { host, port } = session.postfix.endpoint('smtp');
    modern = (await runRawClient({ host, port, mode: 'starttls', tls: { ca: session.certs.pki.trustBundle, verifyName: 'mx.lab.test' } })).observation;
    tls11 = (await runRawClient({ host, port, mode: 'starttls', tls: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', securityLevel: 0 } })).observation;
    // Postfix's log arrives on its own stream: wait for the summary line of the first connection.
    await session.postfix.log.waitFor('TLS summary', (e) => e.type === 'tls-established' && e.peer.port === modern.localPort, 10_000);
  }, 180_000);

  afterAll(async () => {
    await session?.stop();
  });

  it('offers STARTTLS and negotiates TLS 1.3', () => {
    expect(modern).toAdvertise('STARTTLS');
    expect(modern).toNegotiate({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' });
    expect(modern.tls?.verification.verified).toBe(true);
  });

  it('logs the same handshake, from an anonymous client', () => {
    expect(session.postfix.log).toHaveLogged({ type: 'tls-established', trust: 'Anonymous', protocol: 'TLSv1.3', peer: { port: modern.localPort! } });
    expect(session.postfix.log).toNegotiate({ protocol: 'TLSv1.3' });
  });

  it('refuses TLS 1.1 in the handshake', () => {
    expect(tls11).toFailAt('handshake');
    expect(tls11).not.toNegotiate();
  });

  it('and each matcher fails, saying what it saw, when the server does not do it', () => {
    expect(() => expect(modern).toNegotiate({ protocol: 'TLSv1.2' })).toThrow(/it negotiated TLSv1\.3 with TLS_AES_256_GCM_SHA384/);
    expect(() => expect(modern).toAdvertise('STARTTLS', { when: 'after-tls' })).toThrow(/to advertise STARTTLS \(after-tls\); after TLS: /);
    expect(() => expect(session.postfix.log).toHaveLogged({ trust: 'Verified' })).toThrow(/Anonymous TLS connection established from/);
    expect(() => expect(modern).toFailAt('handshake')).toThrow(/it did not fail \(negotiated TLSv1\.3/);
    expect(() => expect(tls11).toFailAt('starttls')).toThrow(/it failed at handshake: ETLS: .*protocol version/);
  });
});
