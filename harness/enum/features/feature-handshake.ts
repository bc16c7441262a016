import tls from 'node:tls';
import { asLabError, type LabError } from '../../core/errors.js';
import type { ProbeVersion } from '../cipher-suites.js';
import type { ProbeFeatures } from '../probe-result.js';
import { NODE_VERSION, type Prober } from '../prober.js';
import type { CompletedHandshake } from '../starttls-transport.js';
import { peerChainDer } from './certificate.js';
import { clientRenegotiation } from './renegotiation.js';

/**
 * The probe's one complete node:tls handshake that several features read: the capabilities
 * inside TLS (STARTTLS dialogue), the certificate when the enumeration could not see it (TLS
 * 1.3 only), a session to resume by ticket, and (TLS <= 1.2) a client-initiated renegotiation.
 */

export interface FeatureHandshake {
  readonly capabilitiesAfter: readonly string[] | null;
  readonly bannerInTls: CompletedHandshake['bannerInTls'];
  readonly peerChain: readonly Buffer[];
  readonly session: Buffer | null;
  /** null in TLS 1.3 (no renegotiation there). */
  readonly renegotiation: { readonly value: NonNullable<ProbeFeatures['clientRenegotiation']>; readonly error: null } | { readonly value: null; readonly error: LabError } | null;
}

/** node:tls options for a complete handshake at exactly `hv`, at security level 0 so every suite the server may pick is allowed. */
export function handshakeOptions(hv: ProbeVersion, sni: string | undefined): tls.ConnectionOptions {
  const nodeVersion = NODE_VERSION[hv]!;
  return {
    minVersion: nodeVersion,
    maxVersion: nodeVersion,
    ciphers: hv === 'TLSv1.3' ? 'DEFAULT:@SECLEVEL=0' : 'ALL:COMPLEMENTOFALL:@SECLEVEL=0',
    ...(sni !== undefined ? { servername: sni } : {}),
  };
}

export async function featureHandshake(p: Prober, hv: ProbeVersion, base: tls.ConnectionOptions): Promise<FeatureHandshake> {
  let session: Buffer | null = null;
  const hs = await p.handshake(`${hv} complete handshake`, base, (s) => (session = s));
  try {
    const peerChain = peerChainDer(hs.socket);
    session ??= hs.socket.getSession() ?? null;
    let renegotiation: FeatureHandshake['renegotiation'] = null;
    if (hv !== 'TLSv1.3') {
      try {
        renegotiation = { value: await clientRenegotiation(hs.socket, p.timeouts.handshake), error: null };
      } catch (e) {
        renegotiation = { value: null, error: asLabError(e) };
      }
    }
    return { capabilitiesAfter: hs.capabilitiesAfter, bannerInTls: hs.bannerInTls, peerChain, session, renegotiation };
  } finally {
    hs.socket.destroy();
  }
}
