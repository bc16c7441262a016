import { LabError } from '../core/errors.js';
import { runRawClient } from '../smtp/raw-client.js';
import type { TlsClientOptions } from '../tls/node-tls.js';
import type { ClientName, TlsMode, TlsObservation } from '../tls/observation.js';

/** What every lab client is asked to do; each maps it to its own knobs. */
export interface ClientRequest {
  readonly host: string;
  readonly port: number;
  readonly mode: TlsMode;
  readonly ehloName?: string;
  readonly tls: TlsClientOptions;
  readonly forceStarttls?: boolean;
  readonly plaintextProbe?: string;
  readonly stopAfter?: 'banner' | 'ehlo' | 'handshake';
  readonly message?: { readonly from: string; readonly to: readonly string[]; readonly data: string };
}

export interface ClientOutcome {
  readonly observation: TlsObservation;
  readonly extra: Readonly<Record<string, unknown>>;
}

export type LabClient = (req: ClientRequest) => Promise<ClientOutcome>;

const CLIENTS: Partial<Record<ClientName, LabClient>> = {
  raw: async (req) => {
    const r = await runRawClient(req);
    return { observation: r.observation, extra: r.probeReply ? { plaintextProbeReply: r.probeReply } : {} };
  },
};

export function labClient(name: ClientName): LabClient {
  const c = CLIENTS[name];
  if (!c) throw new LabError('ETOOL', `client '${name}' is not available in this version of the lab`);
  return c;
}
