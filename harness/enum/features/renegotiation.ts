import type tls from 'node:tls';
import { LabError } from '../../core/errors.js';
import { renegotiate } from '../../tls/renegotiate.js';
import type { ProbeFeatures } from '../probe-result.js';
import type { ServerHelloAnswer } from '../server-answer.js';

/**
 * Renegotiation: RFC 5746 secure renegotiation (renegotiation_info in the ServerHello of the
 * highest version up to TLS 1.2), and a client-initiated renegotiation on a completed
 * handshake. The latter uses the lab's one renegotiation helper; a server that neither
 * performs it nor answers within the handshake timeout has not performed it (OpenSSL servers
 * that refuse may send only a warning alert, which leaves the client waiting).
 */

export function secureRenegotiation(legacyTopFirst: ServerHelloAnswer | null): boolean | null {
  return legacyTopFirst ? legacyTopFirst.secureRenegotiation : null;
}

export async function clientRenegotiation(sock: tls.TLSSocket, timeoutMs: number): Promise<NonNullable<ProbeFeatures['clientRenegotiation']>> {
  const r = await renegotiate(sock, timeoutMs);
  if (r.accepted) return { accepted: true, detail: 'the server completed a client-initiated renegotiation' };
  // Our side could not ask: that says nothing about the server, so it is the feature's error, not a refusal.
  if (r.error?.startsWith('the client could not start')) throw new LabError('ECLIENT_CAPABILITY', r.error, { stage: 'handshake' });
  const closed = r.connectionClosed ? '; the server closed the connection' : '';
  return { accepted: false, detail: `refused: ${r.error ?? 'no reason given'}${closed}` };
}
