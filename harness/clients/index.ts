import { LabError } from '../core/errors.js';
import { runRawClient } from '../smtp/raw-client.js';
import { amendObservation } from '../tls/observation-builder.js';
import { runNodemailer } from './nodemailer.js';
import { runOpenssl } from './openssl.js';
import { runGnutls } from './gnutls.js';
import type { LabClientContainer } from '../lab/client-container.js';
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
  readonly injectAfterStarttls?: string;
  readonly renegotiate?: boolean;
  /** Connect twice; the second connection offers the first one's session. The observation is the second's. */
  readonly resume?: boolean;
  readonly stopAfter?: 'banner' | 'ehlo' | 'handshake';
  readonly message?: { readonly from: string; readonly to: readonly string[]; readonly data: string };
  readonly auth?: { readonly mechanism: 'PLAIN' | 'LOGIN'; readonly user: string; readonly pass: string };
  readonly timeouts?: Partial<{ connect: number; banner: number; reply: number; handshake: number }>;
  /** GnuTLS priority string (the gnutls client only; the loader refuses it for the others). */
  readonly gnutlsPriority?: string;
}

export interface ClientOutcome {
  readonly observation: TlsObservation;
  readonly extra: Readonly<Record<string, unknown>>;
}

/** What a client may need besides the request: the scenario's client container and key material. */
export interface ClientContext {
  /** The container openssl and gnutls run in: the scenario's client container, or one of the check's clientStack. */
  clientContainer(): Promise<LabClientContainer>;
  readonly trustBundle: string | null;
  readonly clientCert: { readonly cert: string; readonly key: string } | null;
}

export type LabClient = (req: ClientRequest, ctx: ClientContext) => Promise<ClientOutcome>;

const CLIENTS: Partial<Record<ClientName, LabClient>> = {
  nodemailer: (req) => runNodemailer(req),
  openssl: async (req, ctx) => {
    const container = await ctx.clientContainer();
    let caFile: string | null = null;
    if (ctx.trustBundle) {
      caFile = '/tmp/lab-ca.crt';
      await container.putFile(caFile, ctx.trustBundle, 0o644);
    }
    return runOpenssl(req, container, { caFile, cert: ctx.clientCert });
  },
  gnutls: async (req, ctx) => {
    const container = await ctx.clientContainer();
    let caFile: string | null = null;
    if (ctx.trustBundle) {
      caFile = '/tmp/lab-ca.crt';
      await container.putFile(caFile, ctx.trustBundle, 0o644);
    }
    return runGnutls(req, container, { caFile, cert: ctx.clientCert });
  },
  raw: async (req) => {
    if (req.resume) {
      const { resume: _resume, ...once } = req;
      const first = await runRawClient(once);
      const second = await runRawClient({ ...once, tls: { ...once.tls, ...(first.session ? { session: first.session } : {}) } });
      const observation = amendObservation(second.observation, { resumption: { firstConnectionGotSession: first.session !== null, offered: first.session !== null } });
      return { observation, extra: { firstConnection: first.observation } };
    }
    const r = await runRawClient(req);
    return { observation: r.observation, extra: r.probeReply ? { plaintextProbeReply: r.probeReply } : {} };
  },
};

export function labClient(name: ClientName): LabClient {
  const c = CLIENTS[name];
  if (!c) throw new LabError('ETOOL', `client '${name}' is not available in this version of the lab`);
  return c;
}
